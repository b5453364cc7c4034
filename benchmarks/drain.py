"""Watching a drain from the broker, so that watching does not slow what is watched.

A benchmark that scrapes a worker's ``/metrics`` to learn when it is done makes the worker render
its whole registry (Faust's sensor included) at every poll; polled often, that is a share of the
measurement. Everything here asks the broker instead:

- **progress and completion**: the consumer group's committed offsets against the end offsets of
  the topics it reads (``ListOffsets`` and ``OffsetFetch`` through the admin API);
- **what the app wrote**: the end offsets of every topic in its namespace that it writes to
  (stage topics, changelogs, findings, dead letters), before and after;
- **when it worked**: the producer timestamps of the first and last records it wrote, read once
  after the drain. The window from the first to the last record the app wrote is the time it
  spent, without the start-up before it or the detection delay after it (a group commits every
  1,000 records or 2.8 s, so committed offsets reach the end a few seconds after the work).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from cdi.settings import Settings

CHECK_EVERY_S = 1.0
PROGRESS_EVERY_S = 5.0


def say(line: str) -> None:
    print(line, flush=True)


@dataclass(frozen=True, slots=True)
class Done:
    """How a drain ended: the records the app wrote in its namespace, by topic."""

    written: dict[str, int]
    waited_s: float  # from the start of the wait to the drain being seen: not a measurement


class BrokerWatch:
    """Offsets and record times of one namespace's topics, from the broker."""

    def __init__(self, settings: Settings) -> None:
        assert settings.bootstrap
        self.prefix = settings.topic_prefix
        security = settings.security.kafka_python()
        self.admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap, client_id="cdi-bench-watch", **security)
        self.consumer = KafkaConsumer(
            bootstrap_servers=settings.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            client_id="cdi-bench-watch",
            **security,
        )

    def close(self) -> None:
        self.consumer.close()
        self.admin.close()

    def __enter__(self) -> BrokerWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def topics(self) -> list[str]:
        """Every topic of the namespace: the monitor's and those its Faust apps created."""
        return sorted(name for name in self.admin.list_topics() if name.startswith(self.prefix))

    def partitions(self, topics: Iterable[str]) -> list[TopicPartition]:
        found = []
        for topic in topics:
            for partition in sorted(self.consumer.partitions_for_topic(topic) or ()):
                found.append(TopicPartition(topic, partition))
        return found

    def ends(self, topics: Iterable[str]) -> dict[TopicPartition, int]:
        tps = self.partitions(topics)
        return dict(self.consumer.end_offsets(tps)) if tps else {}

    def totals(self, topics: Iterable[str]) -> dict[str, int]:
        """Records on each topic: the sum of its end offsets (nothing here is compacted away or
        transactional, so an end offset counts every record ever written)."""
        out: dict[str, int] = {}
        for tp, end in self.ends(topics).items():
            out[tp.topic] = out.get(tp.topic, 0) + end
        return out

    # Until a group's first member joins, the broker may have no coordinator for it yet (its offsets
    # topic is made on first use): asked then, the answer is "nothing yet", not an error.

    def committed(self, group: str) -> dict[TopicPartition, int]:
        try:
            offsets = self.admin.list_group_offsets({group: None}).get(group, {})
        except KafkaError:
            return {}
        return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}

    def group(self, group: str) -> dict:  # type: ignore[type-arg]
        try:
            return self.admin.describe_groups([group]).get(group, {})
        except KafkaError:
            return {}

    def progress(self, group: str, inputs: Iterable[str]) -> tuple[int, int]:
        """(records of ``inputs`` the group has committed, records on them)."""
        ends = self.ends(inputs)
        committed = self.committed(group)
        return sum(min(committed.get(tp, 0), end) for tp, end in ends.items()), sum(ends.values())

    def record_time(self, tp: TopicPartition, offset: int, timeout: float = 30.0) -> float:
        """The producer timestamp (seconds since the epoch) of one record."""
        self.consumer.assign([tp])
        self.consumer.seek(tp, offset)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for record in self.consumer.poll(timeout_ms=500).get(tp, []):
                if record.offset >= offset:
                    return record.timestamp / 1000
        raise RuntimeError(f"could not read {tp.topic}[{tp.partition}] at offset {offset}")

    def first_write(self, topics: Iterable[str]) -> float:
        """When the earliest of the first records of these topics' partitions was written."""
        starts = self.consumer.beginning_offsets(self.partitions(topics))
        ends = self.consumer.end_offsets(list(starts))
        times = [self.record_time(tp, start) for tp, start in starts.items() if ends[tp] > start]
        if not times:
            raise RuntimeError("no records were written")
        return min(times)

    def last_write(self, topics: Iterable[str]) -> float:
        """When the latest of the last records of these topics' partitions was written."""
        times = [self.record_time(tp, end - 1) for tp, end in self.ends(topics).items() if end > 0]
        if not times:
            raise RuntimeError("no records were written")
        return max(times)

    def wait_drained(
        self,
        group: str,
        reads: Iterable[str],
        inputs: Iterable[str],
        *,
        quiet_s: float,
        timeout_s: float,
        label: str,
        alive: Callable[[], str | None] = lambda: None,
        say: Callable[[str], None] = say,
    ) -> Done:
        """Wait until ``group`` has committed every record of the topics it ``reads`` and nothing in
        the namespace has been written for ``quiet_s`` (a worker's progress markers and end-of-
        history findings come after its last input). ``alive`` returns why the app died, if it did.
        Prints a progress line every few seconds: input records committed, records written."""
        reads, inputs = list(reads), list(inputs)
        started = time.monotonic()
        last_said = started
        previous: dict[str, int] | None = None
        unchanged_since = started
        while True:
            now = time.monotonic()
            died = alive()
            if died:
                raise RuntimeError(f"{label}: {died}")
            ends = self.ends(reads)
            committed = self.committed(group)
            behind = sum(max(end - committed.get(tp, 0), 0) for tp, end in ends.items())
            written = {t: n for t, n in self.totals(self.topics()).items() if t not in inputs}
            if written != previous:
                previous, unchanged_since = written, now
            if behind == 0 and now - unchanged_since >= quiet_s:
                return Done(written, now - started)
            if now - last_said >= PROGRESS_EVERY_S:
                done, total = self.progress(group, inputs)
                say(f"  {label}: {done:,} of {total:,} input records committed, {sum(written.values()):,} written")
                last_said = now
            if now - started > timeout_s:
                raise RuntimeError(f"{label}: not drained after {timeout_s:.0f} s ({behind:,} records uncommitted)")
            time.sleep(CHECK_EVERY_S)
