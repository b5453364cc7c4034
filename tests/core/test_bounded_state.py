"""Bounded state (docs/architecture.md, "Bounded state"): a history snapshot replaces the one
before it, older ones go once the watermark passes the newer one, disposals no rule can count
are not kept, and an event that would take one case past a size bound is rejected as
`case_too_large` without changing anything."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from cdi.core.offenders import OffenderCase
from cdi.core.pipeline import INCIDENTS, OFFENDERS, Monitor, OfflineRun
from cdi.core.stage import CASE_TOO_LARGE, DUPLICATE
from cdi.core.times import MS_PER_DAY, epoch_day
from tests.core.scenario import CONFIG, CONTRACTS, MONITOR, REFERENCE, Scenario, ids, of_rule, run

P = "PR-0000aaaa"
VIOLENCE = "violence_against_the_person"


def offline(records: list[dict], monitor: Monitor = MONITOR) -> tuple[OfflineRun, list]:
    run_ = OfflineRun.start(monitor)
    steps = [run_.process(CONTRACTS.parse(r)) for r in records]
    return run_, steps


# -- a snapshot replaces the one before it -------------------------------------------------------------


def test_the_latest_snapshot_at_or_before_a_decision_is_the_history():
    s = Scenario()
    s.crime("C0", None, 1, "105A", VIOLENCE)
    s.crime("C1", None, 2, "8N", VIOLENCE)
    s.history(P, 10, [("adult_caution", VIOLENCE, "2025-06-01")])
    s.outcome("C0", 15, 3)  # judged on the first snapshot: a repeat caution
    s.history(P, 20, [("conviction", "theft", "2025-06-01")])  # the record as corrected
    s.outcome("C1", 30, 3, offender=P)  # judged on the second: the earlier caution (C0) only
    findings = of_rule(run(s.records)[0], "REPEAT_CAUTION_2Y")
    assert {f.payload.subject.id for f in findings} == {"C0", "C1"}
    [second] = [f for f in findings if f.payload.subject.id == "C1"]
    assert "ev-0003" not in second.payload.evidence  # not the superseded snapshot
    assert "ev-0004" in second.payload.evidence  # the caution the monitor saw


def test_a_disposal_listed_on_two_snapshots_counts_once():
    s = Scenario()
    s.crime("C1", None, 1, "9A", "public_order_offences")
    listed = [("conviction", "theft", "2025-01-01"), ("conviction", "drug_offences", "2025-05-01")]
    s.history(P, 10, listed)
    s.history(P, 20, listed)
    s.outcome("C1", 30, 6)
    assert of_rule(run(s.records)[0], "PND_ELIGIBILITY") == []  # 2 disposals, not 4: no "significant history"


def test_a_disposal_the_monitor_saw_and_a_later_snapshot_lists_counts_once():
    s = Scenario()
    s.crime("C1", None, 1, "49", "theft")
    s.outcome("C1", 10, 8)  # a community resolution on 2026-03-02, seen by the monitor
    s.history(P, 20, [("community_resolution", "theft", "2026-03-02"), ("conviction", "drug_offences", "2025-05-01")])
    s.crime("C2", None, 30, "9A", "public_order_offences")
    s.outcome("C2", 72, 6)
    assert of_rule(run(s.records)[0], "PND_ELIGIBILITY") == []  # 2 disposals, not 3
    s.history(  # the record, later: a third disposal makes it significant
        P,
        50,
        [
            ("community_resolution", "theft", "2026-03-02"),
            ("conviction", "drug_offences", "2025-05-01"),
            ("conviction", "theft", "2025-09-01"),
        ],
    )
    s.records.sort(key=lambda r: r["occurred_at"])
    [finding] = of_rule(run(s.records)[0], "PND_ELIGIBILITY")
    assert "3 disposals within 730 days" in finding.payload.explanation


# -- older snapshots are pruned at event times, whatever the arrival order ---------------------------


def test_older_snapshots_are_dropped_once_the_watermark_passes_a_newer_one():
    s = Scenario()
    for n, hours in enumerate((10, 20, 30)):
        s.history(P, hours, [("conviction", "theft", f"2025-0{n + 1}-01")])
    s.crime("C9", None, 30, "49", "theft")  # the crime stage, whose disposals the offenders wait for, too
    run_, _ = offline(s.records)
    case = run_.states[OFFENDERS].cases[P]
    assert [snap[1] for snap in case.snapshots] == ["ev-0002", "ev-0003"]  # the watermark is short of 30 h
    s.history("PR-0000bbbb", 40, [])
    s.crime("C10", None, 40, "49", "theft")
    for event in s.events()[-2:]:
        run_.process(event)
    assert [snap[1] for snap in case.snapshots] == ["ev-0003"]


def test_pruning_and_findings_do_not_depend_on_arrival_order():
    s = Scenario()
    s.crime("C1", None, 10.0, "105A", VIOLENCE)
    s.history(P, 10.00, [("adult_caution", VIOLENCE, "2025-06-01")])
    s.history(P, 10.05, [("conviction", "theft", "2025-06-01")])
    s.outcome("C1", 10.08, 3)  # between the second and third snapshot: judged on the second
    s.history(P, 10.10, [("adult_caution", VIOLENCE, "2025-07-01")])
    s.crime("C9", None, 11, "49", "theft")
    results = set()
    for order in itertools.permutations(range(1, 5)):
        records = [s.records[0], *(s.records[i] for i in order), s.records[5]]
        run_, steps = offline(records)
        found = [f for step in steps for f in step.findings] + run_.finish().findings
        case = run_.states[OFFENDERS].cases[P]
        results.add((tuple(ids(of_rule(found, "REPEAT_CAUTION_2Y"))), repr(case.to_dict())))
    [(found, _)] = results
    assert found == ()


def test_disposals_no_rule_can_count_are_not_kept():
    horizon = MONITOR.stages[OFFENDERS].logic.horizon_days
    s = Scenario()
    # Not theft: a retail-theft penalty notice counts earlier theft disposals at any time (rules-review 1.8).
    s.history(P, 10, [("conviction", "public_order_offences", "2016-01-01"), ("conviction", "theft", "2025-01-01")])
    run_, _ = offline(s.records)
    [snapshot] = run_.states[OFFENDERS].cases[P].snapshots
    assert [row[3] for row in snapshot[2]] == [epoch_day("2025-01-01")]
    case = OffenderCase("P", "F", "D", 0)
    today = 20_000
    case.observed = [
        [0, "o1", "adult_caution", "theft", None, today - horizon - 1],
        [0, "o2", "adult_caution", "theft", None, today - horizon],
    ]
    case.prune(today * MS_PER_DAY, horizon)
    assert [row[1] for row in case.observed] == ["o2"]
    # The longest window (730 days) plus the oldest crime a decision can still concern (365) and 2.
    assert horizon == 730 + 365 + 2


# -- per-case size bounds ----------------------------------------------------------------------------


def test_an_event_beyond_the_case_event_bound_is_rejected_and_changes_nothing():
    monitor = Monitor(replace(CONFIG, max_case_events=3), REFERENCE)
    s = Scenario()
    s.opened("I1", 0)
    s.updated("I1", 1, "ASSAULT", "ASSAULT")
    s.updated("I1", 2, "ASSAULT", "ASSAULT")
    s.closed("I1", 30, "CRIME_RECORDED")  # the fourth event for one incident
    run_, steps = offline(s.records, monitor)
    state = run_.states[INCIDENTS]
    assert [step.rejected for step in steps] == [None, None, None, CASE_TOO_LARGE]
    assert state.clock.max_seen == s.events()[3].at  # its input got that far: the clock moved
    assert state.cases["I1"].closed_at is None
    assert run_.process(CONTRACTS.parse(s.records[1])).rejected == DUPLICATE  # duplicates stay duplicates


def test_a_snapshot_beyond_the_disposal_bound_is_rejected():
    monitor = Monitor(replace(CONFIG, max_history_disposals=4), REFERENCE)
    three = [("conviction", "theft", f"2025-0{n}-01") for n in (1, 2, 3)]
    s = Scenario()
    s.history(P, 10, three)
    s.history(P, 20, three[:1])  # 3 + 1 held
    s.history(P, 21, three[:1])  # 5: past the bound while the watermark has not reached 20 h
    s.history("PR-0000bbbb", 22, [*three, ("conviction", "theft", "2025-04-01"), ("conviction", "theft", "2025-05-01")])
    s.history("PR-0000cccc", 40, [])  # the watermark passes 20 h: the first snapshot goes
    s.crime("C9", None, 40, "49", "theft")
    s.history(P, 41, three[:2])  # 1 + 2 held
    _, steps = offline(s.records, monitor)
    assert [step.rejected for step in steps] == [None, None, CASE_TOO_LARGE, CASE_TOO_LARGE, None, None, None]


def test_the_default_bounds():
    assert (CONFIG.max_case_events, CONFIG.max_history_disposals) == (500, 2000)
    assert CONFIG.max_history_disposals >= 2 * 500  # at least a full snapshot (schema maxItems) and its successor


# -- property: snapshot replacement and pruning give the offline findings in the stream topology ------

history_case = st.fixed_dictionaries(
    {
        "offender": st.sampled_from(["PR-0000aaaa", "PR-0000bbbb"]),
        "recorded": st.floats(0, 200),
        "outcome_after": st.floats(0.2, 100),
        "outcome": st.sampled_from([3, 6, 7, 8]),
        "snapshots": st.lists(
            st.tuples(
                st.floats(-150, 50),  # hours relative to the outcome: before, around and after it
                st.lists(st.sampled_from(["adult_caution", "cannabis_warning", "penalty_notice"]), max_size=3),
            ),
            max_size=3,
        ),
    }
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(history_case, min_size=1, max_size=6),
    st.integers(1, 3),
    st.integers(1, 3),
    st.randoms(use_true_random=False),
)
def test_snapshot_replacement_gives_the_offline_findings_for_any_partitioning(cases, inputs, stages, rnd):
    from cdi.core.partitioned_run import run_partitioned

    s = Scenario()
    for n, spec in enumerate(cases):
        s.crime(f"C{n}", None, spec["recorded"], "92E", "drug_offences")
        when = spec["recorded"] + spec["outcome_after"]
        for offset, kinds in spec["snapshots"]:
            dates = [f"2025-{m + 1:02d}-15" for m in range(len(kinds))]
            s.history(
                spec["offender"],
                max(0.0, when + offset),
                [(k, "drug_offences", d) for k, d in zip(kinds, dates, strict=True)],
            )
        s.outcome(f"C{n}", when, spec["outcome"], offender=spec["offender"])
    for n, record in enumerate(s.records):
        record["event_id"] = f"ev-{n:04d}"
    events = sorted((CONTRACTS.parse(r) for r in s.records), key=lambda e: (e.at, e.event_id))
    bound = CONFIG.allowed_lateness_ms - 1
    shuffled = sorted(events, key=lambda e: e.at + rnd.randint(0, bound))
    found, steps, _ = run(shuffled)
    assert all(step.rejected is None for step in steps[:-1])
    offline = sorted((f.to_dict() for f in found), key=lambda r: (r["event_id"], r["type"]))
    assert run_partitioned(MONITOR, shuffled, inputs, stages, random.Random(rnd.random())) == offline
