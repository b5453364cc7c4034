"""Stream throughput of one worker on a real Kafka broker, and its time from start to first event.

The history is published before the worker starts, so the worker drains a backlog: that is its
ceiling, not a live force's rate (a few events per second).

    python benchmarks/stream_throughput.py [--days 7]   # CDI_KAFKA_BOOTSTRAP, else Kafka from Maven
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.stream.worker_process import WorkerProcess, isolated_settings

from cdi.publish import publish
from cdi.simulation import SimulationOptions, simulate


def measure(bootstrap: str, days: int) -> None:
    sim = simulate(SimulationOptions(days=days, seed=1))
    distinct = len({e["event_id"] for e in sim.events})
    settings = isolated_settings(bootstrap)
    from cdi.topics import ensure_topics

    ensure_topics(settings)
    published = publish(settings, [orjson.dumps(e) for e in sim.events])
    print(f"published {published.events:,} events ({distinct:,} distinct) in {published.seconds:.1f} s")
    worker = WorkerProcess(settings)
    launched = time.monotonic()
    worker.start()
    answered = time.monotonic()
    first = None
    while True:
        consumed = worker.total("cdi_events_consumed_total")
        now = time.monotonic()
        if consumed and first is None:
            first = now
            first_count = consumed
        if consumed >= distinct or now - launched > 900:
            break
        time.sleep(0.05)
    done = time.monotonic()
    worker.stop()
    assert first is not None
    print(f"worker start to /metrics answering: {answered - launched:.2f} s")
    print(f"worker start to first event consumed: {first - launched:.2f} s")
    rate = (consumed - first_count) / (done - first) if done > first else float("nan")
    print(f"{consumed:,.0f} events consumed; {rate:,.0f} events/s from first event to last")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    bootstrap = os.environ.get("CDI_KAFKA_BOOTSTRAP")
    if bootstrap:
        measure(bootstrap, args.days)
        return
    from tests.brokers.kafka_maven import KafkaBroker

    with KafkaBroker() as broker:
        measure(broker.bootstrap, args.days)


if __name__ == "__main__":
    main()
