"""The simulator's audit truth (``cdi simulate --audit-truth``): for every unit of a simulated
period, what a perfect reviewer would say. One JSON object a line:

- ``{"kind": "incident", "id", "division", "offence_group", "hocr_code", "should_record":
  "crime" | "no_crime" | "n100", "recorded": bool, "due_in_history": bool | null, "hidden": null |
  how the monitor cannot see it}``
- ``{"kind": "finding", "id", "rule", "division", "incident_id": INC | null, "breach": bool,
  "reason": null | why not}``
- ``{"kind": "disposal", "id", "crime_id", "division", "offence_group", "appropriate": bool}``

``true_values`` gives the true value of each figure ``cdi audit estimate`` estimates, by the
definitions of the simulator's ``true_rates`` (cdi.simulation.audit_truth; the tests hold the two
equal): recording accuracy = recorded in time / should be crimes whose deadline passed in the
history; blind-spot rate = of those crimes not recorded, the share with no finding on the incident
(its own, or CRD_LATE on a record linked to it); a rule's precision = its breaches / its findings;
the share of disposals that are appropriate. This module reads the file only: the monitor does not
depend on the simulator.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping
from pathlib import Path
from typing import Any

from cdi.history import read_events

UNKNOWN_GROUP = "unknown"


def read(path: str | Path) -> list[dict[str, Any]]:
    return list(read_events(path))


def flagged_incidents(units: Iterable[Mapping[str, Any]]) -> set[str]:
    """Incidents with a finding on them: the finding's ``incident_id``, else the subject of its id
    (RULE/incident/ID)."""
    out = set()
    for unit in units:
        if unit.get("kind") != "finding":
            continue
        if unit.get("incident_id"):
            out.add(str(unit["incident_id"]))
            continue
        parts = str(unit["id"]).split("/", 2)
        if len(parts) == 3 and parts[1] == "incident":
            out.add(parts[2])
    return out


def _share(units: list[Mapping[str, Any]], hit: Callable[[Mapping[str, Any]], bool]) -> float | None:
    return sum(1 for unit in units if hit(unit)) / len(units) if units else None


def _incident_rates(incidents: list[Mapping[str, Any]], flagged: set[str]) -> dict[str, float | None]:
    crimes = [u for u in incidents if u.get("should_record") == "crime" and u.get("due_in_history") is not False]
    missed = [u for u in crimes if not u.get("recorded")]
    return {
        "recording_accuracy": _share(crimes, lambda u: bool(u.get("recorded"))),
        "blind_spot_rate": _share(missed, lambda u: str(u["id"]) not in flagged),
    }


def true_values(units: Iterable[Mapping[str, Any]], frame: Container[tuple[str, str]] | None = None) -> dict[str, Any]:
    """The true values over the units of ``frame`` ((kind, id) pairs: the audited period's
    population), or over every unit. Whether an incident was flagged is read from every finding,
    in the frame or not (a finding raised after the period's end on an incident in it counts)."""
    every = list(units)
    flagged = flagged_incidents(every)
    if frame is not None:
        every = [u for u in every if (u.get("kind"), str(u.get("id"))) in frame]
    incidents = [u for u in every if u.get("kind") == "incident"]
    findings = [u for u in every if u.get("kind") == "finding"]
    disposals = [u for u in every if u.get("kind") == "disposal"]
    out: dict[str, Any] = _incident_rates(incidents, flagged)
    out["unrecorded_count"] = sum(
        1
        for u in incidents
        if u.get("should_record") == "crime" and u.get("due_in_history") is not False and not u.get("recorded")
    )
    rules: dict[str, list[Mapping[str, Any]]] = {}
    for unit in findings:
        rules.setdefault(str(unit.get("rule")), []).append(unit)
    out["rule_precision"] = {rule: _share(items, lambda u: bool(u.get("breach"))) for rule, items in rules.items()}
    out["disposals_appropriate"] = _share(disposals, lambda u: bool(u.get("appropriate")))
    by: dict[str, dict[str, dict[str, float | None]]] = {}
    for dimension, key in (
        ("division", lambda u: str(u.get("division"))),
        ("offence_group", lambda u: str(u.get("offence_group") or UNKNOWN_GROUP)),
    ):
        domains: dict[str, list[Mapping[str, Any]]] = {}
        for unit in incidents:
            domains.setdefault(key(unit), []).append(unit)
        by[dimension] = {name: _incident_rates(items, flagged) for name, items in domains.items()}
    out["by"] = by
    return out
