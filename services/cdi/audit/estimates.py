"""Estimates from reviewed sample items, each with its 95% interval.

Every figure is a ratio of two population totals, R = Y / X: recording accuracy is the number of
crimes recorded over the number that should have been (y = 1 when the reviewer judged a crime
and found it recorded, x = 1 when the reviewer judged a crime); the blind-spot rate is, of the
crimes not recorded, the share the monitor raised no finding on; a rule's precision is the share
of its findings the reviewers confirmed; and so on. A domain (a division, an offence group, a
month) multiplies both y and x by its indicator.

The estimator is the combined ratio estimator of stratified sampling (Cochran, *Sampling
Techniques*, 3rd ed., 1977, chapter 6, ratio estimates in stratified random sampling), with
each stratum's reviewed items weighted N_h / n_h:

    Y^ = sum_h N_h ybar_h,   X^ = sum_h N_h xbar_h,   R^ = Y^ / X^

and the linearised (Taylor) variance (Cochran ch. 6; Lohr, *Sampling: Design and Analysis*,
ch. 4 and 9):

    v(R^) = (1 / X^^2) sum_h N_h^2 (1 - n_h / N_h) s_eh^2 / n_h,   e_i = y_i - R^ x_i

where s_eh^2 is the sample variance of e within stratum h. The interval is Wilson's at the
effective sample size n* = R^(1 - R^) / v(R^) (``cdi.audit.intervals``). When the domain's
sampled units all lie in one stratum, the estimate is that stratum's simple proportion and its
interval is Wilson's with the finite population correction: n* = m / (1 - n_h / N_h) for m
units in the domain (exactly statsmodels' Wilson interval on m when N_h is large).

A stratum with one reviewed unit (and more in its population) has no variance of its own: it
takes the mean within-stratum variance of the others (collapsed strata, Cochran ch. 5A). A
stratum with no reviewed unit is not represented: the estimate is for the strata reviewed, and
``Estimate.strata_missing`` says how many units were left out that way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from cdi.audit.intervals import CONFIDENCE, wilson
from cdi.audit.population import DISPOSAL, FINDING, INCIDENT, NO_GROUP, Population, Unit
from cdi.audit.verdicts import APPROPRIATE, CONFIRMED, CRIME, Verdict
from cdi.core.times import format_time

STRATIFIED, SINGLE_STRATUM, CENSUS, NO_DATA = "stratified", "wilson", "census", "none"
UNKNOWN_GROUP = "unknown"  # a crime whose offence group neither the reviewer nor the code gives
BREAKDOWNS = ("division", "offence_group", "month")


@dataclass(frozen=True, slots=True)
class Estimate:
    estimate: float | None  # None: nothing in the domain was reviewed
    low: float | None
    high: float | None
    reviewed: int  # reviewed units in the denominator (x = 1)
    count: int  # of them, in the numerator (y = 1)
    method: str  # STRATIFIED | SINGLE_STRATUM | CENSUS | NO_DATA
    effective_n: float | None = None
    strata_missing: int = 0  # population units in strata with no reviewed item
    true: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "reviewed": self.reviewed,
            "count": self.count,
            "method": self.method,
        }
        if self.effective_n is not None:
            out["effective_n"] = round(float(self.effective_n), 3)
        if self.strata_missing:
            out["units_in_unreviewed_strata"] = self.strata_missing
        if self.true is not None:
            out["true"] = self.true
        return out

    def covers(self, value: float) -> bool:
        return self.low is not None and self.high is not None and self.low <= value <= self.high


def ratio(
    rows: Iterable[tuple[str, float, float]], population: Mapping[str, int], confidence: float = CONFIDENCE
) -> Estimate:
    """R = Y / X from reviewed rows (stratum, y, x) of a stratified simple random sample whose
    strata hold ``population[stratum]`` units. Rows of every reviewed unit of the strata are
    needed, those outside the domain too (with x = y = 0)."""
    grouped: dict[str, list[tuple[float, float]]] = {}
    for stratum, y, x in rows:
        grouped.setdefault(stratum, []).append((y, x))
    missing = sum(n for name, n in population.items() if name not in grouped)
    parts: list[tuple[int, int, np.ndarray]] = []
    for name in sorted(grouped):
        values = np.asarray(grouped[name], dtype=float)
        size = population.get(name)
        if size is None or size < len(values):
            raise ValueError(f"stratum {name}: {len(values)} reviewed units but a population of {size}")
        parts.append((size, len(values), values))
    reviewed = int(sum(values[:, 1].sum() for _, _, values in parts))
    count = int(sum(values[:, 0].sum() for _, _, values in parts))
    total_x = float(sum(size * values[:, 1].mean() for size, _, values in parts))
    if total_x <= 0:
        return Estimate(None, None, None, 0, 0, NO_DATA, strata_missing=missing)
    total_y = float(sum(size * values[:, 0].mean() for size, _, values in parts))
    r = float(total_y / total_x)
    r = min(max(r, 0.0), 1.0)
    in_domain = [(size, n, values) for size, n, values in parts if values[:, 1].sum() > 0]
    if all(n == size for size, n, _ in in_domain):
        return Estimate(r, r, r, reviewed, count, CENSUS, strata_missing=missing)
    if len(in_domain) == 1:
        size, n, values = in_domain[0]
        m = float(values[:, 1].sum())
        effective = m / (1 - n / size)
        low, high = wilson(r * effective, effective, confidence)
        return Estimate(r, low, high, reviewed, count, SINGLE_STRATUM, effective, missing)
    variance = _variance(parts, r) / total_x**2
    # When every reviewed unit agrees (r is 0 or 1) the variance is 0: the units read are then all
    # the evidence there is.
    effective = r * (1 - r) / variance if variance > 0 and 0 < r < 1 else float(reviewed)
    low, high = wilson(r * effective, effective, confidence)
    return Estimate(r, low, high, reviewed, count, STRATIFIED, effective, missing)


def _variance(parts: Sequence[tuple[int, int, np.ndarray]], r: float) -> float:
    """sum_h N_h^2 (1 - f_h) s_eh^2 / n_h, with e = y - r x."""
    own: list[float | None] = []
    for _, n, values in parts:
        e = values[:, 0] - r * values[:, 1]
        own.append(float(e.var(ddof=1)) if n >= 2 else None)
    known = [s2 for s2 in own if s2 is not None]
    pooled = float(np.mean(known)) if known else 0.0
    total = 0.0
    for (size, n, _), s2 in zip(parts, own, strict=True):
        total += size**2 * (1 - n / size) * (pooled if s2 is None else s2) / n
    return total


# -- the audit's figures -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Count:
    """A number of crimes, from a rate: the unrecorded crimes of the period."""

    estimate: float | None
    low: float | None
    high: float | None
    recorded_volume: int
    true: float | None = None
    true_count: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "estimate": None if self.estimate is None else round(self.estimate, 1),
            "low": None if self.low is None else round(self.low, 1),
            "high": None if self.high is None else round(self.high, 1),
            "recorded_volume": self.recorded_volume,
            "method": "recorded_volume * (1 - accuracy) / accuracy",
        }
        if self.true is not None:
            out["true"] = round(self.true, 1)
        if self.true_count is not None:
            out["true_count"] = self.true_count
        return out


def unrecorded(volume: int, accuracy: Estimate) -> Count:
    """HMIC's extrapolation (domain.md 4.3, rule 20): the period's recorded crimes scaled by the
    estimated accuracy, recorded x (1 - p) / p. The bounds come from the accuracy's bounds (the
    function falls as p rises); a lower accuracy bound of 0 leaves the upper bound open (None)."""
    if accuracy.estimate is None or accuracy.estimate <= 0:
        return Count(None, None, None, volume)

    def scaled(p: float | None) -> float | None:
        return None if p is None or p <= 0 else volume * (1 - p) / p

    return Count(scaled(accuracy.estimate), scaled(accuracy.high), scaled(accuracy.low), volume)


@dataclass(frozen=True, slots=True)
class Reviewed:
    """A sampled unit with the verdict that stands on it, and its stratum in the design."""

    unit: Unit
    verdict: Verdict
    stratum: str


@dataclass(slots=True)
class AuditEstimates:
    recording_accuracy: Estimate
    unrecorded_crimes: Count
    blind_spot_rate: Estimate
    rule_precision: dict[str, Estimate]
    disposals_appropriate: Estimate
    breakdowns: dict[str, dict[str, dict[str, Estimate]]] = field(default_factory=dict)
    sample: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "recording_accuracy": self.recording_accuracy.to_dict(),
            "unrecorded_crimes": self.unrecorded_crimes.to_dict(),
            "blind_spot_rate": self.blind_spot_rate.to_dict(),
            "rule_precision": {rule: e.to_dict() for rule, e in sorted(self.rule_precision.items())},
            "disposals_appropriate": self.disposals_appropriate.to_dict(),
        }
        for dimension, domains in self.breakdowns.items():
            out[f"by_{dimension}"] = {
                name: {figure: e.to_dict() for figure, e in figures.items()}
                for name, figures in sorted(domains.items())
            }
        out["sample"] = self.sample
        return out


Indicator = Callable[[Reviewed], float]


def _is_crime(r: Reviewed) -> bool:
    return r.verdict.verdict == CRIME


def _recorded(r: Reviewed) -> bool:
    return bool(r.verdict.crime_recorded)


def accuracy_terms(r: Reviewed) -> tuple[float, float]:
    """(y, x) of recording accuracy: recorded crimes over crimes that should have been recorded."""
    crime = _is_crime(r)
    return float(crime and _recorded(r)), float(crime)


def blind_spot_terms(r: Reviewed) -> tuple[float, float]:
    """(y, x) of the blind-spot rate: of crimes not recorded, those no rule flagged."""
    missed = _is_crime(r) and not _recorded(r)
    return float(missed and not r.unit.flagged), float(missed)


def offence_group(r: Reviewed) -> str:
    """The domain of a crime by offence: the reviewer's group, else the incident code's."""
    if r.verdict.offence_group:
        return r.verdict.offence_group
    return r.unit.group if r.unit.group != NO_GROUP else UNKNOWN_GROUP


DOMAIN_OF: dict[str, Callable[[Reviewed], str]] = {
    "division": lambda r: r.unit.division,
    "offence_group": offence_group,
    "month": lambda r: format_time(r.unit.at)[:7],
}


def _rate(
    items: Sequence[Reviewed],
    sizes: Mapping[str, int],
    terms: Callable[[Reviewed], tuple[float, float]],
    domain: Callable[[Reviewed], bool] | None = None,
) -> Estimate:
    rows = []
    for r in items:
        y, x = terms(r)
        if domain is not None and not domain(r):
            y = x = 0.0
        rows.append((r.stratum, y, x))
    return ratio(rows, sizes)


def _breakdown(
    incidents: Sequence[Reviewed], sizes: Mapping[str, int], key: Callable[[Reviewed], str]
) -> dict[str, dict[str, Estimate]]:
    """Recording accuracy and the blind-spot rate in each domain of ``key`` (the domains of the
    crimes the reviewers found)."""
    out = {}
    for name in sorted({key(r) for r in incidents if _is_crime(r)}):

        def inside(r: Reviewed, name: str = name) -> bool:
            return key(r) == name

        out[name] = {
            "recording_accuracy": _rate(incidents, sizes, accuracy_terms, inside),
            "blind_spot_rate": _rate(incidents, sizes, blind_spot_terms, inside),
        }
    return out


def estimate(
    population: Population,
    reviewed: Sequence[Reviewed],
    sizes: Mapping[str, int],
    breakdowns: Sequence[str] = ("division",),
) -> AuditEstimates:
    """Every figure from the reviewed items; ``sizes`` gives each stratum's population N_h."""
    incidents = [r for r in reviewed if r.unit.kind == INCIDENT]
    findings = [r for r in reviewed if r.unit.kind == FINDING]
    disposals = [r for r in reviewed if r.unit.kind == DISPOSAL]

    def of_kind(kind: str) -> dict[str, int]:
        prefix = f"{kind}/"
        return {name: n for name, n in sizes.items() if name.startswith(prefix)}

    incident_sizes = of_kind(INCIDENT)
    accuracy = _rate(incidents, incident_sizes, accuracy_terms)
    blind = _rate(incidents, incident_sizes, blind_spot_terms)
    precision = {}
    for rule in sorted({r.unit.rule for r in findings if r.unit.rule}):
        stratum_rows = [r for r in findings if r.unit.rule == rule]
        strata = {r.stratum for r in stratum_rows}
        precision[rule] = _rate(
            stratum_rows,
            {name: n for name, n in of_kind(FINDING).items() if name in strata},
            lambda r: (float(r.verdict.verdict == CONFIRMED), 1.0),
        )
    appropriate = _rate(disposals, of_kind(DISPOSAL), lambda r: (float(r.verdict.verdict == APPROPRIATE), 1.0))
    tables: dict[str, dict[str, dict[str, Estimate]]] = {}
    for dimension in breakdowns:
        tables[dimension] = _breakdown(incidents, incident_sizes, DOMAIN_OF[dimension])
    return AuditEstimates(
        accuracy,
        unrecorded(population.recorded_volume, accuracy),
        blind,
        precision,
        appropriate,
        tables,
    )


def with_truth(estimates: AuditEstimates, truth: Mapping[str, Any]) -> AuditEstimates:
    """The same estimates with ``true`` filled in from ``cdi.audit.truth.true_values``."""

    def put(e: Estimate, value: float | None) -> Estimate:
        return replace(e, true=value) if value is not None else e

    out = AuditEstimates(
        put(estimates.recording_accuracy, truth.get("recording_accuracy")),
        estimates.unrecorded_crimes,
        put(estimates.blind_spot_rate, truth.get("blind_spot_rate")),
        {rule: put(e, truth.get("rule_precision", {}).get(rule)) for rule, e in estimates.rule_precision.items()},
        put(estimates.disposals_appropriate, truth.get("disposals_appropriate")),
        {},
        estimates.sample,
    )
    accuracy = truth.get("recording_accuracy")
    count = estimates.unrecorded_crimes
    if accuracy:
        volume = count.recorded_volume
        out.unrecorded_crimes = replace(
            count, true=volume * (1 - accuracy) / accuracy, true_count=truth.get("unrecorded_count")
        )
    for dimension, domains in estimates.breakdowns.items():
        known = truth.get("by", {}).get(dimension, {})
        out.breakdowns[dimension] = {
            name: {figure: put(e, known.get(name, {}).get(figure)) for figure, e in figures.items()}
            for name, figures in domains.items()
        }
    return out


# -- verdicts joined to the population and the design --------------------------------------------


@dataclass(slots=True)
class Joined:
    reviewed: list[Reviewed]
    sizes: dict[str, int]  # N_h of every stratum of the design
    unmatched: list[tuple[str, str]]  # verdicts on items the population does not hold
    differing_strata: list[str] = field(default_factory=list)  # the sample's N_h is not the history's


def join(
    population: Population,
    verdicts: Mapping[tuple[str, str], Verdict],
    design: Mapping[str, int] | None = None,
    strata: Mapping[tuple[str, str], str] | None = None,
) -> Joined:
    """Each standing verdict with its unit and stratum. With a sample's ``design`` (N_h by
    stratum) and item ``strata``, the sample's design is used; without, the strata and N_h are
    the population's, and the reviewed items of a stratum are taken as its simple random sample."""
    units = population.index()
    own = {name: len(members) for name, members in population.strata().items()}
    sizes = dict(design) if design is not None else own
    joined = Joined([], sizes, [])
    if design is not None:
        joined.differing_strata = sorted(
            name for name in set(design) | set(own) if design.get(name, 0) != own.get(name, 0)
        )
    for key in sorted(verdicts):
        unit = units.get(key)
        stratum = (strata or {}).get(key) if strata is not None else None
        if unit is None or (strata is not None and stratum is None):
            joined.unmatched.append(key)
            continue
        joined.reviewed.append(Reviewed(unit, verdicts[key], stratum or unit.stratum))
    return joined
