"""Event-time poisoning on a real broker: events dated far ahead or long ago, and forged end
markers, on every input partition, in the middle of a history. None of them moves a clock: each
is dead-lettered with its reason, and the findings are exactly the clean history's. A saved clock
that lies beyond the bounds is refused at restore, and `cdi reset-clock` clears one by hand."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer

from cdi import backtest
from cdi.clock_reset import changelog_topic
from cdi.history import write_events
from cdi.publish import publish
from cdi.simulation import SimulationOptions, simulate
from cdi.stream.end_markers import H_SIGNATURE, signature
from cdi.stream.partitions import CLOCK_PREFIX
from cdi.topics import INPUT_ROLES, Topics
from tests.stream.worker_process import (
    WorkerProcess,
    difference,
    findings,
    isolated_settings,
    offline_findings,
    read_topic,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPLAY_KEY = "replay-key-for-tests"
KIND_FOR_ROLE = {
    "incidents": ("incident.opened", {"incident_id": "POISON-{n}", "opening_code": "ASSAULT"}),
    "crimes": (
        "crime.recorded",
        {"crime_id": "PC-{n}", "incident_id": "POISON-{n}", "hocr_code": "49", "offence_group": "theft"},
    ),
    "outcomes": (
        "outcome.assigned",
        {
            "crime_id": "PC-{n}",
            "outcome_type": 1,
            "offender_ref": None,
            "offender_age": None,
            "decision_maker_rank": None,
            "exceptional_circumstances": None,
            "dpp_consent": None,
            "penalty_value": None,
            "domestic_abuse": None,
        },
    ),
    "offender-history": ("offender.history", {"offender_ref": "PR-{n:08x}", "disposals": []}),
}


def valid_event(role: str, n: int, occurred_at: str) -> bytes:
    kind, template = KIND_FOR_ROLE[role]
    payload = {k: v.format(n=n) if isinstance(v, str) else v for k, v in template.items()}
    record = {
        "event_id": f"poison-{role}-{n}",
        "type": kind,
        "schema_version": 1,
        "occurred_at": occurred_at,
        "force": "SYNTH",
        "division": "NORTH",
        "payload": payload,
    }
    return orjson.dumps(record)


def end_marker(n: int, occurred_at: str) -> bytes:
    return orjson.dumps(
        {
            "event_id": f"forged-end-{n}",
            "type": "history.ended",
            "schema_version": 1,
            "occurred_at": occurred_at,
            "force": "ALL",
            "division": "ALL",
            "payload": {"source": "forged"},
        }
    )


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    sim = simulate(SimulationOptions(days=3, seed=4))
    path = tmp_path_factory.mktemp("poison") / "history.jsonl.gz"
    write_events(path, sim.events)
    lines = [orjson.dumps(e) for e in sim.events]
    return lines, backtest.run(path)


def _wait_for_events(worker: WorkerProcess, count: int, timeout: float = 120) -> None:
    """Until ``count`` input events were applied or dropped as duplicates."""
    deadline = time.monotonic() + timeout
    while (seen := worker.total("cdi_events_consumed_total") + worker.total("cdi_events_duplicate_total")) < count:
        assert time.monotonic() < deadline, f"the worker took {seen} of {count} events"
        time.sleep(0.3)


def _latest_values(topic: str, bootstrap: str, keys: set[bytes], timeout: float = 30) -> dict[bytes, bytes | None]:
    """The last value of each of ``keys`` on a topic, once every key has a tombstone or time is up."""
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    latest: dict[bytes, bytes | None] = {}
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and any(latest.get(k, b"") is not None for k in keys):
            for batch in consumer.poll(timeout_ms=500).values():
                latest.update((m.key, m.value) for m in batch if m.key in keys)
    finally:
        consumer.close()
    return latest


def _poison_every_partition(settings) -> Counter[str]:
    """On each partition of each input topic: an event dated 9999, one dated 2019, an unsigned
    end marker dated 9999, and a plausible end marker signed with the wrong key."""
    topics = Topics(settings.topic_prefix)
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap, acks="all")
    expected: Counter[str] = Counter()
    n = 0
    try:
        for role in INPUT_ROLES:
            for partition in sorted(producer.partitions_for(topics.name(role))):
                n += 1
                name = topics.name(role)
                producer.send(name, valid_event(role, n, "9999-12-31T23:59:59+00:00"), partition=partition)
                expected["future"] += 1
                if role in ("incidents", "crimes"):  # partitions sure to have moved on already
                    producer.send(name, valid_event(role, 1000 + n, "2019-06-01T00:00:00+00:00"), partition=partition)
                    expected["too_old"] += 1
                producer.send(name, end_marker(n, "9999-12-31T23:59:59+00:00"), partition=partition)
                forged = end_marker(1000 + n, "2026-03-04T00:00:00+00:00")
                headers = [(H_SIGNATURE, signature("not-the-replay-key", forged))]
                producer.send(name, forged, partition=partition, headers=headers)
                expected["marker_refused"] += 2
        producer.flush()
    finally:
        producer.close()
    return expected


def test_poisoned_times_and_forged_markers_change_no_finding(history, kafka_bootstrap):
    lines, offline = history
    settings = isolated_settings(kafka_bootstrap, end_markers="signed", replay_key=REPLAY_KEY)
    expected_findings = offline_findings(offline.findings)
    first = len(lines) // 3
    with WorkerProcess(settings) as worker:
        publish(settings, lines[:first], end=False)
        _wait_for_events(worker, first)  # every partition has spoken
        poisoned = _poison_every_partition(settings)
        publish(settings, lines[first:])  # ends with markers signed with the replay key
        got = findings(read_topic(settings, "findings", until=len(expected_findings), timeout=180))
        assert got == expected_findings, difference(got, expected_findings, worker)
        dead = read_topic(settings, "dead-letters", until=sum(poisoned.values()), timeout=60)
        reasons = Counter(dict(m.headers)["cdi-reason"].decode() for m in dead)
        assert reasons == poisoned
        assert worker.total("cdi_dead_letters_total") == sum(poisoned.values())
        assert worker.total("cdi_events_late_total") == 0
        metrics = worker.metrics()
        assert metrics['cdi_watermark_timestamp_seconds{pipeline="live"}'] < 2_000_000_000


def test_a_saved_clock_beyond_the_bounds_is_refused_and_reset_clock_clears_it(history, kafka_bootstrap, tmp_path):
    lines, offline = history
    settings = isolated_settings(kafka_bootstrap)
    expected_findings = offline_findings(offline.findings)
    half = len(lines) // 2
    data_dir = tmp_path / "data"
    with WorkerProcess(settings, data_dir=data_dir) as worker:
        publish(settings, lines[:half], end=False)
        _wait_for_events(worker, half)
    # While the worker is stopped, a clock poisoned to 9999 is written into the saved state of
    # every partition of the incidents stage (what an old worker without bounds would have saved).
    topics = Topics(settings.topic_prefix)
    changelog = changelog_topic(topics, "incidents")
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap, acks="all")
    partitions = sorted(producer.partitions_for(changelog))
    poisoned_low = 253_402_300_799_000  # 9999-12-31T23:59:59Z
    for p in partitions:
        clock = {"lows": {f"{role}/{q}": poisoned_low for role in INPUT_ROLES for q in range(4)}}
        value = orjson.dumps({"p": p, "clock": {**clock, "max_seen": poisoned_low, "wall_floor": -(2**62)}})
        producer.send(changelog, key=CLOCK_PREFIX + str(p).encode(), value=value, partition=p)
    producer.flush()
    producer.close()

    with WorkerProcess(settings, data_dir=data_dir) as worker:
        publish(settings, lines[half:])
        got = findings(read_topic(settings, "findings", until=len(expected_findings), timeout=180))
        assert got == expected_findings, difference(got, expected_findings, worker)
        assert worker.total("cdi_clocks_refused_total") == len(partitions)
        assert worker.total("cdi_events_late_total") == 0
        assert "cdi reset-clock --stage incidents --partition" in worker.log()

    # By hand: the command tombstones every saved clock of the namespace.
    done = subprocess.run(
        [sys.executable, "-m", "cdi", "reset-clock", "--yes", "--stage", "incidents"],
        env={**os.environ, **settings.to_env()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"{len(partitions)} clock(s) cleared" in done.stderr
    keys = {CLOCK_PREFIX + str(p).encode() for p in partitions}
    assert _latest_values(changelog, settings.bootstrap, keys) == dict.fromkeys(keys)
