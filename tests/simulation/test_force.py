"""The synthetic force looks like a force: volumes, divisions, codes, lifecycles, failure shares."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

from cdi.simulation import Simulation, SimulationOptions, simulate

from .reading import HOCR_CODES, INCIDENT_CODES, by_type, code_class, ms

HOUR = 3_600_000
DEADLINE = 24 * HOUR


def test_reports_fall_in_the_window_with_daily_ids(default_sim: Simulation, distinct_events: list) -> None:
    options = default_sim.options
    start = ms(options.start.isoformat())
    opened = by_type(distinct_events, "incident.opened")
    assert len(opened) == default_sim.counts["incidents"]
    assert all(start <= ms(e["occurred_at"]) < start + 7 * 24 * HOUR for e in opened)
    ids = [e["payload"]["incident_id"] for e in opened]
    assert len(set(ids)) == len(ids)
    for event in opened:
        assert re.fullmatch(r"INC-\d{8}-\d{4,}", event["payload"]["incident_id"])
        assert event["payload"]["incident_id"][4:12] == event["occurred_at"][:10].replace("-", "")
        assert event["event_id"] == event["payload"]["incident_id"] + ".opened"


def test_every_division_appears_with_calibrated_weights(distinct_events: list) -> None:
    divisions = Counter(e["division"] for e in by_type(distinct_events, "incident.opened"))
    assert set(divisions) == {"NORTH", "EAST", "SOUTH", "WEST"}
    # Seattle precinct volumes: West 227 > North 201 > South 161 > East 117.
    assert divisions["WEST"] > divisions["NORTH"] > divisions["SOUTH"] > divisions["EAST"]


def test_custom_divisions_all_appear() -> None:
    sim = simulate(SimulationOptions(days=1, seed=2, divisions=("A", "B", "C", "D", "E"), force="OTHER"))
    assert {e["division"] for e in sim.events} == {"A", "B", "C", "D", "E"}
    assert {e["force"] for e in sim.events} == {"OTHER"}


def test_overnight_is_quieter_than_afternoon(distinct_events: list) -> None:
    hours = Counter(int(e["occurred_at"][11:13]) for e in by_type(distinct_events, "incident.opened"))
    overnight = sum(hours[h] for h in range(2, 7)) / 5
    afternoon = sum(hours[h] for h in range(13, 18)) / 5
    assert overnight < 0.6 * afternoon


def test_weekend_is_busier_than_midweek(distinct_events: list) -> None:
    days = Counter(e["occurred_at"][:10] for e in by_type(distinct_events, "incident.opened"))
    assert days["2026-03-07"] > days["2026-03-03"]  # Saturday > Tuesday
    assert abs(sum(days.values()) - 7 * 800) <= 7


def test_report_profile_follows_clock_hours_whatever_the_start() -> None:
    start = datetime(2026, 3, 2, 8, 30, tzinfo=timezone(timedelta(hours=1)))  # 07:30 UTC
    sim = simulate(SimulationOptions(days=2, seed=6, start=start))
    opened = by_type(sim.events, "incident.opened")
    begin = ms(start.isoformat())
    assert all(begin <= ms(e["occurred_at"]) < begin + 48 * HOUR for e in opened)
    hours = Counter(int(e["occurred_at"][11:13]) for e in opened)
    assert sum(hours[h] for h in range(2, 7)) < sum(hours[h] for h in range(13, 18))


def test_codes_come_from_the_tables_and_crimes_fit_their_incident(distinct_events: list) -> None:
    incidents: dict[str, dict[str, Any]] = {}
    for event in distinct_events:
        p = event["payload"]
        if event["type"] == "incident.opened":
            assert INCIDENT_CODES[p["opening_code"]]["stage"] in ("opening", "both")
            incidents[p["incident_id"]] = {"codes": [p["opening_code"]], "division": event["division"]}
        elif event["type"] == "incident.updated":
            incidents[p["incident_id"]]["codes"].append(p["to_code"])
        elif event["type"] == "incident.closed":
            assert INCIDENT_CODES[p["closing_code"]]["stage"] in ("closing", "both")
            incidents[p["incident_id"]]["codes"].append(p["closing_code"])
    crimes = by_type(distinct_events, "crime.recorded")
    for crime in crimes:
        p = crime["payload"]
        assert re.fullmatch(r"CR-\d\d-\d{6}", p["crime_id"])
        if p.get("record_kind") == "n100":  # a rape report held as N100: no crime, no victim record
            assert (p["hocr_code"], p["offence_group"], p["victim_ref"]) == ("N100", "sexual_offences", None)
            assert "RAPE" in incidents[p["incident_id"]]["codes"]
            continue
        hocr = HOCR_CODES[p["hocr_code"]]
        assert hocr["offence_group"] == p["offence_group"]
        assert (p["victim_ref"] is not None) == (hocr["victim_based"] == "true")
        if p["incident_id"] is not None:
            incident = incidents[p["incident_id"]]
            groups = {INCIDENT_CODES[c]["offence_group"] for c in incident["codes"] if code_class(c) == "crime"}
            assert p["offence_group"] in groups
            assert crime["division"] == incident["division"]
    assert len({c["payload"]["crime_id"] for c in crimes}) == len(crimes)


def test_crimes_without_incident_are_about_five_percent(default_sim: Simulation, distinct_events: list) -> None:
    crimes = by_type(distinct_events, "crime.recorded")
    direct = [c for c in crimes if c["payload"]["incident_id"] is None]
    assert len(direct) == default_sim.counts["crimes_without_incident"]
    assert abs(len(direct) / len(crimes) - 0.05) < 0.015


def test_lifecycles(distinct_events: list) -> None:
    opened = {e["payload"]["incident_id"]: e for e in by_type(distinct_events, "incident.opened")}
    closed = {e["payload"]["incident_id"]: e for e in by_type(distinct_events, "incident.closed")}
    updated = {e["payload"]["incident_id"]: e for e in by_type(distinct_events, "incident.updated")}
    # A late disclosure (up to two deadlines after the report) is followed by its closure within
    # 12 h; every other incident closes within 12 h of the report. Only late ones may close after
    # the extract (taken 12 h after the reporting window).
    late = {i for i, e in updated.items() if ms(e["occurred_at"]) - ms(opened[i]["occurred_at"]) > 12 * HOUR}
    extract = max(ms(e["occurred_at"]) for e in opened.values()) + 12 * HOUR
    unclosed = opened.keys() - closed.keys()
    assert closed.keys() <= opened.keys() and unclosed
    assert all(ms(opened[i]["occurred_at"]) > extract - 2 * DEADLINE - 12 * HOUR for i in unclosed)
    assert late and all(ms(updated[i]["occurred_at"]) - ms(opened[i]["occurred_at"]) <= 2 * DEADLINE for i in late)
    delays = [ms(closed[i]["occurred_at"]) - ms(opened[i]["occurred_at"]) for i in closed.keys() - late]
    assert min(delays) >= 20 * 60_000 and max(delays) <= 12 * HOUR
    after = [ms(closed[i]["occurred_at"]) - ms(updated[i]["occurred_at"]) for i in closed.keys() & late]
    assert min(after) >= 20 * 60_000 and max(after) <= 12 * HOUR
    # Non-crime openings re-categorised to a crime code with a rationale, and closed as a crime.
    upgrades = [
        e
        for e in by_type(distinct_events, "incident.updated")
        if code_class(e["payload"]["from_code"]) != "crime" and code_class(e["payload"]["to_code"]) == "crime"
    ]
    assert len(upgrades) > 50 and all(e["payload"]["rationale_recorded"] for e in upgrades)
    closed_as_crime = [
        i
        for i, e in closed.items()
        if code_class(e["payload"]["closing_code"]) == "crime"
        and code_class(opened[i]["payload"]["opening_code"]) != "crime"
    ]
    assert len(closed_as_crime) > 10
    # Multi-victim incidents with one crime per victim, each with its own victim.
    per_incident: dict[str, list[dict]] = {}
    for crime in by_type(distinct_events, "crime.recorded"):
        if crime["payload"]["incident_id"]:
            per_incident.setdefault(crime["payload"]["incident_id"], []).append(crime)
    multi = [c for c in per_incident.values() if len(c) > 1]
    assert multi
    for crimes in multi:
        victims = opened[crimes[0]["payload"]["incident_id"]]["payload"]["victims"]
        assert len(crimes) == victims
        assert len({c["payload"]["victim_ref"] for c in crimes}) == len(crimes)
    assert any("domestic_abuse" in e["payload"].get("qualifiers", []) for e in opened.values())


def _fates(sim: Simulation, events: list[dict[str, Any]]) -> Counter[str]:
    """Fates read off the file, for crime-indicative incidents whose every follow-up is in it; in
    time or late from the disclosure (the first crime-indicative code)."""
    indicative: dict[str, int] = {}
    opened: dict[str, int] = {}
    explained: set[str] = set()
    first_crime: dict[str, int] = {}
    for event in events:
        p, at = event["payload"], ms(event["occurred_at"])
        if event["type"] == "crime.recorded":
            if p["incident_id"]:
                first_crime[p["incident_id"]] = min(at, first_crime.get(p["incident_id"], at))
            continue
        if not event["type"].startswith("incident."):
            continue
        code = p.get("opening_code") or p.get("to_code") or p.get("closing_code")
        if event["type"] == "incident.opened":
            opened[p["incident_id"]] = at
        if code_class(code) == "crime":
            indicative[p["incident_id"]] = min(at, indicative.get(p["incident_id"], at))
        explaining = code_class(code) in ("non_crime", "sink", "admin")
        if event["type"] == "incident.closed" and p["rationale_recorded"] and explaining:
            explained.add(p["incident_id"])
    # Late records come at most 72 h (+30 min for extra victims) after the deadline (from the disclosure).
    horizon = ms(sim.options.start.isoformat()) + (7 * 24 + 12) * HOUR - (24 + 73) * HOUR
    fates: Counter[str] = Counter()
    for iid in indicative:
        if indicative[iid] > horizon:
            continue
        if iid in first_crime:
            fates["late" if first_crime[iid] - indicative[iid] > DEADLINE else "in_time"] += 1
        else:
            fates["explained" if iid in explained else "not_recorded"] += 1
    return fates


def test_failure_shares_match_the_configured_rates(default_sim: Simulation, distinct_events: list) -> None:
    counts = default_sim.counts
    total = counts["crime_indicative"]
    assert total == counts["recorded_in_time"] + counts["recorded_late"] + counts["not_recorded"] + counts["explained"]
    assert abs(counts["not_recorded"] / total - 0.10) < 0.025
    assert abs(counts["recorded_late"] / total - 0.05) < 0.02
    assert abs(counts["explained"] / total - 0.06) < 0.02
    # The same shares read off the file itself.
    fates = _fates(default_sim, distinct_events)
    seen = sum(fates.values())
    assert seen > 600
    assert abs(fates["not_recorded"] / seen - 0.10) < 0.035
    assert abs(fates["late"] / seen - 0.05) < 0.025
    assert abs(fates["explained"] / seen - 0.06) < 0.025


def test_failure_rates_are_configurable() -> None:
    sim = simulate(SimulationOptions(days=3, seed=3, not_recorded_rate=0.3, late_rate=0.2, explained_rate=0.0))
    counts = sim.counts
    assert counts["explained"] == 0
    assert abs(counts["not_recorded"] / counts["crime_indicative"] - 0.3) < 0.04
    assert abs(counts["recorded_late"] / counts["crime_indicative"] - 0.2) < 0.04
    no_breaches = {name: 0 for name in SimulationOptions.__dataclass_fields__ if name.endswith("_rate")}
    clean = simulate(SimulationOptions(days=1, seed=3, **no_breaches))
    assert clean.counts["outcomes"] > 30 and clean.counts["out_of_court_disposals"] > 0
    assert clean.truth == []
