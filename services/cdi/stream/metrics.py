"""Prometheus metrics of the worker. Labels are bounded sets only (rule, severity, division,
offence group, event type, reason, result, and the worker's pipeline); never an id. Division
and offence group come from closed sets (cdi.stream.labels): a value outside them is counted as
``other``. See docs/metrics.md.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from cdi.core.events import Event
from cdi.core.findings import REVIEW
from cdi.core.observations import (
    CancellationCounted,
    CrimeCounted,
    Observation,
    OutcomeCounted,
    ReclassificationCounted,
    RecordingDecision,
    RecordingDelay,
    UnmatchedDecision,
)
from cdi.stream.labels import UNKNOWN_GROUP, LabelSets

# The *_created series add nothing to rate() queries and double the exposition.
disable_created_metrics()

HOUR = 3600.0
DELAY_BUCKETS = (HOUR, 4 * HOUR, 12 * HOUR, 24 * HOUR, 48 * HOUR, 72 * HOUR, 7 * 24 * HOUR, 30 * 24 * HOUR)
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

#: The label every series of a worker carries: its namespace (CDI_NAMESPACE), "live" or a replay's name.
PIPELINE_LABEL = "pipeline"


def with_labels(family: Metric, labels: Mapping[str, str]) -> Metric:
    """A copy of a metric family with ``labels`` set on every sample. The family itself is left
    alone: a collector may hand out the same object on every scrape."""
    labelled = copy.copy(family)  # keeps type, unit, help and any fields of a family subclass
    labelled.samples = [sample._replace(labels={**sample.labels, **labels}) for sample in family.samples]
    return labelled


class PipelineRegistry(CollectorRegistry):
    """A registry that adds ``pipeline="<namespace>"`` to every sample it yields.

    The label is added when the registry is collected (that is what Faust's /metrics page and
    ``generate_latest`` read), not declared by each metric, because Faust's sensor creates its
    metrics with fixed label names in this same registry. prometheus_client has no constant
    labels, and a Prometheus target label would not do: the scrape configuration cannot know
    which namespace a worker was started with, and a replay must stay apart from live traffic
    even when it is scraped in the live job. A sample's own ``pipeline`` label, should a
    collector ever set one, is overwritten: the worker's namespace is the authority.
    (``restricted_registry``, which bypasses ``collect``, is not relabelled; nothing here uses it.)
    """

    def __init__(self, pipeline: str) -> None:
        if not pipeline:
            # Prometheus drops a label with an empty value: the series would look unlabelled
            # and Alertmanager would route their alerts as live.
            raise ValueError("the pipeline label needs a value (the worker's namespace)")
        super().__init__()
        self.pipeline = pipeline

    def collect(self) -> Iterator[Metric]:
        labels = {PIPELINE_LABEL: self.pipeline}
        for family in super().collect():
            yield with_labels(family, labels)


class OpenCases(Collector):
    """Crime-indicative incidents awaiting a recording decision, by division, computed at scrape
    time from the partitions this worker owns (so a rebalance never leaves stale counts)."""

    def __init__(self, source: Callable[[], Iterable[tuple[str, int]]], labels: LabelSets | None = None) -> None:
        self.source = source
        self.labels = labels or LabelSets.default()

    def collect(self):  # type: ignore[no-untyped-def]
        family = GaugeMetricFamily(
            "cdi_open_cases",
            "Crime-indicative incidents awaiting a recording "
            "decision (not recorded, not explained, deadline not reached)",
            labels=["division"],
        )
        totals: dict[str, int] = {}
        for division, count in self.source():
            label = self.labels.division(division)
            totals[label] = totals.get(label, 0) + count
        for division, count in sorted(totals.items()):
            family.add_metric([division], count)
        yield family


class Metrics:
    def __init__(
        self, registry: CollectorRegistry, rules_version: str, version: str, labels: LabelSets | None = None
    ) -> None:
        self.registry = registry
        # Closed sets for the division and offence_group labels: the rules' divisions and the known
        # offence groups (the packaged defaults when not given); anything else is "other".
        self.labels = labels or LabelSets.default()
        self.consumed = Counter(
            "cdi_events_consumed", "Events applied to the rules, by type", ["type"], registry=registry
        )
        self.duplicates = Counter(
            "cdi_events_duplicate", "Events dropped as duplicates (same event_id)", ["type"], registry=registry
        )
        self.late = Counter(
            "cdi_events_late",
            "Events older than the watermark (beyond the allowed lateness), dead-lettered",
            ["type"],
            registry=registry,
        )
        self.skipped = Counter(
            "cdi_stage_skips",
            "Holes in a partition's offsets as an agent (a stage, or route) met them: seeks back, refills, losses",
            ["stage", "outcome"],
            registry=registry,
        )
        self.clocks_refused = Counter(
            "cdi_clocks_refused",
            "Saved stage clocks refused at restore because they lie beyond the admission bounds",
            ["stage"],
            registry=registry,
        )
        self.invalid = Counter(
            "cdi_events_invalid",
            "Records that failed decoding or their contract, dead-lettered",
            ["reason"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "cdi_dead_letters", "Records sent to the dead-letter topic", ["reason"], registry=registry
        )
        self.findings = Counter(
            "cdi_findings_raised",
            "Findings raised that the records show to be breaches (assessment breach)",
            ["rule", "severity", "division", "offence_group"],
            registry=registry,
        )
        # Apart from breaches, so no rate, compliance figure or alert counts a question as a breach.
        self.reviews = Counter(
            "cdi_findings_review",
            "Findings raised for review: the records cannot settle them (assessment review)",
            ["rule", "severity", "division", "offence_group"],
            registry=registry,
        )
        self.resolved = Counter(
            "cdi_findings_resolved",
            "Findings resolved by a later event",
            ["rule", "resolution", "division", "offence_group"],
            registry=registry,
        )
        self.decisions = Counter(
            "cdi_recording_decisions",
            "Crime-indicative incidents at their deadline, by result (recorded, explained, not_recorded)",
            ["division", "offence_group", "result"],
            registry=registry,
        )
        self.delay = Histogram(
            "cdi_recording_delay_seconds",
            "Delay from incident report to crime record",
            ["division", "offence_group"],
            buckets=DELAY_BUCKETS,
            registry=registry,
        )
        self.crimes = Counter(
            "cdi_crimes_recorded",
            "Crime records, by division, offence group and whether rape",
            ["division", "offence_group", "rape"],
            registry=registry,
        )
        self.outcomes = Counter(
            "cdi_outcomes",
            "Outcomes assigned, by Home Office outcome type",
            ["division", "offence_group", "outcome_type"],
            registry=registry,
        )
        self.cancellations = Counter(
            "cdi_cancellations",
            "Crime records cancelled or transferred, by criterion",
            ["division", "offence_group", "code", "rape"],
            registry=registry,
        )
        self.reclassifications = Counter(
            "cdi_reclassifications",
            "Reclassifications, by direction of seriousness",
            ["division", "offence_group", "direction"],
            registry=registry,
        )
        self.unmatched = Counter(
            "cdi_unmatched_decisions",
            "Outcomes, cancellations and reclassifications for a crime with no record at the time",
            ["type"],
            registry=registry,
        )
        self.lag = Histogram(
            "cdi_processing_lag_seconds",
            "Wall time from publication of an input record to its processing",
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.watermark = Gauge(
            "cdi_watermark_timestamp_seconds",
            "Event-time watermark: the lowest over the partitions this worker owns",
            registry=registry,
        )
        self.max_event = Gauge("cdi_event_time_max_timestamp_seconds", "Latest event time seen", registry=registry)
        self.last_processed = Gauge(
            "cdi_last_processed_timestamp_seconds",
            "Wall time the worker last processed an input record",
            registry=registry,
        )
        self._seen: set[tuple[str, str]] = set()
        info = Gauge(
            "cdi_build_info", "Version of the monitor and of its rules", ["version", "rules_version"], registry=registry
        )
        info.labels(version, rules_version).set(1)

    def record_findings(self, findings: Iterable[Event]) -> None:
        for finding in findings:
            p = finding.payload
            division = self.labels.division(finding.division)
            group = self.labels.offence_group(p.offence_group or UNKNOWN_GROUP)
            if finding.type == "finding.raised":
                counter = self.reviews if p.assessment == REVIEW else self.findings
                counter.labels(p.rule, p.severity, division, group).inc()
            else:
                self.resolved.labels(p.rule, p.resolution, division, group).inc()

    def _first_sight(self, division: str, group: str) -> None:
        """Create a division and offence group's children of the rate metrics at zero, the first
        time the pair is seen. A counter child otherwise appears with its first increment already
        counted, which increase() cannot see: for rare series, such as rape cancellations, that
        would be most of the count. Bounded: one set per pair of labels (closed sets, so at most
        (divisions + 1) x (offence groups + 1) pairs)."""
        if (division, group) in self._seen:
            return
        self._seen.add((division, group))
        rape_flags = ("false", "true") if group == "sexual_offences" else ("false",)
        for result in ("recorded", "explained", "not_recorded"):
            self.decisions.labels(division, group, result)
        for rape in rape_flags:
            self.crimes.labels(division, group, rape)
            for code in ("C1", "C2", "C3", "C4", "C5"):
                self.cancellations.labels(division, group, code, rape)
        for outcome_type in range(1, 23):
            self.outcomes.labels(division, group, str(outcome_type))
        for direction in ("down", "up", "level", "unknown"):
            self.reclassifications.labels(division, group, direction)
        self.delay.labels(division, group)

    def record_observations(self, observations: Iterable[Observation]) -> None:
        for obs in observations:
            if isinstance(obs, UnmatchedDecision):
                self.unmatched.labels(obs.type).inc()
                continue
            # Every other observation has a division and an offence group: labels from the closed sets.
            division = self.labels.division(obs.division)
            group = self.labels.offence_group(obs.offence_group or UNKNOWN_GROUP)
            self._first_sight(division, group)
            if isinstance(obs, RecordingDelay):
                self.delay.labels(division, group).observe(obs.seconds)
            elif isinstance(obs, RecordingDecision):
                self.decisions.labels(division, group, obs.result).inc()
            elif isinstance(obs, CrimeCounted):
                self.crimes.labels(division, group, str(obs.rape).lower()).inc()
            elif isinstance(obs, OutcomeCounted):
                self.outcomes.labels(division, group, str(obs.outcome_type)).inc()
            elif isinstance(obs, CancellationCounted):
                self.cancellations.labels(division, group, obs.code, str(obs.rape).lower()).inc()
            elif isinstance(obs, ReclassificationCounted):
                self.reclassifications.labels(division, group, obs.direction).inc()
