"""Recording compliance and timeliness from the core's observations, with Wilson score intervals.

Definitions (also printed in the report and in docs/report.md):

- Recording compliance: of the crime-indicative incidents that reached their recording deadline
  (one ``RecordingDecision`` each), the share whose result is ``recorded`` (a linked crime record
  by the deadline) or ``explained`` (closed by the deadline to a non-crime, sink or admin code
  with a written rationale). ``not_recorded`` is the breach. This is NCRS's "record or explain"
  and the same ratio the live dashboards and alerts use, so the report and Grafana agree.
- Recorded within 24 hours: of the crimes linked to a reported incident (one ``RecordingDelay``
  each), the share whose recording decision came at most 24 hours after the clock's start (the
  disclosure by default; exactly 24 h is in time, as for CRD_LATE).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import NamedTuple

from cdi.core.observations import Observation, RecordingDecision, RecordingDelay

# Two-sided 95%: the 97.5th percentile of the standard normal (1.959963984540054), from the
# standard library rather than the rounded 1.96, so intervals match statistical packages.
Z_95 = NormalDist().inv_cdf(0.975)

COMPLIANCE_BENCHMARK = 0.90  # domain rule 20, p_min (HMIC inspection benchmarks [S26][S27][S33])
WITHIN_24H_BENCHMARK = 0.95  # domain rule 1, p_24h (NCRS 24 hours [S1]; Leicestershire 93.7% [S37])
WITHIN_SECONDS = 24 * 3600.0

RECORDED = "recorded"
EXPLAINED = "explained"
NOT_RECORDED = "not_recorded"
RESULTS = (RECORDED, EXPLAINED, NOT_RECORDED)

# How an interval stands against a benchmark.
BELOW = "below"  # the whole interval is under it: the shortfall is not chance
UNCLEAR = "unclear"  # the interval straddles it
MEETS = "meets"  # the whole interval is at or above it

ALL = "All divisions"


def wilson_interval(count: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for ``count`` successes in ``total`` trials, as statsmodels computes
    it (``proportion_confint(method="wilson")``).

    Unlike the textbook p +- z*se it stays inside [0, 1] and does not collapse to a point at 0 or
    n successes, which matters for small divisions and offence groups.
    """
    from statsmodels.stats.proportion import proportion_confint

    if total <= 0:
        raise ValueError("a proportion needs at least one trial")
    if not 0 <= count <= total:
        raise ValueError(f"{count} successes is not between 0 and {total}")
    # statsmodels takes the significance level; z = 1.96 is alpha = 0.05.
    alpha = 2 * (1 - NormalDist().cdf(z))
    low, high = proportion_confint(count, total, alpha=alpha, method="wilson")
    # At 0 or n successes the bound is exactly 0 or 1; the subtraction leaves rounding dust.
    low = 0.0 if count == 0 else max(0.0, float(low))
    high = 1.0 if count == total else min(1.0, float(high))
    return low, high


class Proportion(NamedTuple):
    count: int
    total: int
    low: float
    high: float

    @property
    def share(self) -> float:
        return self.count / self.total

    @classmethod
    def of(cls, count: int, total: int) -> Proportion:
        low, high = wilson_interval(count, total)
        return cls(count, total, low, high)


def standing(rate: Proportion, benchmark: float) -> str:
    if rate.high < benchmark:
        return BELOW
    if rate.low >= benchmark:
        return MEETS
    return UNCLEAR


@dataclass(frozen=True, slots=True)
class ComplianceRow:
    name: str
    recorded: int
    explained: int
    not_recorded: int
    rate: Proportion  # count = recorded + explained
    standing: str


@dataclass(frozen=True, slots=True)
class TimelinessRow:
    name: str
    within: int
    late: int
    rate: Proportion  # count = within
    standing: str


@dataclass(frozen=True, slots=True)
class RecordingCompliance:
    by_division: tuple[ComplianceRow, ...]
    by_offence_group: tuple[ComplianceRow, ...]
    overall: ComplianceRow | None  # None when no incident reached its deadline


@dataclass(frozen=True, slots=True)
class Timeliness:
    by_division: tuple[TimelinessRow, ...]
    overall: TimelinessRow | None  # None when no linked crime was timed


def _compliance_row(name: str, results: Counter[str]) -> ComplianceRow:
    compliant = results[RECORDED] + results[EXPLAINED]
    rate = Proportion.of(compliant, compliant + results[NOT_RECORDED])
    return ComplianceRow(
        name,
        results[RECORDED],
        results[EXPLAINED],
        results[NOT_RECORDED],
        rate,
        standing(rate, COMPLIANCE_BENCHMARK),
    )


def recording_compliance(observations: Iterable[Observation]) -> RecordingCompliance:
    by_division: dict[str, Counter[str]] = {}
    by_group: dict[str, Counter[str]] = {}
    overall: Counter[str] = Counter()
    for obs in observations:
        if not isinstance(obs, RecordingDecision):
            continue
        if obs.result not in RESULTS:
            # A result this report does not know would silently shift the ratio; refuse instead.
            raise ValueError(f"unknown recording decision result {obs.result!r}")
        by_division.setdefault(obs.division, Counter())[obs.result] += 1
        by_group.setdefault(obs.offence_group, Counter())[obs.result] += 1
        overall[obs.result] += 1
    return RecordingCompliance(
        tuple(_compliance_row(name, by_division[name]) for name in sorted(by_division)),
        tuple(_compliance_row(name, by_group[name]) for name in sorted(by_group)),
        _compliance_row(ALL, overall) if overall else None,
    )


def _timeliness_row(name: str, delays: Sequence[float]) -> TimelinessRow:
    within = sum(1 for seconds in delays if seconds <= WITHIN_SECONDS)
    rate = Proportion.of(within, len(delays))
    return TimelinessRow(name, within, len(delays) - within, rate, standing(rate, WITHIN_24H_BENCHMARK))


def timeliness(observations: Iterable[Observation]) -> Timeliness:
    by_division: dict[str, list[float]] = {}
    for obs in observations:
        if isinstance(obs, RecordingDelay):
            by_division.setdefault(obs.division, []).append(obs.seconds)
    every = [seconds for name in sorted(by_division) for seconds in by_division[name]]
    return Timeliness(
        tuple(_timeliness_row(name, by_division[name]) for name in sorted(by_division)),
        _timeliness_row(ALL, every) if every else None,
    )
