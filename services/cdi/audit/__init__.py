"""The offline audit (issue 12): what inspectors measure, estimated from a reviewed random sample.

- ``population``: the units of a period an auditor may be asked to read, from a history run
  through the monitor: crime-indicative incidents of every result, incidents closed to a
  non-crime or catch-all code, out-of-court disposals and the findings raised, each in a stratum.
- ``allocation``: how many units to draw per stratum, from a total or from a target interval width.
- ``sample``: the seeded stratified draw, written as an ``audit.sample`` event (a named batch).
- ``verdicts``: reviewers' verdicts as ``audit.verdict`` events, and the simulated reviewer.
- ``intervals`` and ``estimates``: recording accuracy, unrecorded crimes, each rule's precision,
  the blind-spot rate and the share of appropriate disposals, each with its 95% interval.
- ``truth``: the simulator's audit truth, for comparing an estimate with the true value.

docs/audit.md explains the method and its limits.
"""
