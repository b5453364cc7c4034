"""What a crash costs: a worker SIGKILLed in the middle of a history, then started again.

A simulated history is published first (a backlog, as after an outage), one worker processes
part of it and is killed with SIGKILL (no clean shutdown, no final commit), and a second worker
starts on the same consumer group. Measured:

- **re-read**: events the first worker had applied that the second one reads again and drops as
  duplicates (``cdi_events_duplicate_total``; the simulated history has no duplicates of its own,
  so every one is a re-read). **unaccounted**: events neither worker counted, ``published -
  consumed``: the few the first worker applied between its last scrape and the kill, or lost ones.
- **ready**: restart to "Worker ready", split from the worker's log into the group join (which
  waits for the killed member's session to expire, unless it is a static member) and the table
  recovery (with how many changelog records it read).
- **caught up**: ready plus the re-read events at the first worker's rate: when the second worker
  is back where the first one died. **finished**: restart to the last event applied; **crash
  overhead**: finished minus the time the remaining events take at the first worker's rate.

    python benchmarks/restart_catchup.py [--days 30] [--kill-at 0.5 0.85] [--store memory]
        [--faust-env BROKER_COMMIT_INTERVAL=0.5 ...]   # CDI_KAFKA_BOOTSTRAP, else Kafka from Maven

``--faust-env`` sets Faust settings through their environment variables (Faust lets the
environment override the app's keyword arguments), to compare commit settings without editing
the app.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import orjson
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.stream.worker_process import WorkerProcess, isolated_settings

from cdi.publish import publish
from cdi.settings import Settings
from cdi.simulation import SimulationOptions, simulate
from cdi.topics import INPUT_ROLES, INTERNAL_ROLES, Topics, ensure_topics


def counted(metrics: dict[str, float]) -> tuple[float, float]:
    consumed = sum(v for k, v in metrics.items() if k.startswith("cdi_events_consumed_total"))
    duplicates = sum(v for k, v in metrics.items() if k.startswith("cdi_events_duplicate_total"))
    return consumed, duplicates


def _stamp(line: str) -> datetime:
    return datetime.strptime(line[1:24], "%Y-%m-%d %H:%M:%S,%f")


def _table(lines: list[str], title: str) -> dict[tuple[str, str], int]:
    """Rows of one of Faust's recovery tables in the log: (topic, partition) -> number."""
    rows: dict[tuple[str, str], int] = {}
    start = next((i for i, line in enumerate(lines) if title in line), None)
    if start is None:
        return rows
    topic = ""
    for line in lines[start + 1 :]:
        if line.startswith("["):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1].isdigit():
            topic = topic if cells[0] == "\u3003" else cells[0]
            rows[(topic, cells[1])] = int(cells[2])
    return rows


def phases(log: str) -> dict[str, float]:
    """From a restarted worker's log: seconds from start to partitions assigned (the group join,
    which waits for the killed member's session to expire), from there to "Worker ready" (table
    recovery), and how many changelog records the recovery read."""
    lines = log.splitlines()
    began = _stamp(next(x for x in lines if x.startswith("[")))  # Faust's own lines carry the time
    assigned = next(_stamp(x) for x in lines if "Executing _on_partitions_assigned" in x)
    ready = next(_stamp(x) for x in lines if "Worker ready" in x)
    highwater = _table(lines, "Highwater - Active")
    starts = _table(lines, "Reading Starts At - Active")
    records = sum(max(hw - starts.get(tp, -1) - 1, 0) for tp, hw in highwater.items())
    return {
        "join_s": (assigned - began).total_seconds(),
        "recovery_s": (ready - assigned).total_seconds(),
        "changelog_read": records,
    }


def uncommitted(settings: Settings) -> dict[str, int]:
    """Per topic the worker reads, records beyond the group's committed offsets (end offset minus
    committed offset, summed over partitions). Read after the kill: for the input topics, which
    the routing agent had read to the end by then, these are exactly the records it routes again."""
    topics = Topics(settings.topic_prefix)
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap, client_id="cdi-bench")
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None)
    try:
        offsets = admin.list_group_offsets({topics.app_id: None})[topics.app_id]
        committed = {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}
        out = {}
        for role in INPUT_ROLES + INTERNAL_ROLES:
            name = topics.name(role)
            tps = [TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name) or ())]
            ends = consumer.end_offsets(tps)
            out[role] = sum(end - max(committed.get((tp.topic, tp.partition), 0), 0) for tp, end in ends.items())
        return out
    finally:
        consumer.close()
        admin.close()


def run_once(bootstrap: str, lines: list[bytes], kill_at: float, store: str) -> dict[str, float]:
    settings = isolated_settings(bootstrap, store=store)
    ensure_topics(settings)
    published = publish(settings, lines).events
    first = WorkerProcess(settings)
    first.start()
    started = time.monotonic()
    first_seen: tuple[float, float] | None = None  # (time, count) of the first scrape with events applied
    while True:
        consumed1, _ = counted(first.metrics())
        if consumed1 >= kill_at * published:
            break  # kill straight after the scrape, so that it misses as few events as possible
        if consumed1 and first_seen is None:
            first_seen = (time.monotonic(), consumed1)
        if time.monotonic() - started > 900:
            raise RuntimeError("the first worker did not get far enough")
        time.sleep(0.5)  # a scrape costs the worker time: frequent ones slow it down
    assert first.process is not None
    os.killpg(first.process.pid, signal.SIGKILL)
    killed = time.monotonic()
    first.process.wait()
    backlog = uncommitted(settings)
    # Its rate while it applied events (not counting its start-up).
    since, base = first_seen or (started, 0.0)
    rate = (consumed1 - base) / (killed - since)

    # Same web port as the killed worker: a static group member (CONSUMER_GROUP_INSTANCE_ID) gets
    # its old assignment back, and Faust's assignor insists that it names the same URL.
    second = WorkerProcess(settings, data_dir=first.settings.data_dir)
    second.settings = second.settings.with_(metrics_port=first.settings.metrics_port)
    restarted = time.monotonic()
    second.start(timeout=300)
    ready = time.monotonic() - restarted
    previous, steady, changed = -1.0, 0, ready
    while True:
        metrics = second.metrics()
        consumed2, duplicates2 = counted(metrics)
        now = time.monotonic() - restarted
        if consumed2 + duplicates2 != previous:
            previous, steady, changed = consumed2 + duplicates2, 0, now
        elif drained(metrics):
            steady += 1
        # Done when every event is applied; or, as the first worker's last scrape can miss the
        # few events it applied just before the kill, when the worker is idle and fully committed.
        if consumed1 + consumed2 >= published or steady >= 4:
            break
        if now > 900:
            raise RuntimeError(f"the second worker stalled at {consumed1 + consumed2:.0f} of {published}")
        time.sleep(0.5)
    late = sum(v for k, v in metrics.items() if k.startswith("cdi_events_late_total"))
    dead = sum(v for k, v in metrics.items() if k.startswith("cdi_dead_letters_total"))
    # Records of the case-events topic the restarted worker was handed (Faust's counter): more than
    # were uncommitted at the kill means some were delivered to it twice.
    case_topic = Topics(settings.topic_prefix).name("case-events")
    received = sum(
        v
        for k, v in metrics.items()
        if k.startswith("cdi_faust_messages_received_per_topic_total{") and f'topic="{case_topic}"' in k
    )
    second.stop()
    split = phases(second.log())
    reread = duplicates2  # the history has no duplicates of its own: every one is a re-read
    return {
        "kill_at": kill_at,
        "published": published,
        "applied_before_kill": consumed1,
        "rate": rate,
        "reread": reread,
        "unaccounted": published - consumed1 - consumed2,
        "late": late,
        "case_events_received": received,
        "uncommitted_inputs": sum(backlog[role] for role in INPUT_ROLES),
        **{f"uncommitted_{role}": backlog[role] for role in INTERNAL_ROLES},
        "dead_letters": dead,
        "ready_s": ready,
        **split,
        "catchup_s": ready + reread / rate,
        "finish_s": changed,
        "remaining_at_rate_s": (published - consumed1) / rate,
        "overhead_s": changed - (published - consumed1) / rate,
    }


def drained(metrics: dict[str, float]) -> bool:
    """Faust's gauges say every partition the worker reads (not the changelogs) is committed up to
    its end offset."""
    ends = {k.split("{", 1)[1]: v for k, v in metrics.items() if k.startswith("cdi_faust_topic_partition_end_offset{")}
    committed = {
        k.split("{", 1)[1]: v for k, v in metrics.items() if k.startswith("cdi_faust_topic_partition_offset_commited{")
    }
    return all(committed.get(labels, -1) >= end for labels, end in ends.items() if "-changelog" not in labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--kill-at", type=float, nargs="+", default=[0.5, 0.85])
    parser.add_argument("--store", choices=["memory", "rocksdb"], default="memory")
    parser.add_argument("--runs", type=int, default=1, help="runs per kill point")
    parser.add_argument("--faust-env", nargs="*", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    for item in args.faust_env:
        name, _, value = item.partition("=")
        os.environ[name] = value
    # No duplicates in the history itself, so that every duplicate the restarted worker drops is a re-read.
    lines = [orjson.dumps(e) for e in simulate(SimulationOptions(days=args.days, seed=1, duplicate_rate=0.0)).events]
    print(f"{args.days} days, {len(lines):,} events, store {args.store}, faust env {args.faust_env or 'default'}")

    def measure(bootstrap: str) -> None:
        for kill_at in args.kill_at:
            results = []
            for _ in range(args.runs):
                r = run_once(bootstrap, lines, kill_at, args.store)
                results.append(r)
                print(
                    f"kill at {r['kill_at']:.0%}: {r['applied_before_kill']:,.0f} applied at {r['rate']:,.0f} ev/s; "
                    f"re-read {r['reread']:,.0f}, unaccounted {r['unaccounted']:,.0f} "
                    f"(late {r['late']:,.0f}, dead letters {r['dead_letters']:,.0f} after the restart); "
                    f"uncommitted at the kill: inputs {r['uncommitted_inputs']:,}, "
                    + ", ".join(f"{role} {r['uncommitted_' + role]:,}" for role in INTERNAL_ROLES)
                    + f" (the restarted worker received {r['case_events_received']:,.0f} case-events records); "
                    f"ready {r['ready_s']:.1f} s (group join {r['join_s']:.1f} s, "
                    f"recovery {r['recovery_s']:.1f} s reading {r['changelog_read']:,} changelog records), "
                    f"caught up {r['catchup_s']:.1f} s, "
                    f"finished {r['finish_s']:.1f} s (remaining work alone {r['remaining_at_rate_s']:.1f} s, "
                    f"crash overhead {r['overhead_s']:.1f} s)",
                    flush=True,
                )
            if len(results) > 1:
                print(
                    f"  median re-read {statistics.median(r['reread'] for r in results):,.0f}, "
                    f"caught up {statistics.median(r['catchup_s'] for r in results):.1f} s, "
                    f"overhead {statistics.median(r['overhead_s'] for r in results):.1f} s"
                )

    bootstrap = os.environ.get("CDI_KAFKA_BOOTSTRAP")
    if bootstrap:
        measure(bootstrap)
        return
    from tests.brokers.kafka_maven import KafkaBroker

    with KafkaBroker() as broker:
        measure(broker.bootstrap)


if __name__ == "__main__":
    main()
