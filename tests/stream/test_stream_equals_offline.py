"""The strongest test: a simulated history through a running worker on a real Kafka broker gives
exactly the findings of the offline backtest, which equal the simulator's ground truth, and the
worker's /metrics counts equal the events and findings."""

from __future__ import annotations

import time

import orjson
import pytest

from cdi import backtest
from cdi.core.times import parse_time
from cdi.history import read_lines, write_events
from cdi.publish import publish
from cdi.scoring import key_of
from cdi.simulation import SimulationOptions, simulate
from tests.stream.worker_process import WorkerProcess, difference, findings, isolated_settings, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    sim = simulate(SimulationOptions(days=7, seed=1))
    path = tmp_path_factory.mktemp("history") / "history.jsonl.gz"
    write_events(path, sim.events)
    offline = backtest.run(path)
    return path, sim, offline


def test_offline_backtest_equals_ground_truth(history):
    _, sim, offline = history
    assert sorted(key_of(f.to_dict()) for f in offline.findings) == sorted(key_of(t) for t in sim.truth)
    assert offline.dead_letters == []


def test_stream_findings_equal_offline_and_metrics_count_everything(history, kafka_bootstrap):
    path, sim, offline = history
    settings = isolated_settings(kafka_bootstrap)
    expected = sorted(
        (f.to_dict() for f in offline.findings), key=lambda r: (r["occurred_at"], r["event_id"], r["type"])
    )
    with WorkerProcess(settings) as worker:
        published = publish(settings, (raw for _, raw in read_lines(path)))
        started = time.monotonic()
        got = findings(read_topic(settings, "findings", until=len(expected), timeout=240))
        elapsed = time.monotonic() - started
        assert got == expected, difference(got, expected, worker)  # whole records: ids, times, evidence, explanations
        assert sorted(key_of(r) for r in got) == sorted(key_of(t) for t in sim.truth)
        # Metrics: every published event is counted once, as applied or as a duplicate.
        deadline = time.monotonic() + 30
        while worker.total("cdi_events_consumed_total") < sum(offline.events.values()) and time.monotonic() < deadline:
            time.sleep(0.5)
        metrics = worker.metrics()
        consumed = {k: v for k, v in metrics.items() if k.startswith("cdi_events_consumed_total")}
        assert consumed == {
            f'cdi_events_consumed_total{{pipeline="live",type="{t}"}}': float(n) for t, n in offline.events.items()
        }
        assert worker.total("cdi_events_duplicate_total") == offline.duplicates
        assert published.events == sum(offline.events.values()) + offline.duplicates
        raised = sum(1 for f in expected if f["type"] == "finding.raised")
        reviews = sum(1 for f in expected if f["type"] == "finding.raised" and f["payload"]["assessment"] == "review")
        assert reviews > 0, "the simulation should raise review findings (fast outcomes, at least)"
        assert worker.total("cdi_findings_raised_total") == raised - reviews  # breaches only
        assert worker.total("cdi_findings_review_total") == reviews
        assert worker.total("cdi_findings_resolved_total") == len(expected) - raised
        assert worker.total("cdi_events_invalid_total") == 0
        assert worker.total("cdi_open_cases") == sum(offline.open_cases.values())
        decisions = sum(v for k, v in metrics.items() if k.startswith("cdi_recording_decisions_total"))
        assert decisions == sum(offline.decisions.values())
        print(
            f"\nstream: {published.events} events published in {published.seconds:.1f} s; all "
            f"{len(got)} findings read {elapsed:.1f} s after publishing ended"
        )


def test_bad_records_are_dead_lettered_with_their_reason_and_the_worker_goes_on(kafka_bootstrap):
    # One partition per topic: the watermark is the minimum over input partitions, and every one
    # of them must have spoken before an event can be judged late.
    settings = isolated_settings(kafka_bootstrap, partitions=1)
    good = {
        "event_id": "ev-1",
        "type": "incident.opened",
        "schema_version": 1,
        "occurred_at": "2026-03-02T10:00:00+00:00",
        "force": "SYNTH",
        "division": "NORTH",
        "payload": {"incident_id": "I1", "opening_code": "ASSAULT"},
    }
    invalid = {**good, "event_id": "ev-2", "payload": {"incident_id": "I2", "opening_code": "assault"}}
    late = {
        **good,
        "event_id": "ev-3",
        "occurred_at": "2026-03-02T09:00:00+00:00",
        "payload": {"incident_id": "I3", "opening_code": "THEFT"},
    }
    after = {
        **good,
        "event_id": "ev-4",
        "occurred_at": "2026-03-03T11:00:00+00:00",
        "payload": {"incident_id": "I4", "opening_code": "ADMIN"},
    }
    crime = {
        **good,
        "event_id": "ev-5",
        "type": "crime.recorded",
        "occurred_at": "2026-03-03T11:00:00+00:00",
        "payload": {"crime_id": "C9", "incident_id": "I9", "hocr_code": "49", "offence_group": "theft"},
    }
    lines = [orjson.dumps(good), b"{not json", orjson.dumps(invalid), orjson.dumps(after), orjson.dumps(crime)]
    with WorkerProcess(settings) as worker:
        publish(settings, lines, end=False)
        # Both input topics have moved event time on (and the progress broadcast has gone out)
        # before the late record is sent; across topics Kafka promises no order.
        # The worker's own watermark gauge says when the late record's time is behind it.
        late_at = parse_time(late["occurred_at"]) / 1000
        deadline = time.monotonic() + 120
        while worker.total("cdi_watermark_timestamp_seconds") <= late_at:
            assert time.monotonic() < deadline, f"the watermark never passed {late['occurred_at']}"
            time.sleep(0.2)
        publish(settings, [orjson.dumps(late)])
        dead = read_topic(settings, "dead-letters", until=3, timeout=120)
        reasons = sorted(dict(m.headers)["cdi-reason"].decode() for m in dead)
        assert reasons == ["late", "malformed", "schema"]
        raw = {dict(m.headers)["cdi-reason"].decode(): m.value for m in dead}
        assert raw["malformed"] == b"{not json"  # the original bytes, untouched
        assert orjson.loads(raw["late"])["event_id"] == "ev-3"
        sources = [dict(m.headers)["cdi-source"].decode() for m in dead]
        assert all(s.startswith(settings.topic_prefix + "incidents:") for s in sources)
        # The worker went on: the good incident was found unrecorded at its deadline.
        got = findings(read_topic(settings, "findings", until=1, timeout=60))
        assert [r["payload"]["finding_id"] for r in got] == ["CRIME_INDICATIVE_INCIDENT_NOT_CRIMED/incident/I1"]
        assert worker.total("cdi_events_invalid_total") == 2
        assert worker.total("cdi_events_late_total") == 1
        assert worker.total("cdi_dead_letters_total") == 3
        assert "I2" not in worker.log() and "assault" not in worker.log()  # no record values in logs
