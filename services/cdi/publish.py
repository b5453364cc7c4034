"""Publishes a history into the input topics, in file order, keyed as the contracts say.

A bounded history ends with a ``history.ended`` marker on every partition of every input topic,
carrying the history's latest event time, so the monitor closes every deadline the history
covers, exactly as the offline backtest does at the end of the file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import orjson
from kafka import KafkaProducer

from cdi.core.times import format_time, parse_time
from cdi.kafka_security import KafkaSecurity, explained
from cdi.settings import Settings
from cdi.stream.end_markers import H_SIGNATURE, signature
from cdi.topics import INPUT_ROLES, Topics, route


@dataclass(slots=True)
class Published:
    events: int = 0
    unroutable: int = 0  # lines that are not valid events: sent to the incidents topic to be dead-lettered
    last_event_ms: int | None = None
    seconds: float = 0.0
    interrupted: bool = False  # stopped by Ctrl-C: no end marker was sent

    @property
    def lines(self) -> int:
        return self.events + self.unroutable


def producer(bootstrap: str, security: KafkaSecurity | None = None) -> KafkaProducer:
    security = security or KafkaSecurity()
    with explained(bootstrap, security):
        return KafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            linger_ms=5,
            batch_size=256 * 1024,
            client_id="cdi-publisher",
            max_in_flight_requests_per_connection=1,
            **security.kafka_python(),
        )


def publish(
    settings: Settings,
    lines: Iterable[bytes],
    *,
    speed: float | None = None,
    source: str = "replay",
    end: bool = True,
    progress: Callable[[Published], None] | None = None,
) -> Published:
    """Send raw history lines; ``speed`` is event-time seconds per wall second (None = as fast as
    possible). Ctrl-C stops cleanly: what was sent is flushed, no end marker goes out, and the
    result says how far it got (``interrupted``)."""
    assert settings.bootstrap
    topics = Topics(settings.topic_prefix)
    out = producer(settings.bootstrap, settings.security)
    result = Published()
    started = time.monotonic()
    first_event_ms: int | None = None
    try:
        for raw in lines:
            try:
                record = orjson.loads(raw)
                role, key = route(record)
                at = parse_time(record["occurred_at"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                out.send(topics.name("incidents"), value=raw, key=b"unroutable")
                result.unroutable += 1
                continue
            if speed is not None:
                first_event_ms = at if first_event_ms is None else first_event_ms
                wait = (at - first_event_ms) / 1000 / speed - (time.monotonic() - started)
                if wait > 0:
                    out.flush()
                    time.sleep(wait)
            out.send(topics.name(role), value=raw, key=key.encode())
            result.events += 1
            result.last_event_ms = at if result.last_event_ms is None else max(result.last_event_ms, at)
            if progress is not None and result.events % 500 == 0:
                result.seconds = time.monotonic() - started
                progress(result)
        if end and result.last_event_ms is not None:
            send_end(out, topics, result.last_event_ms, source, settings.replay_key)
        out.flush()
    except KeyboardInterrupt:
        result.interrupted = True
        out.flush()
    finally:
        out.close()
    result.seconds = time.monotonic() - started
    if progress is not None:
        progress(result)
    return result


def send_end(out: KafkaProducer, topics: Topics, through_ms: int, source: str, key: str | None = None) -> None:
    """A ``history.ended`` marker on every partition of every input topic the rules read, signed
    with the replay key when there is one (see cdi.stream.end_markers)."""
    for role in INPUT_ROLES:
        name = topics.name(role)
        partitions = out.partitions_for(name) or {0}
        for partition in sorted(partitions):
            marker = {
                # The same replay ends with the same markers, so a re-run adds nothing new.
                "event_id": f"end-{source}-{through_ms}-{role}-{partition}",
                "type": "history.ended",
                "schema_version": 1,
                "occurred_at": format_time(through_ms),
                "force": "ALL",
                "division": "ALL",
                "payload": {"source": source},
            }
            raw = orjson.dumps(marker)
            headers = [(H_SIGNATURE, signature(key, raw))] if key else None
            out.send(name, value=raw, key=None, partition=partition, headers=headers)
