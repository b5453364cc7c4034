"""Coverage: over many samples of one simulated month, each drawn with its own seed and reviewed
by the simulated reviewer from the audit truth, the 95% intervals hold the simulator's true value
in 93-97% of them (design-based coverage: the month is the population, the sample is what
varies). Recording accuracy for the stratified design and within a single stratum, and the
blind-spot rate. The true values are the simulator's ``true_rates`` over the period's units.

With 1,000 samples the coverage is measured to +-0.7 points (one standard error), so the 93-97%
band is about 3 standard errors either side of 95%."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from cdi.audit import estimates
from cdi.audit.estimates import SINGLE_STRATUM, STRATIFIED
from cdi.audit.population import FINDING, INCIDENT, Population
from cdi.audit.sample import draw_sample
from cdi.audit.verdicts import Verdict, latest, simulated_review, truth_index
from cdi.simulation.audit_truth import true_rates

SEEDS = 1000
LOW, HIGH = 0.93, 0.97


def _true(population: Population, audit_truth: list[dict[str, Any]]) -> dict[str, Any]:
    """The simulator's true rates over the population's incidents and disposals; every finding is
    given, so that an incident flagged by a finding raised after the period still counts as seen."""
    frame = population.index()
    units = [u for u in audit_truth if u["kind"] == FINDING or (u["kind"], u["id"]) in frame]
    return true_rates(units)["overall"]


def _coverage(
    population: Population, audit_truth: list[dict[str, Any]], size: int, disposals: int = 0
) -> tuple[Counter[str], Counter[str], float]:
    truth = _true(population, audit_truth)
    known = truth_index(audit_truth)
    covered: Counter[str] = Counter()
    methods: Counter[str] = Counter()
    widths = 0.0
    for seed in range(SEEDS):
        drawn = draw_sample(population, seed, size=size, findings_per_rule=0, disposals=disposals)
        review = simulated_review(drawn, known)
        standing = latest(Verdict.from_event(event) for event in review.events)
        joined = estimates.join(
            population, standing, drawn.design.sizes(), {(i.kind, i.id): i.stratum for i in drawn.items}
        )
        got = estimates.estimate(population, joined.reviewed, joined.sizes, ())
        accuracy, blind = got.recording_accuracy, got.blind_spot_rate
        methods[accuracy.method] += 1
        covered["accuracy"] += accuracy.covers(truth["recording_accuracy"])
        covered["blind_spot"] += blind.covers(truth["blind_spot_rate"])
        if disposals:
            covered["disposals"] += got.disposals_appropriate.covers(truth["appropriate_rate"])
        widths += (accuracy.high - accuracy.low) / 2
    return covered, methods, widths / SEEDS


@pytest.mark.slow
def test_stratified_intervals_cover_the_true_rates(month) -> None:
    covered, methods, _ = _coverage(month.population, month.audit_truth, size=1000, disposals=100)
    assert methods == {STRATIFIED: SEEDS}
    print(f"stratified coverage over {SEEDS} samples: {dict((k, v / SEEDS) for k, v in covered.items())}")
    assert LOW <= covered["accuracy"] / SEEDS <= HIGH
    assert LOW <= covered["blind_spot"] / SEEDS <= HIGH
    assert LOW <= covered["disposals"] / SEEDS <= HIGH


@pytest.mark.slow
def test_single_stratum_wilson_interval_covers_the_true_rate(month) -> None:
    """The stratum with the most crimes, sampled alone: the Wilson interval with the finite
    population correction."""
    strata = month.population.strata(INCIDENT)
    crime = {u["id"] for u in month.audit_truth if u["kind"] == INCIDENT and u["should_record"] == "crime"}
    name = max(strata, key=lambda s: sum(u.id in crime for u in strata[s]))
    pop = month.population
    alone = Population(pop.force, pop.start, pop.end, strata[name], pop.recorded_volume)
    covered, methods, _ = _coverage(alone, month.audit_truth, size=150)
    assert methods == {SINGLE_STRATUM: SEEDS}
    print(f"single-stratum ({name}) coverage over {SEEDS} samples: {dict((k, v / SEEDS) for k, v in covered.items())}")
    assert LOW <= covered["accuracy"] / SEEDS <= HIGH


@pytest.mark.slow
def test_intervals_with_a_prior_are_as_wide_as_the_target(month) -> None:
    """Sized for +-3 points with the true accuracy as the prior, the intervals are about +-3
    points wide; sized for the worst case (p = 0.5), narrower."""
    pop = month.population
    truth = _true(pop, month.audit_truth)
    known = truth_index(month.audit_truth)
    for prior, lo, hi in ((truth["recording_accuracy"], 0.027, 0.033), (0.5, 0.02, 0.03)):
        half = []
        for seed in range(40):
            drawn = draw_sample(pop, seed, target_width=0.03, prior=prior, findings_per_rule=0, disposals=0)
            standing = latest(Verdict.from_event(e) for e in simulated_review(drawn, known).events)
            joined = estimates.join(
                pop, standing, drawn.design.sizes(), {(i.kind, i.id): i.stratum for i in drawn.items}
            )
            accuracy = estimates.estimate(pop, joined.reviewed, joined.sizes, ()).recording_accuracy
            half.append((accuracy.high - accuracy.low) / 2)
        assert lo <= sum(half) / len(half) <= hi, (prior, sum(half) / len(half))
