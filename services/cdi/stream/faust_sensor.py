"""Faust's Prometheus sensor, made cheap on the per-message path.

Faust calls its sensor several times for every message: on arrival, when a stream takes it and
hands it back, when it is acknowledged, for every send and every table access. The stock
``PrometheusMonitor`` keeps timing deques and labelled series for each of those, and measured
12-14% of the worker's busy time (benchmarks/RESULTS.md). This sensor keeps what the alerts,
dashboards and runbooks read (messages received, in total, per topic and the last offset per
partition; sends; commits, assignments, rebalances, end offsets) and does nothing for the rest.
The worker's own metrics (``cdi.stream.metrics``) count events, findings and lag.
"""

from __future__ import annotations

from typing import Any

from faust.sensors.prometheus import PrometheusMonitor
from faust.types import TP


class LeanFaustMonitor(PrometheusMonitor):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._per_topic: dict[str, Any] = {}
        self._per_partition: dict[TP, Any] = {}

    def on_message_in(self, tp: TP, offset: int, message: Any) -> None:
        metrics = self._metrics
        metrics.messages_received.inc()
        topic = self._per_topic.get(tp.topic)
        if topic is None:
            topic = self._per_topic[tp.topic] = metrics.messages_received_per_topics.labels(topic=tp.topic)
        topic.inc()
        partition = self._per_partition.get(tp)
        if partition is None:
            labels = metrics.messages_received_per_topics_partition.labels(topic=tp.topic, partition=tp.partition)
            partition = self._per_partition[tp] = labels
        partition.set(offset)

    def on_stream_event_in(self, tp: TP, offset: int, stream: Any, event: Any) -> None:
        return None

    def on_stream_event_out(self, tp: TP, offset: int, stream: Any, event: Any, state: Any = None) -> None:
        return None

    def on_message_out(self, tp: TP, offset: int, message: Any) -> None:
        return None

    def on_send_initiated(self, producer: Any, topic: str, message: Any, keysize: int, valsize: int) -> None:
        return None

    def on_send_completed(self, producer: Any, state: Any, metadata: Any) -> None:
        self._metrics.total_sent_messages.inc()

    def on_send_error(self, producer: Any, exc: BaseException, state: Any) -> None:
        # Counted only: Faust's own handler times the send from the state on_send_initiated
        # returned, which is None here.
        self.send_errors += 1
        self._metrics.total_error_messages_sent.inc()

    def on_table_get(self, table: Any, key: Any) -> None:
        return None

    def on_table_set(self, table: Any, key: Any, value: Any) -> None:
        return None

    def on_table_del(self, table: Any, key: Any) -> None:
        return None

    def _clear_partition_related_metrics(self) -> None:
        # Faust removes the labelled series at each rebalance: the cached children go with them.
        super()._clear_partition_related_metrics()
        self._per_topic.clear()
        self._per_partition.clear()
