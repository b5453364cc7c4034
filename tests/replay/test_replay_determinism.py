"""The same history gives the offline backtest's findings when replayed through the CLI into a
namespace at 1x, 100x and max speed; a replay leaves live findings and counts alone; re-running
it adds nothing; export and --from-topic give the history back."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import orjson
import pytest
from kafka import KafkaConsumer, TopicPartition

from cdi import backtest
from cdi.core.times import parse_time
from cdi.history import read_events, write_events
from cdi.publish import publish
from cdi.settings import namespace_prefix
from cdi.simulation import SimulationOptions, simulate
from cdi.sources.selection import Selection
from cdi.topics import INPUT_ROLES, Topics
from tests.replay.conftest import cli, short_history, written
from tests.stream.worker_process import WorkerProcess, difference, findings, isolated_settings, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def offline(path, **selection) -> list[dict]:
    result = backtest.run(path, selection=Selection(**selection) if selection else None)
    return sorted((f.to_dict() for f in result.findings), key=lambda r: (r["occurred_at"], r["event_id"], r["type"]))


def in_namespace(bootstrap: str):
    name = f"r{uuid.uuid4().hex[:8]}"
    return isolated_settings(bootstrap).with_(namespace=name, topic_prefix=namespace_prefix(name))


@pytest.mark.parametrize(("speed", "spacing"), [("1", 0.5), ("100", 50.0)])
def test_replay_at_speed_gives_the_offline_findings(kafka_bootstrap, tmp_path, speed, spacing):
    path = written(tmp_path / "short.jsonl", short_history(spacing, crimes=10))
    expected = offline(path)
    assert len(expected) == 8
    span_s = spacing * 19  # 20 events, one every ``spacing`` seconds of event time
    settings = in_namespace(kafka_bootstrap)
    with WorkerProcess(settings) as worker:
        started = time.monotonic()
        done = cli(
            settings.with_(topic_prefix="cdi."),
            "replay",
            str(path),
            "--speed",
            speed,
            "--namespace",
            settings.namespace,
        )
        took = time.monotonic() - started
        assert done.returncode == 0, done.stderr
        assert "published 20 events" in done.stderr
        # The speed is honoured: the replay takes the history's span divided by the speed.
        assert took >= span_s / float(speed) - 0.5
        got = findings(read_topic(settings, "findings", until=len(expected), timeout=60))
        assert got == expected, difference(got, expected, worker)
        samples = worker.metrics()
        assert all(f'pipeline="{settings.namespace}"' in k for k in samples if k.startswith("cdi_events_consumed"))


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    path = tmp_path_factory.mktemp("replay") / "history.jsonl.gz"
    write_events(path, simulate(SimulationOptions(days=4, seed=11)).events)
    return path


def test_replay_in_a_namespace_leaves_live_alone_and_reruns_add_nothing(kafka_bootstrap, month, tmp_path):
    live = isolated_settings(kafka_bootstrap)
    live_history = written(tmp_path / "live.jsonl", short_history(60.0, crimes=10))
    live_expected = offline(live_history)
    replay_settings = in_namespace(kafka_bootstrap)
    chosen = {
        "start_ms": parse_time("2026-03-02T00:00:00+00:00"),
        "end_ms": parse_time("2026-03-04T00:00:00+00:00"),
        "divisions": frozenset({"NORTH", "EAST"}),
    }
    expected = offline(month, **chosen)
    assert len(expected) > 20
    with WorkerProcess(live) as live_worker, WorkerProcess(replay_settings) as replay_worker:
        publish(live, [orjson.dumps(r) for r in read_events(live_history)])
        live_got = findings(read_topic(live, "findings", until=len(live_expected), timeout=60))
        assert live_got == live_expected, difference(live_got, live_expected, live_worker)
        live_messages = len(read_topic(live, "findings", until=len(live_expected), timeout=10))
        live_counts = _counts(live_worker)

        args = [
            "replay",
            str(month),
            "--namespace",
            replay_settings.namespace,
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-04",
            "--division",
            "NORTH",
            "--division",
            "EAST",
        ]
        done = cli(live, *args)
        assert done.returncode == 0, done.stderr
        got = findings(read_topic(replay_settings, "findings", until=len(expected), timeout=120))
        assert got == expected, difference(got, expected, replay_worker)
        replay_messages = len(read_topic(replay_settings, "findings", until=len(expected), timeout=10))

        # The live namespace saw nothing of it: same findings, same counts.
        assert len(read_topic(live, "findings", until=live_messages, timeout=10)) == live_messages
        assert _counts(live_worker) == live_counts
        assert all('pipeline="live"' in k for k in live_worker.metrics() if k.startswith("cdi_"))
        replay_samples = replay_worker.metrics()
        assert any(f'pipeline="{replay_settings.namespace}"' in k for k in replay_samples)

        # The same replay again: the workers drop what they already applied.
        applied = replay_worker.total("cdi_events_consumed_total")
        late = replay_worker.total("cdi_events_late_total")
        duplicates = replay_worker.total("cdi_events_duplicate_total")  # the history repeats some lines
        again = cli(live, *args)
        assert again.returncode == 0, again.stderr
        deadline = time.monotonic() + 60
        while (
            replay_worker.total("cdi_events_duplicate_total") < 2 * duplicates + applied and time.monotonic() < deadline
        ):
            time.sleep(0.5)
        assert replay_worker.total("cdi_events_duplicate_total") == 2 * duplicates + applied
        assert replay_worker.total("cdi_events_late_total") == late
        assert replay_worker.total("cdi_events_consumed_total") == applied
        assert len(read_topic(replay_settings, "findings", until=replay_messages + 1, timeout=10)) == replay_messages

        # Export the namespace's input topics back to a history: the backtest of it is the same.
        exported = tmp_path / "exported.jsonl.gz"
        done = cli(live, "export", "--namespace", replay_settings.namespace, "--out", str(exported))
        assert done.returncode == 0, done.stderr
        assert offline(exported) == expected

        # Replay a range of the namespace's topics into a third namespace (--from-topic).
        third = in_namespace(kafka_bootstrap)
        with WorkerProcess(third) as third_worker:
            topics = [
                f"{replay_settings.topic_prefix}{role}"
                for role in ("incidents", "crimes", "outcomes", "offender-history")
            ]
            args = ["replay", "--namespace", third.namespace]
            for topic in topics:
                args += ["--from-topic", topic]
            done = cli(live, *args)
            assert done.returncode == 0, done.stderr
            got = findings(read_topic(third, "findings", until=len(expected), timeout=240))
            assert got == expected, difference(got, expected, third_worker)


def _counts(worker: WorkerProcess) -> dict[str, float]:
    return {k: v for k, v in worker.metrics().items() if k.startswith(("cdi_events_", "cdi_findings_"))}


def published(settings) -> int:
    """Records on the namespace's input topics so far (sum of their partitions' end offsets)."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None)
    try:
        names = [Topics(settings.topic_prefix).name(role) for role in INPUT_ROLES]
        tps = [TopicPartition(n, p) for n in names for p in sorted(consumer.partitions_for_topic(n) or ())]
        return sum(consumer.end_offsets(tps).values()) if tps else 0
    finally:
        consumer.close()


def test_ctrl_c_stops_a_replay_cleanly_and_says_how_far_it_got(kafka_bootstrap, month):
    settings = in_namespace(kafka_bootstrap)
    process = subprocess.Popen(
        [sys.executable, "-m", "cdi", "replay", str(month), "--speed", "3600", "--namespace", settings.namespace],
        env={**os.environ, **isolated_settings(kafka_bootstrap).to_env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Interrupt once the replay is publishing (records on its input topics), however busy the machine.
    deadline = time.monotonic() + 180
    while published(settings) == 0:
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the replay published nothing within 180 s"
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    said = " ".join(err.split())  # the console wraps long lines
    assert "stopped after" in said and "Run the same command again to finish" in said


def test_ctrl_c_before_anything_is_published_exits_130_with_what_to_do(month):
    """Ctrl-C while the replay is still reaching the broker: a line saying what to do and exit
    130, not click's bare "Aborted!" and exit 1. The "broker" here accepts connections and never
    answers, so the signal is sent once the command is known to be waiting on it."""

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings = isolated_settings(f"127.0.0.1:{silent.getsockname()[1]}")
        process = subprocess.Popen(
            [sys.executable, "-m", "cdi", "replay", str(month), "--namespace", "early"],
            env={**os.environ, **settings.to_env()},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        silent.settimeout(120)
        connection, _ = silent.accept()  # the command is running and waits on the broker
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        connection.close()
    assert process.returncode == 130, err
    said = " ".join(err.split())
    assert "interrupted (Ctrl-C)" in said and "Run the same command again" in said
    assert "Traceback" not in err and "Aborted!" not in err
