"""Sample sizes: Cochran's formula for a target width, and proportional allocation over strata."""

from __future__ import annotations

import math

import pytest

from cdi.audit.allocation import capped, proportional, size_for_accuracy, size_for_proportion, z_for
from cdi.audit.population import DECIDED, INCIDENT
from cdi.audit.sample import TARGET_WIDTH, draw_sample

Z = 1.959963984540054


def test_z_is_the_normal_quantile() -> None:
    assert z_for(0.95) == pytest.approx(Z, abs=1e-12)


def test_cochrans_n_for_a_proportion_by_hand() -> None:
    # n0 = z^2 p(1-p) / W^2 = 3.841459 * 0.25 / 0.0025 = 384.146: the textbook 385 for +-5 points.
    assert size_for_proportion(0.05, 10**9) == 385
    # With N = 1000: 384.146 / (1 + 383.146 / 1000) = 277.74, rounded up.
    assert size_for_proportion(0.05, 1000) == 278
    # A prior of 0.8: 3.841459 * 0.16 / 0.0025 = 245.85 -> 246.
    assert size_for_proportion(0.05, 10**9, prior=0.8) == 246
    assert size_for_proportion(0.05, 100) <= 100
    assert size_for_proportion(0.05, 0) == 0
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError):
            size_for_proportion(bad, 100)


def test_incidents_needed_for_accuracy_by_hand() -> None:
    # 10,000 incidents, 40% should be crimes (4,000): n0 = 3.841459 * 0.25 / 0.0004 = 2400.91;
    # n = 2400.91 / (1 + 2399.91 / 4000) = 1500.59 -> 1501 crimes; 1501 / 0.4 = 3752.5 -> 3753.
    assert size_for_accuracy(0.02, 10_000, 0.4) == 3753
    assert size_for_accuracy(0.02, 10_000, 1.0) == size_for_proportion(0.02, 10_000)
    assert size_for_accuracy(0.001, 500, 0.5) == 500  # never more than there are


def test_proportional_allocation_sums_caps_and_keeps_a_minimum() -> None:
    sizes = {"a": 5000, "b": 3000, "c": 1500, "d": 400, "e": 60, "f": 3, "g": 1, "h": 0}
    out = proportional(sizes, 600)
    assert sum(out.values()) == 600
    assert out["h"] == 0 and out["g"] == 1 and out["f"] == 2  # at least 2 where the stratum has them
    assert all(out[name] <= n for name, n in sizes.items())
    free = {"a", "b", "c", "d", "e"}
    rest = 600 - out["f"] - out["g"]
    room = sum(sizes[name] for name in free)
    for name in free:  # within one of the exact proportional share (largest remainders)
        assert abs(out[name] - rest * sizes[name] / room) < 1
    assert proportional(sizes, 600) == out  # the same every time


def test_proportional_allocation_census_and_too_small_totals() -> None:
    sizes = {"a": 10, "b": 5}
    assert proportional(sizes, 15) == sizes
    assert proportional(sizes, 99) == sizes
    small = proportional({f"s{i}": 50 for i in range(10)}, 12)
    assert sum(small.values()) == 12 and max(small.values()) - min(small.values()) <= 1  # minimum 1 then
    assert proportional(sizes, 0) == {"a": 0, "b": 0}
    assert capped({"a": 10, "b": 40}, 30) == {"a": 10, "b": 30}


def test_strata_sizes_follow_the_target_width(month) -> None:
    pop = month.population
    strata = {name: len(units) for name, units in pop.strata(INCIDENT).items()}
    total = sum(strata.values())
    share = sum(1 for u in pop.units if u.kind == INCIDENT and u.result in DECIDED) / total
    previous = 0
    for width in (0.05, 0.03, 0.02):
        drawn = draw_sample(pop, 1, target_width=width, findings_per_rule=0, disposals=0)
        design = drawn.design
        assert design.allocation == TARGET_WIDTH and design.target_width == width
        wanted = size_for_accuracy(width, total, share)
        assert design.incidents == wanted
        # Cochran's n for +-W on the crimes (whole crimes), scaled up by the share of incidents
        # that are crimes.
        crimes = round(share * total)
        n0 = Z**2 * 0.25 / width**2
        assert wanted == math.ceil(math.ceil(n0 / (1 + (n0 - 1) / crimes)) / share - 1e-9)
        got = {s.name: s.sample for s in design.strata if s.kind == INCIDENT}
        assert got == proportional(strata, wanted)
        assert sum(got.values()) == wanted
        assert sum(1 for item in drawn.items if item.kind == INCIDENT) == wanted
        assert wanted > previous  # a narrower interval needs more
        previous = wanted
