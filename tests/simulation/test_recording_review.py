"""The simulator exercises the recording points of the legal review (shared/rules-review.md 1.1,
1.2; section 5 point 7: "follow-ups <=12 h, so the clock-start defect never shows"), and the
backtest of its history finds exactly its truth, review findings included."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from cdi import backtest
from cdi.simulation import Simulation, write_simulation
from cdi.simulation.incidents import N100_CODE

from .reading import INCIDENT_CODES, code_class, ms

HOUR = 3_600_000
NOT_CRIMED = "CRIME_INDICATIVE_INCIDENT_NOT_CRIMED"


def _disclosures(events: list[dict[str, Any]]) -> tuple[dict[str, int], dict[str, int]]:
    """Per incident: report time, and time of the first crime-indicative code."""
    opened, disclosed = {}, {}
    for e in events:
        p = e["payload"]
        if e["type"] == "incident.opened":
            opened[p["incident_id"]] = ms(e["occurred_at"])
        code = p.get("opening_code") or p.get("to_code") or p.get("closing_code")
        if e["type"].startswith("incident.") and code_class(code) == "crime":
            at = ms(e["occurred_at"])
            disclosed[p["incident_id"]] = min(at, disclosed.get(p["incident_id"], at))
    return opened, disclosed


def test_late_disclosures_beyond_a_day_are_checked_24_hours_after_the_disclosure(
    default_sim: Simulation, distinct_events: list[dict[str, Any]]
) -> None:
    """rules-review 1.1 point 1 [K], section 5 point 7: disclosures more than 12 h (and more than
    24 h) after the report, each unrecorded one raised 24 h after its disclosure, not at it."""
    opened, disclosed = _disclosures(distinct_events)
    gaps = {i: disclosed[i] - opened[i] for i in disclosed}
    assert sum(g > 12 * HOUR for g in gaps.values()) >= 10
    beyond_a_day = {i for i, g in gaps.items() if g > 24 * HOUR}
    assert beyond_a_day
    raised = {
        t["subject"]["id"]: ms(t["occurred_at"])
        for t in default_sim.truth
        if t["rule"] == NOT_CRIMED and t["type"] == "finding.raised"
    }
    late_raised = beyond_a_day & raised.keys()
    assert late_raised  # first contact would have raised these at the disclosure itself
    assert all(raised[i] == disclosed[i] + 24 * HOUR for i in late_raised)
    assert default_sim.counts["late_disclosures"] >= len(beyond_a_day)


def test_the_history_carries_the_review_fields(default_sim: Simulation, distinct_events: list[dict[str, Any]]) -> None:
    """rules-review 1.1 points 2 and 3, 1.2: N100 records of rape reports, Crime Recording Decision
    times apart from the record, and victim_informed true, false and unknown on closures."""
    records = [e["payload"] for e in distinct_events if e["type"] == "crime.recorded"]
    n100 = [p for p in records if p.get("record_kind") == "n100"]
    assert n100 and len(n100) == default_sim.counts["n100_records"]
    assert all(p["hocr_code"] == N100_CODE.code for p in n100)
    assert sum("crd_at" in p for p in records) == default_sim.counts["records_with_crd_at"] > 100
    assert all(p["crd_at"] <= "9" for p in records if "crd_at" in p)  # RFC 3339 text
    informed = Counter(e["payload"].get("victim_informed") for e in distinct_events if e["type"] == "incident.closed")
    assert informed[True] and informed[False] and informed[None]
    closures = {e["payload"]["closing_code"] for e in distinct_events if e["type"] == "incident.closed"}
    assert "CRIME_RELATED_INCIDENT" in closures
    assert any(row["rape"] == "true" for row in INCIDENT_CODES.values())


def test_backtest_of_the_default_history_equals_the_truth_with_review_findings(
    tmp_path: Path, default_sim: Simulation
) -> None:
    """The monitor's findings on the simulated history are exactly the truth (type, id, time), and
    the new review cases (sink closure of violence or a sexual offence, victim not told) are
    raised for review, not as breaches."""
    history = tmp_path / "h.jsonl"
    write_simulation(default_sim, history)
    result = backtest.run(history)
    found = sorted(
        (f.type, f.payload.finding_id, f.occurred_at)
        for f in result.findings
        if f.type in ("finding.raised", "finding.resolved")
    )
    assert found == sorted((t["type"], t["finding_id"], t["occurred_at"]) for t in default_sim.truth)
    reviews = [
        f.payload.explanation
        for f in result.findings
        if f.type == "finding.raised" and f.payload.rule == NOT_CRIMED and f.payload.assessment == "review"
    ]
    assert any("is a catch-all code outside the count" in text for text in reviews)
    assert any("the victim was not told the report would not be recorded" in text for text in reviews)
    assert any("check for a crime under another reference" in text for text in reviews)
