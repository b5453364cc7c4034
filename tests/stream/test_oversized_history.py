"""The oversized offender history on a real broker: thirty snapshots of 500 disposals each for one
offender, sent a minute apart in the middle of a history, once took that offender's stored state
past the broker's 1 MB message limit and stopped the worker on every restart. Now the state stays
small, what would take it past its bound is dead-lettered as `case_too_large`, and the worker and
its findings carry on."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, timedelta

import orjson
import pytest
from kafka import KafkaConsumer

from cdi import backtest
from cdi.clock_reset import changelog_topic
from cdi.core.times import format_time, parse_time
from cdi.history import write_events
from cdi.publish import publish
from cdi.simulation import SimulationOptions, simulate
from cdi.topics import Topics
from tests.stream.worker_process import (
    WorkerProcess,
    difference,
    findings,
    isolated_settings,
    offline_findings,
    read_topic,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FLOODED = "PR-00f100d0"
SNAPSHOTS = 30


def flood(start_ms: int) -> list[bytes]:
    disposals = [
        {
            "disposal": "conviction",
            "offence_group": "theft",
            "disposed_on": (date(2024, 4, 1) + timedelta(i)).isoformat(),
        }
        for i in range(500)
    ]
    return [
        orjson.dumps(
            {
                "event_id": f"flood-{n}",
                "type": "offender.history",
                "schema_version": 1,
                "occurred_at": format_time(start_ms + n * 60_000),
                "force": "SYNTH",
                "division": "NORTH",
                "payload": {"offender_ref": FLOODED, "disposals": disposals},
            }
        )
        for n in range(SNAPSHOTS)
    ]


def test_a_flood_of_large_snapshots_keeps_state_small_and_the_worker_up(kafka_bootstrap, tmp_path):
    sim = simulate(SimulationOptions(days=2, seed=6))
    good = [orjson.dumps(e) for e in sim.events]
    half = len(good) // 2
    middle = parse_time(orjson.loads(good[half])["occurred_at"])
    flooded = flood(middle)
    path = tmp_path / "history.jsonl.gz"
    write_events(path, [orjson.loads(x) for x in good[:half] + flooded + good[half:]])
    offline = backtest.run(path)
    rejected_offline = Counter(d.reason for d in offline.dead_letters)
    clean = backtest.run(write_clean(tmp_path, good))
    # The flood changes no finding: the offender has no decision to judge.
    assert sorted(f.payload.finding_id for f in offline.findings) == sorted(
        f.payload.finding_id for f in clean.findings
    )
    assert set(rejected_offline) == {"case_too_large"} and 1 <= rejected_offline["case_too_large"] < SNAPSHOTS

    settings = isolated_settings(kafka_bootstrap)
    expected = offline_findings(offline.findings)
    with WorkerProcess(settings) as worker:
        publish(settings, good[:half] + flooded + good[half:])
        got = findings(read_topic(settings, "findings", until=len(expected), timeout=180))
        assert got == expected, difference(got, expected, worker)
        assert worker.process.poll() is None
        deadline = time.monotonic() + 60
        while worker.total("cdi_dead_letters_total") < rejected_offline["case_too_large"]:
            assert time.monotonic() < deadline, worker.metrics()
            time.sleep(0.3)
        dead = read_topic(settings, "dead-letters", until=1, timeout=10)
        # The stream prunes when its watermark passes, which can be later than offline: never fewer.
        assert {dict(m.headers)["cdi-reason"] for m in dead} == {b"case_too_large"}
        assert rejected_offline["case_too_large"] <= len(dead) < SNAPSHOTS
    # Every state record the offender stage saved stays far below the broker's 1 MB limit.
    changelog = changelog_topic(Topics(settings.topic_prefix), "offenders")
    consumer = KafkaConsumer(
        changelog,
        bootstrap_servers=settings.bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=3000,
    )
    largest = max((len(m.value or b"") for m in consumer if m.key == FLOODED.encode()), default=0)
    consumer.close()
    assert 0 < largest < 256 * 1024, largest


def write_clean(tmp_path, lines: list[bytes]):
    path = tmp_path / "clean.jsonl.gz"
    write_events(path, [orjson.loads(x) for x in lines])
    return path
