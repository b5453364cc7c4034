"""The ground truth equals the three rule definitions applied to the history, recomputed here.

The recomputation is deliberately plain (dicts and loops over the written file); it guards the
generator, which derives its truth from its own decisions instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cdi.history import read_events
from cdi.simulation import Simulation, SimulationOptions, simulate, write_simulation

from .reading import code_class, ms

NOT_CRIMED = "CRIME_INDICATIVE_INCIDENT_NOT_CRIMED"
CRD_LATE = "CRD_LATE"


def _stamp(at: int) -> str:
    moment = datetime.fromtimestamp(at / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds" if at % 1000 else "seconds")


def _record(kind: str, rule: str, subject: str, sid: str, division: str, at: int) -> dict[str, Any]:
    return {
        "type": kind,
        "finding_id": f"{rule}/{subject}/{sid}",
        "rule": rule,
        "subject": {"kind": subject, "id": sid},
        "division": division,
        "occurred_at": _stamp(at),
    }


def recompute(events: list[dict[str, Any]], deadline_hours: float) -> list[dict[str, Any]]:
    deadline = round(deadline_hours * 3_600_000)
    unique = {}
    for event in events:
        unique.setdefault(event["event_id"], event)
    events = list(unique.values())
    t_end = max(ms(e["occurred_at"]) for e in events)
    incidents = {e["payload"]["incident_id"]: e for e in events if e["type"] == "incident.opened"}
    incident_events: dict[str, list[dict[str, Any]]] = {iid: [] for iid in incidents}
    linked_crimes: dict[str, list[dict[str, Any]]] = {iid: [] for iid in incidents}
    for e in events:
        if e["type"].startswith("incident."):
            incident_events[e["payload"]["incident_id"]].append(e)
        elif e["type"] == "crime.recorded" and e["payload"]["incident_id"] is not None:
            linked_crimes[e["payload"]["incident_id"]].append(e)

    out = []
    for iid, opened in incidents.items():
        r = ms(opened["occurred_at"])
        own = incident_events[iid]
        linked = linked_crimes[iid]
        # Rule 3: every linked crime recorded more than the deadline after the report.
        for crime in linked:
            if ms(crime["occurred_at"]) - r > deadline:
                cid, at = crime["payload"]["crime_id"], ms(crime["occurred_at"])
                out.append(_record("finding.raised", CRD_LATE, "crime", cid, crime["division"], at))
        # Rule 1: crime-indicative, nothing recorded or explained by check_at, check_at within the file.
        crime_times = []
        for e in own:
            p = e["payload"]
            code = {
                "incident.opened": p.get("opening_code"),
                "incident.updated": p.get("to_code"),
                "incident.closed": p.get("closing_code"),
            }[e["type"]]
            if code_class(code) == "crime":
                crime_times.append(ms(e["occurred_at"]))
        if not crime_times:
            continue
        check_at = max(r + deadline, min(crime_times))
        if check_at > t_end:
            continue
        if any(ms(c["occurred_at"]) <= check_at for c in linked):
            continue
        explained = any(
            e["type"] == "incident.closed"
            and e["payload"]["rationale_recorded"]
            and code_class(e["payload"]["closing_code"]) in ("non_crime", "sink", "admin")
            and ms(e["occurred_at"]) <= check_at
            for e in own
        )
        if explained:
            continue
        division = opened["division"]
        out.append(_record("finding.raised", NOT_CRIMED, "incident", iid, division, check_at))
        # Rule 2: the earliest crime recorded after check_at resolves it.
        later = [ms(c["occurred_at"]) for c in linked if ms(c["occurred_at"]) > check_at]
        if later:
            out.append(_record("finding.resolved", NOT_CRIMED, "incident", iid, division, min(later)))
    return sorted(out, key=lambda x: (ms(x["occurred_at"]), x["finding_id"], x["type"]))


def test_truth_matches_the_rules_on_the_default_history(default_sim: Simulation) -> None:
    assert default_sim.truth == recompute(default_sim.events, 24.0)
    kinds = {(t["rule"], t["type"]) for t in default_sim.truth}
    assert kinds == {
        (NOT_CRIMED, "finding.raised"),
        (NOT_CRIMED, "finding.resolved"),
        (CRD_LATE, "finding.raised"),
    }
    counts = default_sim.counts
    assert counts["truth"] == len(default_sim.truth)
    assert counts["not_crimed_raised"] + counts["not_crimed_resolved"] + counts["crd_late_raised"] == len(
        default_sim.truth
    )


@pytest.mark.parametrize(
    "options",
    [
        SimulationOptions(days=3, seed=5, deadline_hours=6, late_rate=0.3, not_recorded_rate=0.2),
        SimulationOptions(days=2, seed=6, extract_lag_hours=0, disorder_minutes=0, duplicate_rate=0.1),
        SimulationOptions(days=2, seed=7, deadline_hours=1, extract_lag_hours=100, explained_rate=0.4),
        SimulationOptions(days=1, seed=8, incidents_per_day=50, disorder_minutes=9.9, disorder_share=1),
    ],
    ids=["short-deadline", "no-extract-lag", "one-hour-deadline", "small-noisy"],
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
    day = 24 * 3_600_000
    opened = {
        e["payload"]["incident_id"]: ms(e["occurred_at"]) for e in distinct_events if e["type"] == "incident.opened"
    }
    late_ids = {t["subject"]["id"] for t in default_sim.truth if t["rule"] == CRD_LATE}
    raised = {t["subject"]["id"] for t in default_sim.truth if t["rule"] == NOT_CRIMED}
    on_deadline, just_late = [], []
    for crime in distinct_events:
        p = crime["payload"]
        if crime["type"] != "crime.recorded" or p["incident_id"] is None:
            continue
        delay = ms(crime["occurred_at"]) - opened[p["incident_id"]]
        if delay == day:
            on_deadline.append(p)
        elif day < delay <= day + 1000:
            just_late.append(p)
    # Exactly 24 h is in time: no CRD_LATE, no NOT_CRIMED.
    assert on_deadline
    assert not {p["crime_id"] for p in on_deadline} & late_ids
    assert not {p["incident_id"] for p in on_deadline} & raised
    # 1 ms or 1 s past it is late: both findings.
    assert just_late
    assert {p["crime_id"] for p in just_late} <= late_ids
    assert {p["incident_id"] for p in just_late} <= raised

    # Never-recorded incidents whose deadline falls after the file's last event: no finding.
    t_end = max(ms(e["occurred_at"]) for e in distinct_events)
    crimed = {e["payload"]["incident_id"] for e in distinct_events if e["type"] == "crime.recorded"}
    indicative = set()
    for e in distinct_events:
        p = e["payload"]
        code = p.get("opening_code") or p.get("to_code") or p.get("closing_code")
        if e["type"].startswith("incident.") and code_class(code) == "crime":
            indicative.add(p["incident_id"])
    unrecorded_past_end = [i for i in indicative - crimed if opened[i] + day > t_end]
    assert unrecorded_past_end
    assert not set(unrecorded_past_end) & raised
    # And some findings fall due right up to the end of the file.
    assert max(ms(t["occurred_at"]) for t in default_sim.truth) > t_end - 3 * 3_600_000
