"""The estimators against hand-computed values and statsmodels, the verdicts' replay, and the
audit truth's true values against the simulator's own ``true_rates``."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.proportion import proportion_confint

from cdi.audit import estimates
from cdi.audit import truth as audit_truth
from cdi.audit.estimates import CENSUS, NO_DATA, SINGLE_STRATUM, STRATIFIED, Reviewed, ratio, unrecorded
from cdi.audit.intervals import wilson
from cdi.audit.population import INCIDENT, Population, Unit, stratum_of
from cdi.audit.sample import draw_sample
from cdi.audit.verdicts import Verdict, latest, read, simulated_review
from cdi.history import write_events
from cdi.simulation.audit_truth import true_rates

Z = 1.959963984540054


def _wilson_by_hand(p: float, n: float) -> tuple[float, float]:
    """(p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)."""
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n * n)) / (1 + Z**2 / n)
    return centre - half, centre + half


def test_wilson_is_statsmodels_and_the_textbook_formula() -> None:
    assert wilson(81, 263) == pytest.approx(proportion_confint(81, 263, method="wilson"), abs=1e-15)
    assert wilson(81, 263) == pytest.approx(_wilson_by_hand(81 / 263, 263), abs=1e-12)
    # Newcombe (1998), table II, method 3: 81/263 -> 0.2553 to 0.3662.
    assert [round(b, 4) for b in wilson(81, 263)] == [0.2553, 0.3662]
    # effective (fractional) counts
    assert wilson(40.5, 50.25) == pytest.approx(_wilson_by_hand(40.5 / 50.25, 50.25), abs=1e-12)
    assert wilson(0, 20)[0] == 0.0 and wilson(20, 20)[1] == 1.0


def test_stratified_ratio_by_hand() -> None:
    """Two strata. A: N=10, rows (y, x) = (1,1) (0,1) (1,1) (0,0); B: N=20, rows (1,1) (1,1) (0,0)
    (0,0) (0,1). Y = 10(2/4) + 20(2/5) = 13, X = 10(3/4) + 20(3/5) = 19.5, R = 2/3.
    e = y - R x: A (1/3, -2/3, 1/3, 0), s^2 = (6/9)/3 = 2/9; B (1/3, 1/3, 0, 0, -2/3), s^2 = 1/6.
    v = [10^2 (1 - 4/10)(2/9)/4 + 20^2 (1 - 5/20)(1/6)/5] / 19.5^2 = (10/3 + 10) / 380.25.
    n* = R(1-R)/v; the interval is Wilson's at n*."""
    rows = [
        ("A", 1, 1),
        ("A", 0, 1),
        ("A", 1, 1),
        ("A", 0, 0),
        ("B", 1, 1),
        ("B", 1, 1),
        ("B", 0, 0),
        ("B", 0, 0),
        ("B", 0, 1),
    ]
    got = ratio(rows, {"A": 10, "B": 20})
    v = (10 / 3 + 10) / 19.5**2
    n_eff = (2 / 3) * (1 / 3) / v
    assert got.method == STRATIFIED
    assert got.estimate == pytest.approx(2 / 3, abs=1e-15)
    assert got.effective_n == pytest.approx(n_eff, rel=1e-12)
    assert (got.low, got.high) == pytest.approx(_wilson_by_hand(2 / 3, n_eff), abs=1e-12)
    assert (got.low, got.high) == pytest.approx(proportion_confint(2 / 3 * n_eff, n_eff, method="wilson"), abs=1e-12)
    assert (got.reviewed, got.count) == (6, 4)
    # The weights are N_h / n_h: the same rows with B's population doubled move R towards B.
    heavier = ratio(rows, {"A": 10, "B": 40})
    assert heavier.estimate == pytest.approx((5 + 16) / (7.5 + 24))


def test_one_stratum_is_statsmodels_wilson_with_the_finite_population_correction() -> None:
    rows = [("S", 1, 1)] * 81 + [("S", 0, 1)] * 182 + [("S", 0, 0)] * 37
    # A stratum so large that the correction vanishes: exactly statsmodels' Wilson on 81 of 263.
    vast = ratio(rows, {"S": 10**12})
    assert vast.method == SINGLE_STRATUM
    assert vast.estimate == pytest.approx(81 / 263)
    assert (vast.low, vast.high) == pytest.approx(proportion_confint(81, 263, method="wilson"), abs=1e-9)
    # 300 of 1,200 read: n* = 263 / (1 - 1/4).
    finite = ratio(rows, {"S": 1200})
    n_eff = 263 / 0.75
    assert finite.effective_n == pytest.approx(n_eff)
    assert (finite.low, finite.high) == pytest.approx(
        proportion_confint(81 / 263 * n_eff, n_eff, method="wilson"), abs=1e-12
    )
    assert finite.high - finite.low < vast.high - vast.low


def test_census_no_data_and_a_lone_unit() -> None:
    census = ratio([("S", 1, 1), ("S", 0, 1), ("S", 1, 1)], {"S": 3})
    assert census.method == CENSUS and census.low == census.high == census.estimate == pytest.approx(2 / 3)
    nothing = ratio([("S", 0, 0), ("S", 0, 0)], {"S": 50, "T": 10})
    assert nothing.method == NO_DATA and nothing.estimate is None and nothing.strata_missing == 10
    # A stratum with one reviewed unit borrows the mean within-stratum variance of the others.
    rows = [("A", 1, 1), ("A", 0, 1), ("A", 1, 1), ("B", 1, 1), ("B", 0, 1), ("C", 0, 1)]
    lone = ratio(rows, {"A": 30, "B": 30, "C": 30})
    r = lone.estimate
    s_a = (
        sum(
            (y - r * x - m) ** 2
            for y, x, m in [(1, 1, (2 - 3 * r) / 3), (0, 1, (2 - 3 * r) / 3), (1, 1, (2 - 3 * r) / 3)]
        )
        / 2
    )
    s_b = sum((y - r - (1 - 2 * r) / 2) ** 2 for y in (1, 0)) / 1
    pooled = (s_a + s_b) / 2
    v = (30**2 * (1 - 3 / 30) * s_a / 3 + 30**2 * (1 - 2 / 30) * s_b / 2 + 30**2 * (1 - 1 / 30) * pooled / 1) / 90**2
    assert lone.effective_n == pytest.approx(r * (1 - r) / v)


def test_every_reviewed_unit_agreeing_keeps_an_interval() -> None:
    got = ratio([("A", 1, 1), ("A", 1, 1), ("B", 1, 1), ("B", 1, 1), ("B", 0, 0)], {"A": 50, "B": 50})
    assert got.estimate == 1.0 and got.high == 1.0
    assert got.low == pytest.approx(wilson(4, 4)[0])  # the four crimes read are the evidence


def test_unrecorded_crimes_scale_the_recorded_volume() -> None:
    accuracy = estimates.Estimate(0.8, 0.75, 0.85, 400, 320, STRATIFIED, 300.0)
    count = unrecorded(8000, accuracy)
    assert count.estimate == pytest.approx(8000 * 0.2 / 0.8)  # 2,000
    assert count.low == pytest.approx(8000 * 0.15 / 0.85)
    assert count.high == pytest.approx(8000 * 0.25 / 0.75)
    assert unrecorded(8000, estimates.Estimate(0.0, 0.0, 0.1, 5, 0, STRATIFIED)).estimate is None


def _unit(i: int, stratum_group: str, flagged: bool = False) -> Unit:
    return Unit(
        INCIDENT,
        f"I{i}",
        "NORTH",
        stratum_group,
        0,
        stratum_of(INCIDENT, "NORTH", stratum_group),
        "not_recorded",
        flagged,
    )


def _v(i: int, verdict: str, recorded: bool | None = None, at: int = 0, event: str = "e") -> Verdict:
    return Verdict("s", INCIDENT, f"I{i}", verdict, "S-1", at, f"{event}{i}", crime_recorded=recorded)


def test_figures_from_verdicts() -> None:
    """Accuracy counts crimes recorded over crimes; the blind spot, of the crimes not recorded,
    those no rule flagged; a no-crime or N100 verdict is in neither denominator."""
    units = [
        _unit(1, "theft"),
        _unit(2, "theft", flagged=True),
        _unit(3, "theft"),
        _unit(4, "theft"),
        _unit(5, "theft"),
        _unit(6, "theft"),
    ]
    verdicts = [
        _v(1, "crime", True),
        _v(2, "crime", False),
        _v(3, "crime", False),
        _v(4, "crime", False),
        _v(5, "no_crime", False),
        _v(6, "n100", True),
    ]
    pop = Population("SYNTH", 0, 1, units, 100)
    reviewed = [Reviewed(u, v, u.stratum) for u, v in zip(units, verdicts, strict=True)]
    got = estimates.estimate(pop, reviewed, {"incident/NORTH/theft": 60})
    assert got.recording_accuracy.estimate == pytest.approx(1 / 4)
    assert got.blind_spot_rate.estimate == pytest.approx(2 / 3)  # I3 and I4 of I2, I3, I4
    assert got.unrecorded_crimes.estimate == pytest.approx(100 * 0.75 / 0.25)
    assert got.breakdowns["division"]["NORTH"]["recording_accuracy"].estimate == pytest.approx(1 / 4)
    data = got.to_dict()
    assert set(data) >= {
        "recording_accuracy",
        "blind_spot_rate",
        "unrecorded_crimes",
        "rule_precision",
        "by_division",
        "sample",
    }
    assert set(data["recording_accuracy"]) >= {"estimate", "low", "high"}


def test_the_latest_verdict_on_an_item_stands_and_duplicates_count_once(tmp_path) -> None:
    first = _v(1, "no_crime", False, at=1_000, event="a").to_event("SYNTH", "NORTH")
    correction = _v(1, "crime", False, at=2_000, event="b").to_event("SYNTH", "NORTH")
    other = _v(2, "crime", True, at=500, event="c").to_event("SYNTH", "NORTH")
    path = tmp_path / "verdicts.jsonl"
    write_events(path, [correction, first, other, correction])  # any order: replay gives one state
    got = read([path])
    assert got.events == 4 and got.duplicates == 1
    assert got.standing[(INCIDENT, "I1")].verdict == "crime"
    assert latest(reversed(list(got.standing.values()))) == got.standing


def test_the_truth_gives_the_simulators_true_rates(month) -> None:
    mine = audit_truth.true_values(month.audit_truth)
    theirs = true_rates(month.audit_truth)
    overall = theirs["overall"]
    assert mine["recording_accuracy"] == overall["recording_accuracy"]
    assert mine["blind_spot_rate"] == overall["blind_spot_rate"]
    assert mine["disposals_appropriate"] == overall["appropriate_rate"]
    assert mine["unrecorded_count"] == overall["unrecorded"]
    assert mine["rule_precision"] == {rule: tally["precision"] for rule, tally in overall["by_rule"].items()}
    for division, rates in theirs["by_division"].items():
        assert mine["by"]["division"][division]["recording_accuracy"] == rates["recording_accuracy"]
        assert mine["by"]["division"][division]["blind_spot_rate"] == rates["blind_spot_rate"]
    # the hidden modes are on: unrecorded crimes escape the rules, and some findings are wrong
    assert 0 < mine["blind_spot_rate"] < 1
    assert min(mine["rule_precision"].values()) < 1


def test_a_perfect_reviewer_over_the_whole_population_gives_the_true_values(month) -> None:
    """A census (every unit reviewed, as the truth has it) gives each true value exactly: the
    estimator, the join and the truth's definitions agree."""
    pop = month.population
    drawn = draw_sample(pop, 1, size=pop.count(INCIDENT), findings_per_rule=10**6, disposals=10**6)
    review = simulated_review(drawn, month.audit_truth)
    standing = latest(Verdict.from_event(e) for e in review.events)
    joined = estimates.join(pop, standing, drawn.design.sizes(), {(i.kind, i.id): i.stratum for i in drawn.items})
    assert not joined.unmatched and not joined.differing_strata
    got = estimates.estimate(pop, joined.reviewed, joined.sizes, ("division",))
    truth = audit_truth.true_values(month.audit_truth, pop.index())
    assert got.recording_accuracy.method == CENSUS
    assert got.recording_accuracy.estimate == pytest.approx(truth["recording_accuracy"], abs=1e-12)
    assert got.blind_spot_rate.estimate == pytest.approx(truth["blind_spot_rate"], abs=1e-12)
    assert got.disposals_appropriate.estimate == pytest.approx(truth["disposals_appropriate"], abs=1e-12)
    for rule, e in got.rule_precision.items():
        assert e.estimate == pytest.approx(truth["rule_precision"][rule], abs=1e-12)
