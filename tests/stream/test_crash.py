"""Crashes on a real Kafka broker: a worker killed with SIGKILL in the middle of a history (no clean
shutdown, no final commit), and a broker frozen with SIGSTOP for longer than the consumer group's
session timeout while the worker runs. Either way the findings, deduplicated by finding id, are
exactly the offline backtest's. Delivery is at-least-once, so the findings topic may hold the same
finding more than once after a crash; how many is counted and reported, never a failure."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from cdi import backtest
from cdi.history import read_lines, write_events
from cdi.publish import publish
from cdi.settings import Settings
from cdi.simulation import SimulationOptions, simulate
from cdi.topics import Topics
from tests.stream.worker_process import WorkerProcess, difference, findings, isolated_settings, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    sim = simulate(SimulationOptions(days=4, seed=11))
    path = tmp_path_factory.mktemp("crash") / "history.jsonl"
    write_events(path, sim.events)
    offline = backtest.run(path)
    expected = sorted(
        (f.to_dict() for f in offline.findings), key=lambda r: (r["occurred_at"], r["event_id"], r["type"])
    )
    assert expected, "the history must raise findings for these tests to mean anything"
    return [raw for _, raw in read_lines(path)], offline, expected


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def findings_end_offset(settings: Settings) -> int:
    """Messages on the findings topic so far (sum of its partitions' end offsets)."""
    name = Topics(settings.topic_prefix).name("findings")
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None)
    try:
        tps = [TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name) or ())]
        return sum(consumer.end_offsets(tps).values()) if tps else 0
    finally:
        consumer.close()


def compare(got: list[dict[str, Any]], expected: list[dict[str, Any]], messages: list[Any], context: str) -> str:
    """The assertion message: what differs, and how many duplicates the topic held."""
    duplicates = len(messages) - len(got)
    return (
        f"{context}: {len(got)} distinct findings from {len(messages)} messages ({duplicates} duplicates, allowed "
        f"at-least-once); {difference(got, expected)}"
    )


@pytest.mark.parametrize(
    ("store", "instance_id"),
    [("memory", None), ("rocksdb", None), ("rocksdb", "crash-test-worker")],
    ids=["memory", "rocksdb", "rocksdb-static-member"],
)
def test_sigkill_mid_history_then_restart_gives_the_offline_findings(
    history, kafka_bootstrap, tmp_path, store, instance_id
):
    """With CDI_INSTANCE_ID the restarted worker is the same static group member (on another
    metrics port here): it takes the killed one's partitions back without waiting for its session
    to expire."""
    lines, offline, expected = history
    cut = int(len(lines) * 0.7)
    settings = isolated_settings(kafka_bootstrap, store=store, instance_id=instance_id)
    first = WorkerProcess(settings, data_dir=tmp_path / "data")
    try:
        first.start()
        publish(settings, lines[:cut], end=False)
        # Killed while it works through the first part, once findings have gone out.
        wait_for(
            lambda: findings_end_offset(settings) > 0 and first.total("cdi_events_consumed_total") >= 0.4 * len(lines),
            "findings on the topic and 40% of the history applied",
        )
        applied_before = first.total("cdi_events_consumed_total")
        first.stop(signal.SIGKILL)
        assert first.process is not None and first.process.returncode == -signal.SIGKILL
    finally:
        first.stop(signal.SIGKILL)
    sent_before = findings_end_offset(settings)

    with WorkerProcess(settings, data_dir=tmp_path / "data") as second:
        publish(settings, lines[cut:])
        messages = read_topic(settings, "findings", until=len(expected), timeout=180)
        got = findings(messages)
        context = (
            f"store {store}, instance id {instance_id}, killed after {applied_before:.0f} of {len(lines)} events "
            f"applied and {sent_before} "
            f"finding messages sent; the restarted worker dropped {second.total('cdi_events_duplicate_total'):.0f} "
            f"re-read events as duplicates (the history itself holds {offline.duplicates}); {second.diagnosis()}"
        )
        print(f"\n{compare(got, expected, messages, context)}")
        assert got == expected, compare(got, expected, messages, context)
        # It resumed from the committed offsets and the recovered state, not from the beginning.
        assert second.total("cdi_events_consumed_total") < sum(offline.events.values())
        # RocksDB files a killed worker left may be ahead of the changelog: rebuilt from it instead.
        assert ("did not stop cleanly" in second.log()) == (store == "rocksdb")


def test_broker_frozen_beyond_the_session_timeout_then_resumed(history, tmp_path):
    """SIGSTOP on the broker process (a private broker: the session's one serves other tests) for
    longer than the group's session timeout, while the worker is busy; then SIGCONT. On resuming,
    the broker either expires the worker's membership first (the worker rejoins and recovers) or
    first answers the heartbeats queued meanwhile (the worker carries on): both were seen, and
    either way the worker must stay up and finish with exact findings."""
    from tests.brokers.kafka_maven import KafkaBroker

    lines, _, expected = history
    cut = int(len(lines) * 0.6)
    with KafkaBroker() as broker:
        assert broker._proc is not None
        settings = isolated_settings(broker.bootstrap)
        with WorkerProcess(settings) as worker:
            publish(settings, lines[:cut], end=False)
            wait_for(lambda: worker.total("cdi_events_consumed_total") >= 0.3 * len(lines), "30% of the history")
            joins = worker.log().count("Joined group")
            frozen = settings.session_timeout + 4  # the fault under test is a pause of this length
            os.kill(broker._proc.pid, signal.SIGSTOP)
            try:
                time.sleep(frozen)
            finally:
                os.kill(broker._proc.pid, signal.SIGCONT)
            assert worker.process is not None and worker.process.poll() is None, worker.log()[-3000:]
            publish(settings, lines[cut:])
            messages = read_topic(settings, "findings", until=len(expected), timeout=180)
            got = findings(messages)
            rejoined = worker.log().count("Joined group") - joins
            context = (
                f"broker frozen {frozen:.0f} s (session timeout {settings.session_timeout:.0f} s); the worker "
                f"joined its group {rejoined} more time(s)"
            )
            print(f"\n{compare(got, expected, messages, context)}")
            assert got == expected, compare(got, expected, messages, context)
            assert worker.process.poll() is None, "the worker exited"
