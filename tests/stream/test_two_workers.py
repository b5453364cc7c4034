"""Two workers sharing the partitions of a real Kafka broker, the second joining mid-stream (a
rebalance), on a 30-day simulated history with every rule: the findings equal the offline
backtest's and the simulator's ground truth, rule by rule."""

from __future__ import annotations

import time

import pytest

from cdi import backtest
from cdi.history import read_lines, write_events
from cdi.publish import publish
from cdi.scoring import key_of, score
from cdi.simulation import SimulationOptions, simulate
from tests.stream.worker_process import WorkerProcess, difference, findings, isolated_settings, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_two_workers_on_thirty_days_equal_offline_and_ground_truth(kafka_bootstrap, tmp_path):
    sim = simulate(SimulationOptions(days=30, seed=3))
    path = tmp_path / "history.jsonl.gz"
    write_events(path, sim.events)
    offline = backtest.run(path)
    expected = sorted(
        (f.to_dict() for f in offline.findings), key=lambda r: (r["occurred_at"], r["event_id"], r["type"])
    )
    assert sorted(key_of(r) for r in expected) == sorted(key_of(t) for t in sim.truth)
    settings = isolated_settings(kafka_bootstrap, partitions=4)
    lines = [raw for _, raw in read_lines(path)]
    with WorkerProcess(settings) as first:
        publish(settings, lines[: len(lines) // 3], end=False)
        with WorkerProcess(settings) as second:
            started = time.monotonic()
            publish(settings, lines[len(lines) // 3 :])
            got = findings(read_topic(settings, "findings", until=len(expected), timeout=600))
            elapsed = time.monotonic() - started
            both = first.total("cdi_events_consumed_total") > 0 and second.total("cdi_events_consumed_total") > 0
    rows = score(sim.truth, got)
    print(f"\n{'rule':<50} {'expected':>8} {'found':>6} {'precision':>9} {'recall':>7}")
    for row in rows:
        print(f"{row.rule:<50} {row.expected:>8} {row.found:>6} {row.precision:>9.3f} {row.recall:>7.3f}")
    print(f"{len(lines)} events, {len(got)} findings, two workers, {elapsed:.0f} s after the second joined")
    assert both, "both workers should have processed events"
    assert got == expected, difference(got, expected)
    assert all(row.precision == 1.0 and row.recall == 1.0 for row in rows)
