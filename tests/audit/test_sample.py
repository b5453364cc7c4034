"""The audit population and the seeded stratified draw: reproducible, a simple random sample
within each stratum, weights N_h / n_h."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from cdi import backtest
from cdi.audit import population
from cdi.audit.population import (
    DECIDED,
    DISPOSAL,
    FINDING,
    INCIDENT,
    NO_GROUP,
    NON_CRIME,
    OUT_OF_COURT,
    Population,
    Unit,
    stratum_of,
)
from cdi.audit.sample import ALL_DIVISIONS, PROPORTIONAL, AuditSample, draw, draw_sample
from cdi.history import read_events
from cdi.sources import open_history


def test_the_population_holds_every_decision_finding_and_disposal(month) -> None:
    # The whole history as the period (the default ends a recording deadline before its end).
    pop = population.build(open_history([month.history]), start=0, end=2**62)
    assert month.population.end == pop.history_end - pop.deadline == pop.history_end - 24 * 3600 * 1000
    result = backtest.run(month.history)
    decided = Counter(u.result for u in pop.units if u.kind == INCIDENT and u.result in DECIDED)
    assert decided == result.decisions  # one unit per RecordingDecision, with its result
    raised = [f for f in result.findings if f.type == "finding.raised"]
    assert sorted(u.id for u in pop.units if u.kind == FINDING) == sorted(f.payload.finding_id for f in raised)
    outcomes = [
        e
        for e in read_events(month.history)
        if e["type"] == "outcome.assigned" and e["payload"]["outcome_type"] in OUT_OF_COURT
    ]
    assert {u.id for u in pop.units if u.kind == DISPOSAL} == {e["event_id"] for e in outcomes}
    assert pop.count(INCIDENT) > 0 and any(u.result == NON_CRIME for u in pop.units)
    for unit in pop.units:  # strata: division x offence group; findings by rule
        assert unit.stratum == stratum_of(unit.kind, unit.division, unit.group, unit.rule)
        if unit.kind == INCIDENT and unit.result not in DECIDED:
            assert unit.group == NO_GROUP
    crimes = {
        e["payload"]["crime_id"]
        for e in read_events(month.history)
        if e["type"] == "crime.recorded" and e["payload"].get("record_kind") != "n100"
    }
    assert pop.recorded_volume == len(crimes)  # every crime record of the period (not N100), once


def test_the_population_is_the_frame_of_the_audit_truth(month) -> None:
    """Every crime the audit truth counts (due in the history) is a unit of the population, but
    for a handful whose deadline the codes put after the history's end; the monitor's findings
    flag the same incidents as the truth's."""
    ids = {u.id for u in month.population.units if u.kind == INCIDENT}
    crimes = [u for u in month.audit_truth if u["kind"] == INCIDENT and u["should_record"] == "crime"]
    counted = [u for u in crimes if u["due_in_history"] is not False]
    outside = [u for u in counted if u["id"] not in ids]
    assert len(outside) <= 0.002 * len(counted)
    from cdi.audit.truth import flagged_incidents

    flagged = {u.id for u in month.population.units if u.kind == INCIDENT and u.flagged}
    assert flagged == flagged_incidents(month.audit_truth) & ids


def test_a_sample_drawn_twice_with_the_same_seed_is_identical(month) -> None:
    first = draw_sample(month.population, 7, size=800)
    again = draw_sample(month.population, 7, size=800)
    assert orjson.dumps(first.to_event()) == orjson.dumps(again.to_event())
    other = draw_sample(month.population, 8, size=800)
    assert {i.id for i in other.items} != {i.id for i in first.items}
    assert other.design == first.design  # the same strata and sizes, other units
    assert first.design.allocation == PROPORTIONAL and first.division == ALL_DIVISIONS


def test_items_follow_the_design(month) -> None:
    drawn = draw_sample(month.population, 3, size=1000, findings_per_rule=20, disposals=60)
    strata = {s.name: s for s in drawn.design.strata}
    assert {s.name for s in drawn.design.strata} == set(month.population.strata())
    per = Counter(item.stratum for item in drawn.items)
    units = month.population.index()
    for name, stratum in strata.items():
        assert per[name] == stratum.sample
        assert stratum.population == len(month.population.strata()[name])
    for item in drawn.items:
        unit = units[(item.kind, item.id)]
        assert unit.stratum == item.stratum and unit.division == item.division
        assert item.weight == strata[item.stratum].population / strata[item.stratum].sample
    assert len({(i.kind, i.id) for i in drawn.items}) == len(drawn.items)
    assert drawn.count(INCIDENT) == 1000
    assert drawn.count(DISPOSAL) == 60
    findings = Counter(units[(i.kind, i.id)].rule for i in drawn.items if i.kind == FINDING)
    rules = Counter(u.rule for u in month.population.units if u.kind == FINDING)
    assert findings == {rule: min(20, n) for rule, n in rules.items()}
    assert AuditSample.from_event(drawn.to_event()) == drawn


def _toy(n_units: int, strata: int = 1) -> Population:
    units = [
        Unit(INCIDENT, f"INC-{i:03d}", "NORTH", f"g{i % strata}", 0, stratum_of(INCIDENT, "NORTH", f"g{i % strata}"))
        for i in range(n_units)
    ]
    units.sort(key=lambda u: (u.stratum, u.id))
    return Population("SYNTH", 0, 1, units, 0)


def test_the_draw_is_the_same_on_every_platform() -> None:
    """Keys come from random.Random(seed).random(), the stream Python keeps for a seed on every
    platform and version: these ids are what seed 1 gives, here and anywhere."""
    pop = _toy(10)
    assert [i.id for i in draw(pop, 1, {"incident/NORTH/g0": 3})] == GOLDEN_SEED_1


GOLDEN_SEED_1 = ["INC-000", "INC-008", "INC-009"]


def test_within_a_stratum_the_draw_is_a_simple_random_sample() -> None:
    """Every unit of a stratum of 12 is taken with probability n/N = 3/12 (over 2,400 seeds each
    is taken 600 times, give or take 4 standard deviations), and pairs as often as any other."""
    pop = _toy(12)
    taken: Counter[str] = Counter()
    seeds = 2400
    for seed in range(seeds):
        for item in draw(pop, seed, {"incident/NORTH/g0": 3}):
            taken[item.id] += 1
    expected = seeds * 3 / 12
    sd = (seeds * 0.25 * 0.75) ** 0.5
    assert len(taken) == 12
    assert all(abs(n - expected) < 4 * sd for n in taken.values())


@pytest.mark.parametrize("size", [0, 1, 5])
def test_sizes_at_the_edges(size: int) -> None:
    pop = _toy(5)
    items = draw(pop, 1, {"incident/NORTH/g0": size})
    assert len(items) == size
    assert all(item.weight == 5 / size for item in items)
