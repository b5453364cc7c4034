"""The ground truth equals every rule definition of docs/rules.md applied to the history.

The recomputation (rulebook.py) is deliberately plain (dicts and loops over the written file);
it guards the generator, which derives its truth from its own decisions instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cdi.history import read_events
from cdi.simulation import Simulation, SimulationOptions, simulate, write_simulation

from .reading import code_class, ms
from .rulebook import CRD_LATE, NEW_RULES, NOT_CRIMED, recompute


def test_truth_matches_the_rules_on_the_default_history(default_sim: Simulation) -> None:
    assert default_sim.truth == recompute(default_sim.events, 24.0)
    kinds = {(t["rule"], t["type"]) for t in default_sim.truth}
    assert {(NOT_CRIMED, "finding.raised"), (NOT_CRIMED, "finding.resolved"), (CRD_LATE, "finding.raised")} <= kinds
    raised = {(rule, "finding.raised") for rule in (NOT_CRIMED, CRD_LATE, *NEW_RULES)}
    assert kinds <= raised | {(NOT_CRIMED, "finding.resolved")}
    counts = default_sim.counts
    assert counts["truth"] == len(default_sim.truth)
    per_rule = sum(counts[f"{rule.lower()}_raised"] for rule in NEW_RULES)
    assert counts["not_crimed_raised"] + counts["not_crimed_resolved"] + counts["crd_late_raised"] + per_rule == len(
        default_sim.truth
    )


def test_truth_matches_the_rules_on_the_month(month_sim: Simulation) -> None:
    assert month_sim.truth == recompute(month_sim.events, 24.0)
    raised = {t["rule"] for t in month_sim.truth}
    assert set(NEW_RULES) <= raised


@pytest.mark.parametrize(
    "options",
    [
        SimulationOptions(days=3, seed=5, deadline_hours=6, late_rate=0.3, not_recorded_rate=0.2),
        SimulationOptions(days=2, seed=6, extract_lag_hours=0, disorder_minutes=0, duplicate_rate=0.1),
        SimulationOptions(days=2, seed=7, deadline_hours=1, extract_lag_hours=100, explained_rate=0.4),
        SimulationOptions(days=1, seed=8, incidents_per_day=50, disorder_minutes=9.9, disorder_share=1),
        SimulationOptions(
            days=12,
            seed=9,
            disorder_minutes=9.99,
            duplicate_rate=0.05,
            one_crime_per_victim_rate=0.6,
            close_category_downgrade_rate=0.3,
            caution_indictable_only_rate=0.8,
            caution_specified_either_way_rate=0.5,
            repeat_caution_rate=0.4,
            pnd_ineligible_rate=0.3,
            cannabis_escalation_rate=0.9,
            cr_ineligible_rate=0.3,
            fast_unsuccessful_rate=0.9,
            cancel_without_avi_rate=0.7,
            reclass_down_no_reason_rate=0.7,
        ),
        SimulationOptions(days=10, seed=10, incidents_per_day=300, extract_lag_hours=400, deadline_hours=48),
    ],
    ids=["short-deadline", "no-extract-lag", "one-hour-deadline", "small-noisy", "many-breaches", "long-tail"],
)
def test_truth_matches_the_rules_under_other_options(options: SimulationOptions) -> None:
    sim = simulate(options)
    assert sim.truth == recompute(sim.events, options.deadline_hours)


def test_truth_file_shape_and_order(tmp_path: Path, default_sim: Simulation) -> None:
    history, truth = tmp_path / "h.jsonl", tmp_path / "t.jsonl"
    write_simulation(default_sim, history, truth)
    rows = list(read_events(truth))
    assert rows == default_sim.truth
    for row in rows:
        assert list(row) == ["type", "finding_id", "rule", "subject", "division", "occurred_at"]
        assert row["finding_id"] == f"{row['rule']}/{row['subject']['kind']}/{row['subject']['id']}"
    keys = [(ms(r["occurred_at"]), r["finding_id"], r["type"]) for r in rows]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_boundary_cases_are_present(default_sim: Simulation, distinct_events: list[dict[str, Any]]) -> None:
    """The deadline runs from the disclosure (the first crime-indicative code) to the recording
    decision (crd_at, else the record's time): docs/rules.md, rules-review 1.1 point 1 and 1.2."""
    day = 24 * 3_600_000
    disclosed: dict[str, int] = {}
    for e in distinct_events:
        p = e["payload"]
        code = p.get("opening_code") or p.get("to_code") or p.get("closing_code")
        if e["type"].startswith("incident.") and code_class(code) == "crime":
            at = ms(e["occurred_at"])
            disclosed[p["incident_id"]] = min(at, disclosed.get(p["incident_id"], at))
    late_ids = {t["subject"]["id"] for t in default_sim.truth if t["rule"] == CRD_LATE}
    raised = {t["subject"]["id"] for t in default_sim.truth if t["rule"] == NOT_CRIMED}
    on_deadline, just_late = [], []
    for crime in distinct_events:
        p = crime["payload"]
        if crime["type"] != "crime.recorded" or p["incident_id"] not in disclosed:
            continue
        decided = ms(p["crd_at"]) if p.get("crd_at") else ms(crime["occurred_at"])
        delay = decided - disclosed[p["incident_id"]]
        if delay == day:
            on_deadline.append(p)
        elif day < delay <= day + 1000:
            just_late.append(p)
    # Exactly 24 h is in time: no CRD_LATE (nor NOT_CRIMED, when the record itself is in time).
    assert on_deadline
    assert not {p["crime_id"] for p in on_deadline} & late_ids
    assert not {p["incident_id"] for p in on_deadline if not p.get("crd_at")} & raised
    # 1 ms or 1 s past it is late: both findings.
    assert just_late
    assert {p["crime_id"] for p in just_late} <= late_ids
    assert {p["incident_id"] for p in just_late if not p.get("crd_at")} <= raised
    # Decisions dated apart from the record sit on both sides of the limit.
    assert any(p.get("crd_at") for p in on_deadline) and any(p.get("crd_at") for p in just_late)

    # Never-recorded incidents whose deadline falls after the file's last event: no finding.
    t_end = max(ms(e["occurred_at"]) for e in distinct_events)
    crimed = {e["payload"]["incident_id"] for e in distinct_events if e["type"] == "crime.recorded"}
    unrecorded_past_end = [i for i in disclosed.keys() - crimed if disclosed[i] + day > t_end]
    assert unrecorded_past_end
    assert not set(unrecorded_past_end) & raised
    # And some findings fall due right up to the end of the file.
    assert max(ms(t["occurred_at"]) for t in default_sim.truth) > t_end - 3 * 3_600_000
