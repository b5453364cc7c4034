"""The audit's estimates on the workbench's /metrics: recording accuracy, the blind-spot rate,
disposals appropriate, unrecorded crimes, each rule's precision and recording accuracy by
division, each with the bounds of its 95% interval, from the most recent audit sample with
verdicts (docs/audit.md, docs/metrics.md).

A figure is one series per bound (``bound``: estimate, low, high), so that a panel can draw the
interval as a band and an alert can compare a bound with a floor: ``CDIRulePrecisionLow`` fires
when a rule's upper bound is below ``rule_precision_min`` with enough of its findings reviewed.
A figure nothing was reviewed for (None) has no series: an absent series is "not known", where
0 would read as "known to be 0".

Labels are closed sets, as on the workbench's other metrics: ``rule`` one of the rules file,
``division`` one of its ``[force]`` divisions, anything else ``other``; ``kind`` and ``bound``
fixed. No sample id, item id, staff reference or verdict note reaches a label. Where several
unknown rules (or divisions) fold into ``other``, their counts are added up but no ratio is
given for ``other``: an interval pooled over several rules is no rule's interval.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from cdi.audit.estimates import AuditEstimates, Count, Estimate
from cdi.audit.population import KINDS
from cdi.core.times import parse_time
from cdi.stream.labels import ClosedSet

BOUNDS = ("estimate", "low", "high")


def _bounds(figure: Estimate | Count) -> Iterator[tuple[str, float]]:
    """(bound, value) of each bound the figure has."""
    for bound in BOUNDS:
        value = getattr(figure, bound)
        if value is not None:
            yield bound, float(value)


def _fold(estimates: Mapping[str, Estimate], closed: ClosedSet) -> tuple[dict[str, Estimate], Counter[str]]:
    """The estimates by label value, those that share one (several unknown names under ``other``)
    dropped; and the reviewed units by label value, added up."""
    by_label: dict[str, list[Estimate]] = {}
    for name, figure in sorted(estimates.items()):
        by_label.setdefault(closed(name), []).append(figure)
    reviewed = Counter({label: sum(e.reviewed for e in figures) for label, figures in by_label.items()})
    return {label: figures[0] for label, figures in by_label.items() if len(figures) == 1}, reviewed


def _period_end(sample: Mapping[str, Any]) -> float | None:
    """The sample period's end as Unix seconds, or None when the sample does not give one."""
    period = sample.get("period")
    end = period.get("end") if isinstance(period, Mapping) else None
    if not isinstance(end, str):
        return None
    try:
        return parse_time(end) / 1000
    except ValueError:
        return None


class AuditCollector(Collector):
    """Reads ``latest()`` at every scrape: it should be cheap (estimates kept since the verdicts
    last changed, not recomputed), and returns None while no audit sample has verdicts."""

    def __init__(
        self,
        latest: Callable[[], AuditEstimates | None],
        pipeline: str,
        rules: set[str],
        divisions: tuple[str, ...],
    ) -> None:
        self.latest = latest
        self.pipeline = pipeline
        self.rule = ClosedSet(rules, "a rule", "the rules file")
        self.division = ClosedSet(divisions, "a division", "the rules configuration's [force] divisions")

    def describe(self) -> Iterable[GaugeMetricFamily]:
        # Registration reads the names from here, not from collect(): latest() is not called
        # before the workbench serves.
        return list(self._families().values())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families = self._families()
        found = self.latest()
        if found is not None:
            self._fill(families, found)
        yield from families.values()

    def _fill(self, families: dict[str, GaugeMetricFamily], found: AuditEstimates) -> None:
        p = self.pipeline
        for name, figure in (
            ("recording_accuracy", found.recording_accuracy),
            ("blind_spot", found.blind_spot_rate),
            ("disposals_appropriate", found.disposals_appropriate),
            ("unrecorded_crimes", found.unrecorded_crimes),
        ):
            for bound, value in _bounds(figure):
                families[name].add_metric([p, bound], value)
        precision, reviewed = _fold(found.rule_precision, self.rule)
        for rule, figure in sorted(precision.items()):
            for bound, value in _bounds(figure):
                families["rule_precision"].add_metric([p, rule, bound], value)
        for rule, n in sorted(reviewed.items()):
            families["rule_findings_reviewed"].add_metric([p, rule], float(n))
        by_division = {
            division: figures["recording_accuracy"]
            for division, figures in found.breakdowns.get("division", {}).items()
            if "recording_accuracy" in figures
        }
        accuracy, _ = _fold(by_division, self.division)
        for division, figure in sorted(accuracy.items()):
            for bound, value in _bounds(figure):
                families["recording_accuracy_by_division"].add_metric([p, division, bound], value)
        items = found.sample.get("reviewed") or {}
        for kind in KINDS:  # every kind, 0 when none was reviewed; a kind the audit does not know, never
            families["items_reviewed"].add_metric([p, kind], float(items.get(kind, 0)))
        end = _period_end(found.sample)
        if end is not None:
            families["period_end"].add_metric([p], end)

    @staticmethod
    def _families() -> dict[str, GaugeMetricFamily]:
        bound = ["pipeline", "bound"]
        return {
            "recording_accuracy": GaugeMetricFamily(
                "cdi_audit_recording_accuracy_ratio",
                "Audit estimate of recording accuracy: of the crimes the reviewers judged should have been "
                "recorded, the share recorded within the deadline (bound: estimate, low, high of the 95% interval).",
                labels=bound,
            ),
            "blind_spot": GaugeMetricFamily(
                "cdi_audit_blind_spot_ratio",
                "Audit estimate of the blind-spot rate: of the crimes not recorded, the share no rule raised "
                "a finding on (bound: estimate, low, high of the 95% interval).",
                labels=bound,
            ),
            "disposals_appropriate": GaugeMetricFamily(
                "cdi_audit_disposals_appropriate_ratio",
                "Audit estimate of the share of out-of-court disposals the reviewers judged appropriate "
                "(bound: estimate, low, high of the 95% interval).",
                labels=bound,
            ),
            "unrecorded_crimes": GaugeMetricFamily(
                "cdi_audit_unrecorded_crimes",
                "Audit estimate of the crimes left unrecorded in the sample's period, from the recorded crimes "
                "and the recording accuracy (bound: estimate, low, high).",
                labels=bound,
            ),
            "rule_precision": GaugeMetricFamily(
                "cdi_audit_rule_precision_ratio",
                "Audit estimate of a rule's precision: the share of its reviewed findings the reviewers confirmed "
                "(bound: estimate, low, high of the 95% interval).",
                labels=["pipeline", "rule", "bound"],
            ),
            "rule_findings_reviewed": GaugeMetricFamily(
                "cdi_audit_rule_findings_reviewed",
                "Findings of the rule reviewed in the audit sample: the evidence behind its precision.",
                labels=["pipeline", "rule"],
            ),
            "recording_accuracy_by_division": GaugeMetricFamily(
                "cdi_audit_recording_accuracy_by_division_ratio",
                "Audit estimate of recording accuracy within a division "
                "(bound: estimate, low, high of the 95% interval).",
                labels=["pipeline", "division", "bound"],
            ),
            "items_reviewed": GaugeMetricFamily(
                "cdi_audit_items_reviewed",
                "Items of the audit sample with a verdict, by kind (incident, finding, disposal).",
                labels=["pipeline", "kind"],
            ),
            "period_end": GaugeMetricFamily(
                "cdi_audit_sample_period_end_timestamp_seconds",
                "End of the period the audit sample was drawn from, Unix time: how old the estimates' evidence is.",
                labels=["pipeline"],
            ),
        }
