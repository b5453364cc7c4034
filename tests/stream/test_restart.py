"""A worker stopped in the middle of a history and started again recovers its case table (from
the changelog, or from RocksDB on local disk) and ends with exactly the offline findings."""

from __future__ import annotations

import time

import pytest

from cdi import backtest
from cdi.history import read_lines, write_events
from cdi.publish import publish
from cdi.scoring import key_of
from cdi.simulation import SimulationOptions, simulate
from cdi.stream.local_tables import MARKER
from tests.stream.worker_process import WorkerProcess, difference, findings, isolated_settings, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    sim = simulate(SimulationOptions(days=4, seed=7))
    path = tmp_path_factory.mktemp("restart") / "history.jsonl"
    write_events(path, sim.events)
    return path, backtest.run(path)


@pytest.mark.parametrize("store", ["memory", "rocksdb"])
def test_restart_mid_history_gives_the_offline_findings(history, kafka_bootstrap, tmp_path, store):
    path, offline = history
    lines = [raw for _, raw in read_lines(path)]
    half = len(lines) // 2
    settings = isolated_settings(kafka_bootstrap, store=store)
    expected = sorted(
        (f.to_dict() for f in offline.findings), key=lambda r: (r["occurred_at"], r["event_id"], r["type"])
    )
    with WorkerProcess(settings, data_dir=tmp_path / "data") as first:
        publish(settings, lines[:half], end=False)
        deadline = time.monotonic() + 120
        # Stop while the first half is still being processed.
        while first.total("cdi_events_consumed_total") < half * 0.5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert first.total("cdi_events_consumed_total") >= half * 0.5
    # A clean stop leaves no in-progress marker, so a RocksDB worker keeps its local tables.
    assert not list((tmp_path / "data").rglob(MARKER))
    with WorkerProcess(settings, data_dir=tmp_path / "data") as second:
        publish(settings, lines[half:])
        got = findings(read_topic(settings, "findings", until=len(expected), timeout=240))
        assert sorted(key_of(r) for r in got) == sorted(key_of(r) for r in expected)
        assert got == expected, difference(got, expected, second)
        # The second worker resumed from committed offsets rather than from the beginning.
        assert 0 < second.total("cdi_events_consumed_total") < sum(offline.events.values())
        assert "did not stop cleanly" not in second.log()
