"""How many units to draw, in all and per stratum.

Total sample size for a target interval width (Cochran, *Sampling Techniques*, 3rd ed., Wiley
1977, chapter 4, "The estimation of sample size", the formula for proportions):

    n0 = z^2 p (1 - p) / W^2            (W: the half-width wanted, p: the rate, 0.5 at worst)
    n  = n0 / (1 + (n0 - 1) / N)        (finite population correction, N units)

Recording accuracy is a rate over the incidents that should have been crimes, a share ``c`` of
the incidents sampled; so the formula gives the number of should-be-crimes the sample needs
(with their number, c N, as the population), and the incident sample is that divided by c.
``c`` is taken as the share of crime-indicative incidents in the population: hidden crimes among
the other incidents only add to the count, so the interval is no wider than asked for on that
account. Proportional allocation never has a larger variance than a simple random sample of the
same size (Cochran 1977, chapter 5, the relative precision of stratified and simple random
sampling, up to terms in 1/N_h), so the size is enough for the stratified design too.

Per-stratum sizes: proportional to the stratum's population (n_h = n N_h / N), at least
``minimum`` (2, so that each stratum's variance can be estimated) where the stratum holds that
many and the total allows, never more than N_h; rounded by largest remainders (Hamilton's
method), ties broken by stratum name so the allocation is the same on every run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from scipy.stats import norm

CONFIDENCE = 0.95
WORST_CASE = 0.5  # p(1 - p) is largest at p = 0.5


def z_for(confidence: float = CONFIDENCE) -> float:
    """The two-sided normal quantile: 1.959964 for 95%."""
    return float(norm.ppf(0.5 + confidence / 2))


def size_for_proportion(
    width: float, population: int, prior: float = WORST_CASE, confidence: float = CONFIDENCE
) -> int:
    """Cochran's n for a proportion near ``prior`` to within +-``width`` in a population of
    ``population`` units, rounded up."""
    if not 0 < width < 1:
        raise ValueError("the target half-width must lie strictly between 0 and 1")
    if not 0 < prior < 1:
        raise ValueError("the prior rate must lie strictly between 0 and 1")
    if population <= 0:
        return 0
    n0 = z_for(confidence) ** 2 * prior * (1 - prior) / width**2
    n = n0 / (1 + (n0 - 1) / population)
    return min(population, math.ceil(n - 1e-9))


def size_for_accuracy(
    width: float, incidents: int, crime_share: float, prior: float = WORST_CASE, confidence: float = CONFIDENCE
) -> int:
    """Incidents to sample so that recording accuracy (a rate over the ``crime_share`` of them
    that should be crimes) has a 95% interval of +-``width``."""
    if incidents <= 0:
        return 0
    if not 0 < crime_share <= 1:
        raise ValueError("the share of incidents that should be crimes must lie in (0, 1]")
    crimes = max(1, round(crime_share * incidents))
    needed = size_for_proportion(width, crimes, prior, confidence)
    return min(incidents, math.ceil(needed / crime_share - 1e-9))


def proportional(sizes: Mapping[str, int], total: int, minimum: int = 2) -> dict[str, int]:
    """``total`` units allocated over strata of ``sizes`` units in proportion to their size, at
    least ``minimum`` per non-empty stratum where possible (fewer where the total cannot give
    every stratum that many), never more than a stratum holds."""
    strata = {name: n for name, n in sizes.items() if n > 0}
    out = dict.fromkeys(sizes, 0)
    if not strata or total <= 0:
        return out
    if total >= sum(strata.values()):
        out.update(strata)  # a census
        return out
    floor = minimum
    while floor > 0 and sum(min(floor, n) for n in strata.values()) > total:
        floor -= 1
    fixed: dict[str, int] = {}
    free = dict(strata)
    while True:
        rest = total - sum(fixed.values())
        room = sum(free.values())
        quota = {name: rest * n / room for name, n in free.items()}
        low = {name for name in free if quota[name] < min(floor, free[name])}
        full = {name for name in free if quota[name] > free[name]}
        if not low and not full:
            break
        for name in low:
            fixed[name] = min(floor, free.pop(name))
        for name in full - low:
            fixed[name] = free.pop(name)
    base = {name: math.floor(q) for name, q in quota.items()}
    left = rest - sum(base.values())
    by_remainder = sorted(quota, key=lambda name: (-(quota[name] - base[name]), name))
    for name in by_remainder[:left]:
        base[name] += 1
    out.update(fixed)
    out.update(base)
    return out


def capped(sizes: Mapping[str, int], per_stratum: int) -> dict[str, int]:
    """Up to ``per_stratum`` units from each stratum (all of a smaller one)."""
    return {name: min(n, max(per_stratum, 0)) for name, n in sizes.items()}
