"""The worker's cheap Faust sensor keeps the series alerts and runbooks read, and every hook it
makes cheap still works when Faust calls it, a failed send included (no broker)."""

from __future__ import annotations

from faust.sensors.prometheus import FaustMetrics
from faust.types import TP
from prometheus_client import CollectorRegistry

from cdi.stream.faust_sensor import LeanFaustMonitor


def test_counts_messages_sends_and_failed_sends():
    registry = CollectorRegistry()
    sensor = LeanFaustMonitor(metrics=FaustMetrics.create(registry, "cdi_faust"))
    tp = TP("cdi.incidents", 2)
    for offset in (7, 8):
        sensor.on_message_in(tp, offset, None)
    state = sensor.on_send_initiated(None, "cdi.findings", None, 3, 10)
    sensor.on_send_completed(None, state, None)
    state = sensor.on_send_initiated(None, "cdi.findings", None, 3, 10)
    sensor.on_send_error(None, OSError("refused"), state)

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("cdi_faust_messages_received_total") == 2
    assert value("cdi_faust_messages_received_per_topic_total", topic="cdi.incidents") == 2
    assert value("cdi_faust_messages_received_per_topics_partition", topic="cdi.incidents", partition="2") == 8
    assert value("cdi_faust_total_sent_messages_total") == 1
    assert value("cdi_faust_total_error_messages_sent_total") == 1
    assert sensor.send_errors == 1
