"""The Faust application: two agents around the core.

``route`` reads the input topics (raw bytes), validates every record against its contract,
dead-letters what fails, and forwards valid events to the internal ``case-events`` topic keyed
by case (the incident), which co-partitions an incident with the crimes recorded for it. It also
broadcasts each input partition's event-time progress to every case partition, so that the
watermark there is the minimum over all inputs (see cdi.core.clock).

``cases`` runs the core per case partition, with case state in a changelogged table, and sends
findings to the findings topic, keyed by subject.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any

import faust
import orjson
from faust.sensors.prometheus import setup_prometheus_sensors
from prometheus_client import CollectorRegistry

import cdi
from cdi import reference as reference_tables
from cdi import rules as rules_files
from cdi.contracts import Contracts, InvalidEvent
from cdi.core.events import Event, HistoryEnded
from cdi.core.monitor import DUPLICATE, LATE, Monitor, case_key
from cdi.settings import Settings
from cdi.stream.metrics import Metrics, OpenCases
from cdi.stream.partitions import PartitionStates
from cdi.topics import INPUT_ROLES, Topics

log = logging.getLogger("cdi.worker")

# Header names on the internal topic and on dead letters.
H_ORIGIN = "cdi-origin"  # input partition an event came from, e.g. "incidents/3"
H_SOURCE = "cdi-source"  # topic:partition:offset of the original record
H_PROGRESS = "cdi-progress"  # JSON {origin: low mark in ms} on progress markers
H_WALL = "cdi-wall"  # wall clock (ms) of the sender, live mode only
H_REASON = "cdi-reason"
H_DETAIL = "cdi-detail"

PROCESSING_ERROR = "processing_error"


def _headers(event: Any) -> dict[str, bytes]:
    raw = event.headers or {}
    items = raw.items() if isinstance(raw, dict) else raw
    return {k: v for k, v in items}


def build_app(
    settings: Settings, partition_counts: dict[str, int], registry: CollectorRegistry | None = None
) -> faust.App:
    assert settings.bootstrap, "the worker needs CDI_KAFKA_BOOTSTRAP"
    topics = Topics(settings.topic_prefix)
    contracts = Contracts()
    config = rules_files.load(settings.rules_path, contracts)
    monitor = Monitor(config, reference_tables.load())
    registry = registry or CollectorRegistry()
    metrics = Metrics(registry, config.version, cdi.__version__)
    case_partitions = partition_counts["case-events"]
    origins = tuple(f"{role}/{p}" for role in INPUT_ROLES for p in range(partition_counts[role]))
    lateness = config.allowed_lateness_ms
    live = settings.clock == "live"

    app = faust.App(
        topics.app_id,
        broker=f"kafka://{settings.bootstrap}",
        store="rocksdb://" if settings.store == "rocksdb" else "memory://",
        datadir=str(settings.data_dir),
        topic_partitions=case_partitions,
        topic_replication_factor=settings.replication_factor,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout,
        broker_heartbeat_interval=settings.heartbeat_interval,
        table_standby_replicas=settings.standby_replicas,
        web_enabled=True,
        web_bind=settings.metrics_host,
        web_host=settings.metrics_host,
        web_port=settings.metrics_port,
        producer_acks=-1,
        key_serializer="raw",
        value_serializer="raw",
    )
    setup_prometheus_sensors(app, pattern="/metrics", registry=registry, name_prefix="cdi_faust")

    inputs = app.topic(*(topics.name(role) for role in INPUT_ROLES), key_type=bytes, value_type=bytes)
    case_events = app.topic(topics.name("case-events"), key_type=bytes, value_type=bytes, partitions=case_partitions)
    findings_topic = app.topic(topics.name("findings"), key_type=bytes, value_type=bytes)
    dead_letters = app.topic(topics.name("dead-letters"), key_type=bytes, value_type=bytes)
    table = app.Table("cases", default=None, key_type=bytes, value_type=bytes, partitions=case_partitions)
    states = PartitionStates(monitor, table, origins)
    registry.register(OpenCases(lambda: (item for s in states.owned() for item in s.awaiting.items())))

    role_of = {topics.name(role): role for role in INPUT_ROLES}
    lows: dict[str, int] = {}  # route: low mark per input partition it has read
    unsent: set[str] = set()  # route: origins whose progress is not yet broadcast

    async def dead_letter(key: bytes | None, raw: bytes, source: str, reason: str, detail: str) -> None:
        metrics.dead_letters.labels(reason).inc()
        await dead_letters.send(
            key=key,
            value=raw,
            headers=[(H_SOURCE, source.encode()), (H_REASON, reason.encode()), (H_DETAIL, detail.encode()[:2000])],
        )

    async def broadcast(progress: dict[str, int]) -> None:
        headers = [(H_PROGRESS, orjson.dumps(progress))]
        if live:
            headers.append((H_WALL, str(int(time.time() * 1000)).encode()))
        for partition in range(case_partitions):
            await case_events.send(key=None, value=b"", partition=partition, headers=headers)

    @app.agent(inputs)
    async def route(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            origin = f"{role_of[message.topic]}/{message.partition}"
            source = f"{message.topic}:{message.partition}:{message.offset}"
            metrics.lag.observe(max(time.time() - message.timestamp, 0.0))
            metrics.last_processed.set(time.time())
            try:
                parsed = contracts.decode(event.value)
            except InvalidEvent as exc:
                metrics.invalid.labels(exc.reason).inc()
                log.warning("dead-lettered %s record from %s: %s", exc.reason, origin, exc.summary)
                await dead_letter(event.key, event.value, source, exc.reason, exc.detail)
                continue
            if isinstance(parsed.payload, HistoryEnded):  # a control marker, not counted as an event
                lows[origin] = max(lows.get(origin, -(2**62)), parsed.at + 1)
                unsent.discard(origin)
                await broadcast({origin: lows[origin]})
                continue
            key = case_key(parsed)
            if key is None:  # outcome and offender events: counted until their rules consume them
                metrics.consumed.labels(parsed.type).inc()
                continue
            low = parsed.at - lateness
            if low > lows.get(origin, -(2**62)):
                lows[origin] = low
                unsent.add(origin)
            await case_events.send(
                key=key.encode(), value=event.value, headers=[(H_ORIGIN, origin.encode()), (H_SOURCE, source.encode())]
            )

    @app.timer(settings.progress_interval)
    async def progress() -> None:
        """Tell every case partition how far each input partition has got, including quiet ones
        (in live mode the wall clock rides along)."""
        if unsent or live:
            report = {origin: lows[origin] for origin in (unsent if not live else lows)}
            unsent.clear()
            await broadcast(report)

    @app.agent(case_events)
    async def cases(stream: Any) -> None:
        async for event in stream.events():
            partition = event.message.partition
            state = states.get(partition)
            headers = _headers(event)
            if H_PROGRESS in headers:
                for origin, low in orjson.loads(headers[H_PROGRESS]).items():
                    step = monitor.progress(state, origin, low)
                    await deliver(step.findings, step.observations)
                if H_WALL in headers:
                    step = monitor.follow_wall_clock(state, int(headers[H_WALL]))
                    await deliver(step.findings, step.observations)
                states.save(partition, clock=True)
                watermarks()
                continue
            parsed = Event.from_dict(orjson.loads(event.value))  # validated by route
            origin = headers[H_ORIGIN].decode()
            try:
                step = monitor.process(state, parsed, origin)
            except Exception as exc:  # a defect, not bad input: keep the record and go on
                # The stack, but not the exception's message: it could quote record values.
                log.error(
                    "rule evaluation failed (%s) for a %s event from %s\n%s",
                    type(exc).__name__,
                    parsed.type,
                    origin,
                    "".join(traceback.format_tb(exc.__traceback__)),
                )
                await dead_letter(
                    event.key, event.value, headers.get(H_SOURCE, b"").decode(), PROCESSING_ERROR, type(exc).__name__
                )
                continue
            if step.rejected == LATE:
                metrics.late.labels(parsed.type).inc()
                await dead_letter(
                    event.key,
                    event.value,
                    headers.get(H_SOURCE, b"").decode(),
                    LATE,
                    f"event time {parsed.occurred_at} is before the watermark",
                )
                continue
            if step.rejected == DUPLICATE:
                metrics.duplicates.labels(parsed.type).inc()
                continue
            metrics.consumed.labels(parsed.type).inc()
            await deliver(step.findings, step.observations)
            states.save(partition)

    async def deliver(found: list[Event], observations: list[Any]) -> None:
        """Send findings and wait until the broker has them, before their state change is saved."""
        pending = []
        for finding in found:
            payload = finding.payload
            pending.append(
                await findings_topic.send(key=payload.subject.id.encode(), value=orjson.dumps(finding.to_dict()))
            )
        for fut in pending:
            await fut
        metrics.record_findings(found)
        metrics.record_observations(observations)

    def watermarks() -> None:
        owned = list(states.owned())
        if owned:
            metrics.watermark.set(max(min(s.clock.watermark for s in owned), 0) / 1000)
            metrics.max_event.set(max(max(s.clock.max_seen for s in owned), 0) / 1000)

    @app.on_rebalance_complete.connect
    async def on_rebalance(sender: Any, **kwargs: Any) -> None:
        states.reset()

    app.cdi_states = states  # type: ignore[attr-defined]
    return app
