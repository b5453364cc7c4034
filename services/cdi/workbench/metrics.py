"""The workbench's /metrics: how many cases are open, acknowledged or closed (so an alert can
stay up until someone has taken a case), and how the feed is doing.

``cdi_cases`` counts breaches only, and the case-work alerts page on it; findings for review
(the records cannot settle them) are ``cdi_cases_review``, which no alert reads, as the workers
count them apart in ``cdi_findings_review_total`` (docs/rules.md, "Breach or review").

Counts are read from the database at scrape time: every replica reports the same numbers, and a
restart loses nothing. Labels are closed sets (rules of the rules file, the divisions of its
``[force]`` table, the severities and statuses of the contracts): no case identifier, staff
reference or free text reaches a label.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from cdi.core.findings import REVIEW, SEVERITIES
from cdi.stream.labels import OTHER, ClosedSet
from cdi.workbench.feed import FeedStatus
from cdi.workbench.store import CaseStore


class WorkbenchCollector(Collector):
    def __init__(self, store: CaseStore, status: FeedStatus, rules: set[str], divisions: tuple[str, ...]) -> None:
        self.store = store
        self.status = status
        self.rule = ClosedSet(rules, "a rule", "the rules file")
        self.division = ClosedSet(divisions, "a division", "the rules configuration's [force] divisions")

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        pipeline = self.store.pipeline
        labels = ["pipeline", "rule", "division", "severity", "status", "acknowledged"]
        cases = GaugeMetricFamily(
            "cdi_cases",
            "Breaches in the workbench's view by rule, division, severity, status (open, resolved, closed) "
            "and whether someone has acknowledged them; findings for review are cdi_cases_review.",
            labels=labels,
        )
        reviews = GaugeMetricFamily(
            "cdi_cases_review",
            "Findings for review (the records cannot settle them) in the workbench's view, as cdi_cases; "
            "no alert pages on them.",
            labels=labels,
        )
        folded: dict[bool, Counter[tuple[str, ...]]] = {False: Counter(), True: Counter()}
        for row in self.store.case_counts():
            key = (
                pipeline,
                self.rule(row["rule"]),
                self.division(row["division"]),
                row["severity"] if row["severity"] in SEVERITIES else OTHER,
                row["status"],
                "true" if row["acknowledged"] else "false",
            )
            folded[row["assessment"] == REVIEW][key] += row["count"]
        for family, review in ((cases, False), (reviews, True)):
            for key, count in sorted(folded[review].items()):
                family.add_metric(list(key), count)
            yield family
        caught_up = GaugeMetricFamily(
            "cdi_workbench_caught_up",
            "1 once the view has read the topics to their end at start-up.",
            labels=["pipeline"],
        )
        caught_up.add_metric([pipeline], 1.0 if self.status.caught_up else 0.0)
        yield caught_up
        feed_up = GaugeMetricFamily(
            "cdi_workbench_feed_up",
            "1 while the feed reads the topics into the view; 0 while it retries after an error "
            "(the broker or the database refused; the log says which).",
            labels=["pipeline"],
        )
        feed_up.add_metric([pipeline], 0.0 if self.status.error else 1.0)
        yield feed_up
        last_poll = GaugeMetricFamily(
            "cdi_workbench_last_poll_timestamp_seconds",
            "Wall time of the feed's last completed poll and database write.",
            labels=["pipeline"],
        )
        last_poll.add_metric([pipeline], self.status.last_poll)
        yield last_poll
        applied = CounterMetricFamily(
            "cdi_workbench_records", "Topic records the view applied since this process started.", labels=["pipeline"]
        )
        applied.add_metric([pipeline], float(self.status.records))
        yield applied
        refused = CounterMetricFamily(
            "cdi_workbench_records_refused",
            "Topic records the view could not apply (malformed, failing their contract, wrong topic).",
            labels=["pipeline", "reason"],
        )
        for reason, n in sorted(self.status.refused.items()):
            refused.add_metric([pipeline, reason], float(n))
        yield refused
