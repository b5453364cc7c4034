"""Stream throughput of CDI workers on a real Kafka broker: one worker, or several sharing the
partitions, draining a simulated history.

The workers start on empty topics in a fresh namespace and are ready (partitions assigned, tables
recovered, one stable group of all of them) before the history is published: start-up and
rebalances are not measured. The publisher (20,000 events/s and more) outruns the workers, so they
drain a backlog: their ceiling, not a live force's rate (a few events per second). Progress and
completion are read from the broker (benchmarks/drain.py), never from the workers' ``/metrics``,
and the time is the window from the first input record published to the last record the workers
wrote (the workers wait, ready, before the first is published). Until 2026-12-02 it began at the
first record the workers wrote to their stage topics; a stage that applies its input directly
(cdi.stream.direct_reads) may write none there for a while, so the input's first record is the
start now.

    python benchmarks/stream_throughput.py [--days 7] [--workers 1]   # CDI_KAFKA_BOOTSTRAP, else Kafka from Maven
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.stream.worker_process import WorkerProcess, isolated_settings

from benchmarks.drain import BrokerWatch, say
from cdi.publish import publish
from cdi.settings import Settings
from cdi.simulation import SimulationOptions, simulate
from cdi.topics import INPUT_ROLES, INTERNAL_ROLES, Topics, ensure_topics


@dataclass(frozen=True, slots=True)
class StreamRun:
    workers: int
    records: int  # records on the input topics: the history's events and its end markers
    seconds: float  # from the first input record to the last record the workers wrote
    ready_s: float  # from launch to every worker ready in one stable group
    written: dict[str, int]  # records the workers wrote, by topic (namespace prefix removed)

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    @property
    def messages_per_record(self) -> float:
        return sum(self.written.values()) / self.records


def bench_settings(bootstrap: str, **changes: Any) -> Settings:
    """The tests' private namespace and quick group join, with the worker's default progress
    interval (the tests use 0.2 s to finish sooner; a deployment runs with the default)."""
    return isolated_settings(bootstrap, progress_interval=Settings().progress_interval, **changes)


def _ready(worker: WorkerProcess) -> bool:
    try:
        with urllib.request.urlopen(worker.ready_url, timeout=1) as response:
            return response.status == 200
    except OSError:  # refused, or /readyz's 503 while it joins or recovers
        return False


def _died(workers: Sequence[WorkerProcess]) -> str | None:
    for worker in workers:
        if worker.process is not None and worker.process.poll() is not None:
            return f"a worker exited with {worker.process.returncode}; log tail:\n{worker.log()[-3000:]}"
    return None


def wait_ready(workers: Sequence[WorkerProcess], watch: BrokerWatch, group: str, timeout_s: float) -> None:
    """Every worker answers /readyz and the group is stable with all of them, twice in a row. Polled
    before any record is published, so the polling costs the measurement nothing."""
    deadline = time.monotonic() + timeout_s
    streak = 0
    while streak < 2:
        died = _died(workers)
        if died:
            raise RuntimeError(died)
        if time.monotonic() > deadline:
            raise RuntimeError(f"workers not ready after {timeout_s:.0f} s; first log:\n{workers[0].log()[-3000:]}")
        described = watch.group(group)
        stable = (described.get("group_state") or described.get("state")) == "Stable"
        joined = len(described.get("members") or ()) == len(workers)
        streak = streak + 1 if stable and joined and all(_ready(w) for w in workers) else 0
        time.sleep(0.5)


def run_workers(bootstrap: str, lines: Sequence[bytes], workers: int = 1, **changes: Any) -> tuple[StreamRun, Settings]:
    """Start ``workers`` workers in a fresh namespace, publish ``lines`` (with end markers), and
    measure how long they take to work through them. Returns the run and the namespace's settings
    (its input topics stay, for other measures to read). ``changes``: other worker settings."""
    settings = bench_settings(bootstrap, **changes)
    ensure_topics(settings)
    topics = Topics(settings.topic_prefix)
    inputs = [topics.name(role) for role in INPUT_ROLES]
    stages = [topics.name(role) for role in INTERNAL_ROLES]
    label = "one worker" if workers == 1 else f"{workers} workers"
    processes = [WorkerProcess(settings) for _ in range(workers)]
    launched = time.monotonic()
    try:
        for worker in processes:
            worker.launch()
        with BrokerWatch(settings) as watch:
            wait_ready(processes, watch, topics.app_id, timeout_s=300)
            ready_s = time.monotonic() - launched
            say(f"  {label}: ready in {ready_s:.1f} s (namespace {settings.topic_prefix}); publishing")
            before = watch.totals(t for t in watch.topics() if t not in inputs)
            published = publish(settings, lines)
            records = sum(watch.totals(inputs).values())
            say(f"  {label}: published {published.events:,} events ({records:,} input records with the end markers)")
            done = watch.wait_drained(
                topics.app_id,
                inputs + stages,
                inputs,
                # Progress markers go out once per interval after the last input; the stages then
                # close deadlines and save their clocks.
                quiet_s=2 * settings.progress_interval + 1,
                timeout_s=600 + records / 100,
                label=label,
                alive=lambda: _died(processes),
            )
            first = watch.first_write(inputs)
            last = watch.last_write(done.written)
    finally:
        for worker in processes:
            worker.stop()
            shutil.rmtree(worker.dir, ignore_errors=True)
    written = {
        topic.removeprefix(settings.topic_prefix): count - before.get(topic, 0)
        for topic, count in sorted(done.written.items())
        if count - before.get(topic, 0)
    }
    run = StreamRun(workers, records, last - first, ready_s, written)
    say(f"  {label}: {records:,} records in {run.seconds:.2f} s = {run.rate:,.0f}/s")
    return run, settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--no-direct-reads", action="store_true", help="CDI_DIRECT_READS=false: every record through the stage topics"
    )
    args = parser.parse_args()
    sim = simulate(SimulationOptions(days=args.days, seed=1))
    lines = [orjson.dumps(e) for e in sim.events]

    def measure(bootstrap: str) -> None:
        run, _ = run_workers(bootstrap, lines, args.workers, direct_reads=not args.no_direct_reads)
        say(f"launch to ready: {run.ready_s:.1f} s")
        say(f"{run.records:,} input records in {run.seconds:.2f} s: {run.rate:,.0f} records/s")
        say(f"records written per input record: {run.messages_per_record:.2f} {run.written}")

    bootstrap = os.environ.get("CDI_KAFKA_BOOTSTRAP")
    if bootstrap:
        measure(bootstrap)
        return
    from tests.brokers.kafka_maven import KafkaBroker

    with KafkaBroker() as broker:
        measure(broker.bootstrap)


if __name__ == "__main__":
    main()
