"""A range of Kafka topics read back as a history: for replays from a live topic and for export.

Start offsets are looked up by timestamp (``offsets_for_times``). A record's Kafka timestamp is
when it was produced, never before the event it carries happened, so every event at or after
``start_ms`` sits at or after the offset found for ``start_ms``. The end is each partition's
end offset when the read begins (an event can be produced long after it happened, so a
timestamp cannot bound the end); events are then kept by their own event time.

The records come back sorted by event time, then topic, partition and offset, so the same range
always gives the same history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson
from kafka import KafkaConsumer, TopicPartition

from cdi.core.times import parse_time
from cdi.kafka_security import KafkaSecurity, explained
from cdi.sources.selection import Selection


@dataclass(frozen=True, slots=True)
class RangeRecord:
    at: int | None  # event time; None for records that are not readable events
    topic: str
    partition: int
    offset: int
    value: bytes

    def sort_key(self) -> tuple[int, str, int, int]:
        return (self.at if self.at is not None else -1, self.topic, self.partition, self.offset)


class TopicRangeError(RuntimeError):
    pass


def read_range(
    bootstrap: str,
    topics: Sequence[str],
    selection: Selection,
    progress: Callable[[int, int], None] | None = None,
    *,
    security: KafkaSecurity | None = None,
) -> list[bytes]:
    """Every record of ``topics`` the selection takes, in event-time order."""
    security = security or KafkaSecurity()
    with explained(bootstrap, security):
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            enable_auto_commit=False,
            group_id=None,
            client_id="cdi-range-reader",
            consumer_timeout_ms=10_000,
            **security.kafka_python(),
        )
    try:
        partitions = []
        for topic in topics:
            found = consumer.partitions_for_topic(topic)
            if not found:
                raise TopicRangeError(f"topic {topic!r} does not exist on {bootstrap}; `cdi topics` lists them")
            partitions += [TopicPartition(topic, p) for p in sorted(found)]
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        starts = consumer.beginning_offsets(partitions)
        if selection.start_ms is not None:
            by_time = consumer.offsets_for_times({tp: selection.start_ms for tp in partitions})
            starts = {tp: (found.offset if found is not None else ends[tp]) for tp, found in by_time.items()}
        total = sum(max(ends[tp] - starts[tp], 0) for tp in partitions)
        for tp in partitions:
            consumer.seek(tp, starts[tp])
        remaining = {tp for tp in partitions if starts[tp] < ends[tp]}
        kept: list[RangeRecord] = []
        read = 0
        while remaining:
            batches = consumer.poll(timeout_ms=1000, max_records=5000)
            if not batches and not any(consumer.position(tp) < ends[tp] for tp in remaining):
                break
            for tp, messages in batches.items():
                for message in messages:
                    if message.offset >= ends[tp]:
                        remaining.discard(tp)
                        consumer.pause(tp)
                        break
                    read += 1
                    if message.value is not None and selection.takes(message.value):
                        kept.append(_record(message))
                if consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
                    consumer.pause(tp)
            if progress is not None:
                progress(read, total)
        kept.sort(key=RangeRecord.sort_key)
        return [r.value for r in kept]
    finally:
        consumer.close()


def _record(message: object) -> RangeRecord:
    value: bytes = message.value  # type: ignore[attr-defined]
    try:
        at: int | None = parse_time(orjson.loads(value)["occurred_at"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        at = None
    return RangeRecord(at, message.topic, message.partition, message.offset, value)  # type: ignore[attr-defined]
