"""Casework after recording: outcomes, offenders' histories, cancellations, reclassifications.

Read off the written file (first copies of events), with the plain helpers of rulebook.py.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest

from cdi.simulation import Simulation

from .reading import HOCR_CODES, by_type, distinct, ms, policy
from .rulebook import (
    CAUTION_OR_CONVICTION,
    DAY,
    FAST,
    PND_RULE,
    REPEAT,
    Crimes,
    histories,
    history_at,
)


@pytest.fixture(scope="module")
def month(month_sim: Simulation) -> list[dict[str, Any]]:
    return distinct(month_sim.events)


def _raised(sim: Simulation, rule: str) -> set[str]:
    return {t["subject"]["id"] for t in sim.truth if t["rule"] == rule}


def _findings_of(sim: Simulation, crime_id: str) -> set[str]:
    return {t["rule"] for t in sim.truth if t["subject"]["id"] == crime_id}


# -- boundaries ------------------------------------------------------------------------------------


def test_a_caution_730_days_before_fires_and_731_does_not(month_sim: Simulation, month: list) -> None:
    crimes = Crimes(month)
    snapshots, observed = histories(month, crimes)
    repeat = _raised(month_sim, REPEAT)
    at_730, at_731 = [], []
    for e in by_type(month, "outcome.assigned"):
        p, t = e["payload"], ms(e["occurred_at"])
        if p["outcome_type"] != 3 or p["offender_ref"] is None or p["exceptional_circumstances"]:
            continue
        group = HOCR_CODES[crimes.code_at(p["crime_id"], t)]["offence_group"]
        offence = crimes.offence_date(p["crime_id"])
        gaps = sorted(
            (offence - date.fromisoformat(d["disposed_on"])).days
            for d in history_at(p["offender_ref"], t, snapshots, observed)
            if d["disposal"] in CAUTION_OR_CONVICTION and d["offence_group"] == group
        )
        gaps = [gap for gap in gaps if gap >= 0]
        if gaps and gaps[0] == 730:  # the nearest similar caution is exactly two years before
            at_730.append(p["crime_id"])
        if gaps and gaps[0] == 731:
            at_731.append(p["crime_id"])
    assert at_730 and set(at_730) <= repeat
    assert at_731 and not set(at_731) & repeat


def test_penalty_value_at_the_limit_is_allowed_and_a_penny_over_is_not(month_sim: Simulation, month: list) -> None:
    crimes = Crimes(month)
    pnd = _raised(month_sim, PND_RULE)
    at_limit, over = [], []
    for e in by_type(month, "outcome.assigned"):
        p, t = e["payload"], ms(e["occurred_at"])
        limit = policy(crimes.code_at(p["crime_id"], t), "pnd_value_limit")
        if p["outcome_type"] != 6 or not limit or p["penalty_value"] is None:
            continue
        if p["penalty_value"] == float(limit):
            at_limit.append(p["crime_id"])
        elif p["penalty_value"] == round(float(limit) + 0.01, 2):
            over.append(p["crime_id"])
    assert at_limit and not set(at_limit) & pnd
    assert over and set(over) <= pnd


def test_seventeen_is_flagged_and_eighteen_is_not(month_sim: Simulation, month: list) -> None:
    by_age: dict[int, list[tuple[str, set[str]]]] = {17: [], 18: []}
    for e in by_type(month, "outcome.assigned"):
        p = e["payload"]
        if p["outcome_type"] in (6, 7) and p["offender_age"] in by_age:
            by_age[p["offender_age"]].append((p["crime_id"], _findings_of(month_sim, p["crime_id"])))
    assert by_age[17] and all(rules & {PND_RULE, "CANNABIS_ESCALATION"} for _, rules in by_age[17])
    # An 18-year-old's notice or warning can be entirely clean.
    assert any(not rules for _, rules in by_age[18])


def test_an_unsuccessful_outcome_at_14_days_is_in_time_and_just_under_is_not(
    month_sim: Simulation, month: list
) -> None:
    crimes = Crimes(month)
    fast = _raised(month_sim, FAST)
    exact, under = [], []
    for e in by_type(month, "outcome.assigned"):
        p, t = e["payload"], ms(e["occurred_at"])
        code = crimes.code_at(p["crime_id"], t)
        if p["outcome_type"] not in (14, 16, 18) or policy(code, "fast_outcome_watch") != "true":
            continue
        age = t - ms(crimes.recorded[p["crime_id"]]["occurred_at"])
        if age == 14 * DAY:
            exact.append(p["crime_id"])
        elif age == 14 * DAY - 1:
            under.append(p["crime_id"])
    assert exact and not set(exact) & fast
    assert under and set(under) <= fast


# -- offenders and their histories -----------------------------------------------------------------


def test_one_snapshot_per_offender_before_their_first_outcome(month: list) -> None:
    snapshots = {e["payload"]["offender_ref"]: e for e in by_type(month, "offender.history")}
    assert len(snapshots) == len(by_type(month, "offender.history"))
    first: dict[str, int] = {}
    for e in by_type(month, "outcome.assigned"):
        ref = e["payload"]["offender_ref"]
        if ref is not None:
            first[ref] = min(first.get(ref, ms(e["occurred_at"])), ms(e["occurred_at"]))
    assert snapshots.keys() == first.keys()
    for ref, snapshot in snapshots.items():
        assert re.fullmatch(r"PR-[0-9a-f]{12}", ref)
        assert ms(snapshot["occurred_at"]) < first[ref]
        days = [date.fromisoformat(d["disposed_on"]) for d in snapshot["payload"]["disposals"]]
        assert days == sorted(days) and all(day < date(2026, 3, 2) for day in days)
    assert sum(1 for e in by_type(month, "outcome.assigned") if e["payload"]["offender_ref"]) > len(first)  # repeats


def test_some_snapshots_arrive_after_their_outcome_inside_the_disorder_bound(month_sim: Simulation) -> None:
    bound = month_sim.options.disorder_minutes * 60_000
    line_of_first_outcome: dict[str, tuple[int, int]] = {}
    late = 0
    for line, e in enumerate(month_sim.events):
        p, t = e["payload"], ms(e["occurred_at"])
        if e["type"] == "outcome.assigned" and p["offender_ref"] and p["offender_ref"] not in line_of_first_outcome:
            line_of_first_outcome[p["offender_ref"]] = (line, t)
        if e["type"] == "offender.history" and p["offender_ref"] in line_of_first_outcome:
            _, outcome_at = line_of_first_outcome[p["offender_ref"]]
            assert 0 < outcome_at - t < bound
            late += 1
    assert late > 0.05 * month_sim.counts["offenders"]


def test_ages_and_juveniles(month: list) -> None:
    ages = Counter(e["payload"]["offender_age"] for e in by_type(month, "outcome.assigned"))
    del ages[None]
    assert min(ages) >= 10 and max(ages) <= 79
    juveniles = sum(n for age, n in ages.items() if age < 18)
    assert 0.02 < juveniles / sum(ages.values()) < 0.15
    youth = by_type(month, "outcome.assigned")
    assert all(e["payload"]["offender_age"] < 18 for e in youth if e["payload"]["outcome_type"] == 2)


# -- outcomes ----------------------------------------------------------------------------------------


def test_outcome_mix_and_timing(month_sim: Simulation, month: list) -> None:
    crimes = Crimes(month)
    outcomes = by_type(month, "outcome.assigned")
    assert 0.6 < len(outcomes) / len(crimes.recorded) < 0.9
    assert len({e["payload"]["crime_id"] for e in outcomes}) == len(outcomes)  # at most one per crime
    types = Counter(e["payload"]["outcome_type"] for e in outcomes)
    main = sum(types[k] for k in (18, 14, 16, 15, 1))
    out_of_court = sum(types[k] for k in (2, 3, 6, 7, 8))
    assert main / len(outcomes) > 0.8
    assert 0.04 < out_of_court / len(outcomes) < 0.15
    assert all(types[k] for k in (1, 2, 3, 6, 7, 8, 14, 15, 16, 18))
    for e in outcomes:
        p, t = e["payload"], ms(e["occurred_at"])
        assert t > ms(crimes.recorded[p["crime_id"]]["occurred_at"])
        assert e["division"] == crimes.recorded[p["crime_id"]]["division"]
        assert (p["offender_ref"] is None) == (p["outcome_type"] in (14, 18))
        assert (p["offender_age"] is None) == (p["offender_ref"] is None)
        if p["penalty_value"] is not None:
            assert p["outcome_type"] == 6
    delays = sorted(
        ms(e["occurred_at"]) - ms(crimes.recorded[e["payload"]["crime_id"]]["occurred_at"]) for e in outcomes
    )
    assert delays[len(delays) // 2] > DAY  # most come days after recording
    assert sum(d < 14 * DAY for d in delays) > 0.5 * len(delays)


def test_cancellations_and_reclassifications(month: list) -> None:
    cancelled = by_type(month, "crime.cancelled")
    assert {e["payload"]["cancellation_code"] for e in cancelled} == {"C1", "C2", "C3", "C4", "C5"}
    assert {e["payload"]["avi_recorded"] for e in cancelled} == {True, False}
    assert len({e["payload"]["authoriser_role"] for e in cancelled}) >= 4
    reasons = [(e["payload"]["reason"] or "").lower() for e in cancelled]
    assert any("no complaint" in reason for reason in reasons)
    moves = by_type(month, "crime.reclassified")
    ups = [e for e in moves if _seriousness(e, "to_code") > _seriousness(e, "from_code")]
    downs = [e for e in moves if _seriousness(e, "to_code") < _seriousness(e, "from_code")]
    assert ups and downs and len(moves) > len(ups) + len(downs)  # some move sideways
    assert {e["payload"]["reason"] for e in downs} >= {None, ""}
    assert len({e["payload"]["role"] for e in downs}) >= 4
    later = [e for e in moves if e["event_id"].endswith(".2")]
    assert later  # some crimes move twice


def _seriousness(event: dict[str, Any], key: str) -> int:
    return int(HOCR_CODES[event["payload"][key]]["seriousness"])


def test_the_codes_the_outcome_rules_need_are_recorded(month: list) -> None:
    codes = Counter(e["payload"]["hocr_code"] for e in by_type(month, "crime.recorded"))
    assert all(codes[code] >= 5 for code in ("92A", "92E", "10D", "19C", "5D", "8F", "46", "58A", "9A", "34B"))


def test_multi_victim_incidents(month_sim: Simulation, month: list) -> None:
    multi = [e for e in by_type(month, "incident.opened") if e["payload"].get("victims", 0) >= 2]
    assert len(multi) > 300
    assert _raised(month_sim, "ONE_CRIME_PER_VICTIM") <= {e["payload"]["incident_id"] for e in multi}


def test_outcomes_can_be_switched_off() -> None:
    from cdi.simulation import SimulationOptions, simulate

    sim = simulate(SimulationOptions(days=2, seed=3, outcomes=False))
    assert not {t["rule"] for t in sim.truth} & {PND_RULE, REPEAT, FAST}
    assert sim.counts.get("outcomes", 0) == 0


def test_snapshot_dates_are_on_or_after_career_start(month: list) -> None:
    ages = {}
    for e in by_type(month, "outcome.assigned"):
        if e["payload"]["offender_ref"]:
            ages[e["payload"]["offender_ref"]] = e["payload"]["offender_age"]
    for e in by_type(month, "offender.history"):
        age = ages[e["payload"]["offender_ref"]]
        for d in e["payload"]["disposals"]:
            # nobody is dealt with before the age of criminal responsibility (10)
            assert date.fromisoformat(d["disposed_on"]) > date(2026, 3, 2) - timedelta(days=366 * (age - 9))


def test_each_rate_controls_its_rule() -> None:
    from cdi.simulation import SimulationOptions, simulate

    def raised(sim: Simulation) -> Counter[str]:
        return Counter(t["rule"] for t in sim.truth)

    none = simulate(SimulationOptions(days=5, seed=2, cancel_without_avi_rate=0, reclass_down_no_reason_rate=0))
    many = simulate(SimulationOptions(days=5, seed=2, cancel_without_avi_rate=0.8, reclass_down_no_reason_rate=0.8))
    for rule in ("CANCEL_WITHOUT_AVI", "RECLASS_DOWN_NO_REASON"):
        assert raised(none)[rule] == 0 < 4 <= raised(many)[rule]
