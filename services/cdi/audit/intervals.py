"""95% intervals for a proportion: the Wilson score interval, as statsmodels computes it
(``proportion_confint(method="wilson")``), given the number of trials it is worth.

A rate estimated from a stratified sample is worth fewer or more trials than the units read:
its effective sample size is n* = p(1 - p) / v(p), where v is the design's variance of the
estimate (Kish, *Survey Sampling*, 1965, the design effect; Korn and Graubard, "Confidence
intervals for proportions with small expected number of positive counts estimated from survey
data", *Survey Methodology* 24(2), 1998, use n* in a binomial interval the same way). Wilson's
interval at n* keeps the interval inside [0, 1] and away from a point at 0 or 1, where the
normal interval p +- z sqrt(v) collapses (a blind-spot rate or a rule's precision near 0 or 1).
"""

from __future__ import annotations

from statsmodels.stats.proportion import proportion_confint

CONFIDENCE = 0.95


def wilson(successes: float, trials: float, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval for ``successes`` in ``trials``; both may be effective (fractional)
    counts. The bounds are exactly 0 or 1 when the rate is."""
    if trials <= 0:
        raise ValueError("a proportion needs trials")
    if not 0 <= successes <= trials * (1 + 1e-12):
        raise ValueError(f"{successes} successes is not between 0 and {trials}")
    successes = min(successes, trials)
    low, high = proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")
    low = 0.0 if successes <= 0 else max(0.0, float(low))
    high = 1.0 if successes >= trials else min(1.0, float(high))
    return low, high
