"""Live mode: with no further input at all (and a silent crimes topic), the wall clock moves the
watermark, so a deadline still fires; in event mode the same input waits for more events."""

from __future__ import annotations

import time

import orjson
import pytest

from cdi import rules
from cdi.core.times import format_time
from cdi.publish import publish
from tests.stream.worker_process import WorkerProcess, findings, isolated_settings, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def quick_rules(tmp_path):
    """The default rules with a 3-second lateness and a 5-second recording deadline."""
    text = rules.DEFAULT.read_text()
    text = text.replace("allowed_lateness_minutes = 10", "allowed_lateness_minutes = 0.05")
    text = text.replace("deadline_hours = 24", "deadline_hours = 0.0014", 2)
    path = tmp_path / "quick.toml"
    path.write_text(text)
    return path


def incident(event_id: str, incident_id: str, at_ms: int) -> bytes:
    return orjson.dumps(
        {
            "event_id": event_id,
            "type": "incident.opened",
            "schema_version": 1,
            "occurred_at": format_time(at_ms),
            "force": "SYNTH",
            "division": "NORTH",
            "payload": {"incident_id": incident_id, "opening_code": "ASSAULT"},
        }
    )


@pytest.mark.parametrize("clock", ["live", "event"])
def test_a_quiet_feed_does_not_freeze_deadlines_in_live_mode(kafka_bootstrap, tmp_path, clock):
    settings = isolated_settings(kafka_bootstrap, partitions=1, clock=clock, rules_path=quick_rules(tmp_path))
    with WorkerProcess(settings) as worker:
        now = int(time.time() * 1000)
        publish(settings, [incident("ev-1", "I1", now)], end=False)
        # Live: the deadline (5 s) plus the lateness (3 s) pass on the wall clock. Event mode: nothing
        # may come, however long we wait; 15 s is ample to show it.
        got = findings(read_topic(settings, "findings", until=1, timeout=40 if clock == "live" else 15))
        if clock == "live":
            assert [r["payload"]["finding_id"] for r in got] == ["CRIME_INDICATIVE_INCIDENT_NOT_CRIMED/incident/I1"]
            assert worker.total("cdi_watermark_timestamp_seconds") > now / 1000
        else:
            assert got == []  # the crimes topic has said nothing: event time cannot move
