"""Reads the namespace's findings, case-actions and input topics into the cases view.

One thread, one kafka-python consumer with every partition assigned by hand (no consumer group:
each replica reads everything, and the offsets live in the database beside the rows), starting
from the offsets the view stored. Each poll is applied as one transaction.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from cdi.settings import Settings
from cdi.topics import INPUT_ROLES, Topics
from cdi.workbench.store import ACTIONS_ROLE, FINDINGS_ROLE, CaseStore, FeedRecord

log = logging.getLogger("cdi.workbench")

MS_PER_DAY = 86_400_000
PRUNE_EVERY_S = 600.0


@dataclass(slots=True)
class FeedStatus:
    """What the feed has done, read by /readyz, /metrics and the pages (under ``changed``)."""

    version: int = 0  # bumps whenever the view changed
    caught_up: bool = False  # reached the end offsets seen at start-up
    records: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    error: str | None = None  # why the feed is not reading, for /readyz
    last_poll: float = 0.0  # wall time of the last poll that reached the broker and the database
    changed: threading.Condition = field(default_factory=threading.Condition)


class Feed:
    def __init__(self, settings: Settings, store: CaseStore, retention_days: float) -> None:
        self.settings = settings
        self.store = store
        self.retention_ms = int(retention_days * MS_PER_DAY)
        topics = Topics(settings.topic_prefix)
        self.roles = {topics.name(role): role for role in (FINDINGS_ROLE, ACTIONS_ROLE, *INPUT_ROLES)}
        self.status = FeedStatus()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cdi-workbench-feed", daemon=True)
        self._last_prune = 0.0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def wait_for(self, action_id: str, timeout: float) -> bool:
        """Wait until the view holds ``action_id`` (the page shows an action once it is applied)."""
        return self.wait_until(lambda: self.store.action(action_id) is not None, timeout)

    def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``condition()`` holds, looking again at each change of the view."""
        deadline = time.monotonic() + timeout
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with self.status.changed:
                self.status.changed.wait(min(left, 1.0))
        return True

    def _consumer(self) -> KafkaConsumer:
        assert self.settings.bootstrap
        return KafkaConsumer(
            bootstrap_servers=self.settings.bootstrap,
            client_id="cdi-workbench",
            enable_auto_commit=False,
            group_id=None,
            # A fresh view (offset 0) on a topic whose retention has dropped its first records
            # starts at the earliest record kept, never at the end.
            auto_offset_reset="earliest",
            max_poll_records=2000,
            **self.settings.security.kafka_python(),
        )

    def _assign(self, consumer: KafkaConsumer) -> dict[TopicPartition, int]:
        partitions = []
        for topic in self.roles:
            found = consumer.partitions_for_topic(topic)
            if not found:
                raise RuntimeError(f"topic {topic} does not exist yet; start `cdi worker` (it creates the topics)")
            partitions += [TopicPartition(topic, p) for p in sorted(found)]
        consumer.assign(partitions)
        stored = self.store.stored_offsets(self.roles)
        ends = consumer.end_offsets(partitions)
        for tp in partitions:
            at = stored.get((tp.topic, tp.partition), 0)
            if at > ends[tp]:
                log.error(
                    "the view has read %s partition %d to offset %d, past its end (%d): the topic was "
                    "recreated. Stop the workbench, delete its database (CDI_CASES_DATABASE_URL) and "
                    "start it again to rebuild the view",
                    tp.topic,
                    tp.partition,
                    at,
                    ends[tp],
                )
            consumer.seek(tp, at)
        return ends

    def _run(self) -> None:
        while not self._stop.is_set():
            consumer = None
            try:
                consumer = self._consumer()
                ends = self._assign(consumer)
                self.status.error = None
                self._read(consumer, ends)
            except (KafkaError, RuntimeError, OSError) as exc:
                self.status.error = f"{type(exc).__name__}: {exc}"
                log.warning("workbench feed stopped (%s); retrying in 2 s", self.status.error)
                self._stop.wait(2.0)
            except Exception as exc:  # a database outage, say: retry rather than die
                self.status.error = f"{type(exc).__name__}"
                log.exception("workbench feed failed; retrying in 2 s")
                self._stop.wait(2.0)
            finally:
                if consumer is not None:
                    consumer.close()

    def _read(self, consumer: KafkaConsumer, ends: dict[TopicPartition, int]) -> None:
        while not self._stop.is_set():
            polled = consumer.poll(timeout_ms=500)
            batch = [
                FeedRecord(self.roles[tp.topic], tp.topic, tp.partition, m.offset, m.value)
                for tp, messages in polled.items()
                for m in messages
            ]
            applied = self.store.apply(batch)
            with self.status.changed:
                self.status.last_poll = time.time()
                self.status.error = None
                self.status.records += applied.records
                self.status.refused.update(applied.refused)
                # Only what the pages show: input events alone would refresh every open page
                # several times a second while a history streams.
                if applied.changed:
                    self.status.version += 1
                self.status.changed.notify_all()
            for reason, n in applied.refused.items():
                log.warning("workbench skipped %d record(s): %s", n, reason)
            if not self.status.caught_up and all(consumer.position(tp) >= end for tp, end in ends.items()):
                with self.status.changed:
                    self.status.caught_up = True
                    self.status.version += 1
                    self.status.changed.notify_all()
                log.info("workbench view caught up with the topics (%d records)", self.status.records)
            self._prune()

    def _prune(self) -> None:
        now = time.monotonic()
        if now - self._last_prune < PRUNE_EVERY_S:
            return
        self._last_prune = now
        latest = self.store.latest_event_time()
        if latest is not None:
            # One event dated in the far future must not age every other one out: the reference
            # is the newest event time, but never later than a day from now.
            reference = min(latest, int(time.time() * 1000) + MS_PER_DAY)
            dropped = self.store.prune_events(reference - self.retention_ms)
            if dropped:
                log.info("workbench pruned %d stored input events no finding cites", dropped)
