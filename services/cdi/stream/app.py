"""The Faust application: a routing agent and one agent per stage of the core.

``route`` reads the input topics (raw bytes), validates every record against its contract,
dead-letters what fails, and forwards valid events to the internal topic of each stage that
reads them, keyed as that stage keys its cases: ``case-events`` (by incident), ``crime-events``
(by crime), ``offender-events`` (by offender). It also broadcasts each input partition's
event-time progress to every partition of those topics, so that each stage's watermark is the
minimum over all its inputs (see cdi.core.clock). The crime stage passes disposals on to the
offender stage, followed by its own progress.

Each stage agent runs the core per partition, with case state in a changelogged table, and
sends findings to the findings topic, keyed by subject.
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
from cdi.core.clock import NEVER
from cdi.core.events import Event, HistoryEnded
from cdi.core.pipeline import CRIME_STAGE, CRIMES, INCIDENTS, OFFENDERS, ROUTES, Monitor
from cdi.core.stage import DUPLICATE, LATE, Step
from cdi.settings import Settings
from cdi.stream.metrics import Metrics, OpenCases, PipelineRegistry
from cdi.stream.partitions import PartitionStates
from cdi.topics import INPUT_ROLES, Topics

log = logging.getLogger("cdi.worker")

# Header names on the internal topics and on dead letters.
H_ORIGIN = "cdi-origin"  # input partition an event came from, e.g. "incidents/3"
H_SOURCE = "cdi-source"  # topic:partition:offset of the original record
H_PROGRESS = "cdi-progress"  # JSON {origin: low mark in ms} on progress markers
H_WALL = "cdi-wall"  # wall clock (ms) of the sender, live mode only
H_REASON = "cdi-reason"
H_DETAIL = "cdi-detail"

PROCESSING_ERROR = "processing_error"

STAGE_TOPICS = {INCIDENTS: "case-events", CRIMES: "crime-events", OFFENDERS: "offender-events"}
# Which stages' clocks each input topic drives (every stage that reads some of its events).
FEEDS = {
    "incidents": (INCIDENTS,),
    "crimes": (INCIDENTS, CRIMES),
    "outcomes": (CRIMES,),
    "offender-history": (OFFENDERS,),
}


def _headers(event: Any) -> dict[str, bytes]:
    raw = event.headers or {}
    items = raw.items() if isinstance(raw, dict) else raw
    return dict(items)


def stage_origins(partition_counts: dict[str, int]) -> dict[str, tuple[str, ...]]:
    """Every origin each stage's watermark waits for."""
    origins: dict[str, list[str]] = {name: [] for name in STAGE_TOPICS}
    for role in INPUT_ROLES:
        for name in FEEDS[role]:
            origins[name] += [f"{role}/{p}" for p in range(partition_counts[role])]
    origins[OFFENDERS] += [f"{CRIME_STAGE}/{p}" for p in range(partition_counts[STAGE_TOPICS[CRIMES]])]
    return {name: tuple(found) for name, found in origins.items()}


class _NoReadOffsets(dict):  # type: ignore[type-arg]
    """Faust's record of the last offset read per partition, made to always answer "none".

    Faust drops a fetched record whose offset is below the last one it read. Around a rebalance
    it reads records it then skips (fetched before a seek, or while flow was stopped), and the
    same records fetched again after the seek were then dropped as already read: an event lost
    without a trace. Without the record every fetched record is delivered; a record delivered
    twice is harmless here, because every stage drops events it has seen (by event id).
    """

    def __getitem__(self, key: Any) -> None:
        return None

    def get(self, key: Any, default: Any = None) -> Any:
        return default


def keep_rereads(app: faust.App) -> None:
    app.consumer._read_offset = _NoReadOffsets()  # type: ignore[attr-defined]


def build_app(
    settings: Settings, partition_counts: dict[str, int], registry: CollectorRegistry | None = None
) -> faust.App:
    assert settings.bootstrap, "the worker needs CDI_KAFKA_BOOTSTRAP"
    topics = Topics(settings.topic_prefix)
    contracts = Contracts()
    config = rules_files.load(settings.rules_path, contracts)
    monitor = Monitor(config, reference_tables.load())
    # Every series the worker serves (its own, Faust's sensor's, OpenCases) carries pipeline=<namespace>.
    registry = registry or PipelineRegistry(settings.namespace)
    metrics = Metrics(registry, config.version, cdi.__version__)
    lateness = config.allowed_lateness_ms
    live = settings.clock == "live"
    origins = stage_origins(partition_counts)

    app = faust.App(
        topics.app_id,
        broker=f"kafka://{settings.bootstrap}",
        store="rocksdb://" if settings.store == "rocksdb" else "memory://",
        datadir=str(settings.data_dir),
        topic_partitions=partition_counts["case-events"],
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
    keep_rereads(app)
    setup_prometheus_sensors(app, pattern="/metrics", registry=registry, name_prefix="cdi_faust")

    def raw_topic(role: str, **kwargs: Any) -> Any:
        return app.topic(topics.name(role), key_type=bytes, value_type=bytes, **kwargs)

    inputs = app.topic(*(topics.name(role) for role in INPUT_ROLES), key_type=bytes, value_type=bytes)
    stage_topics = {name: raw_topic(role, partitions=partition_counts[role]) for name, role in STAGE_TOPICS.items()}
    findings_topic = raw_topic("findings")
    dead_letters = raw_topic("dead-letters")
    states = {
        name: PartitionStates(
            monitor.stages[name],
            app.Table(
                name, default=None, key_type=bytes, value_type=bytes, partitions=partition_counts[STAGE_TOPICS[name]]
            ),
            origins[name],
        )
        for name in STAGE_TOPICS
    }
    registry.register(OpenCases(lambda: (item for s in states[INCIDENTS].owned() for item in s.awaiting.items())))

    role_of = {topics.name(role): role for role in INPUT_ROLES}
    lows: dict[str, int] = {}  # route: low mark per input partition it has read
    unsent: set[str] = set()  # route: origins whose progress is not yet broadcast
    crime_progress: dict[int, int] = {}  # crime stage: watermark once its forwards are sent, by partition
    crime_sent: dict[int, int] = {}

    async def dead_letter(key: bytes | None, raw: bytes, source: str, reason: str, detail: str) -> None:
        metrics.dead_letters.labels(reason).inc()
        await dead_letters.send(
            key=key,
            value=raw,
            headers=[(H_SOURCE, source.encode()), (H_REASON, reason.encode()), (H_DETAIL, detail.encode()[:2000])],
        )

    async def broadcast(name: str, progress: dict[str, int]) -> None:
        headers = [(H_PROGRESS, orjson.dumps(progress))]
        if live:
            headers.append((H_WALL, str(int(time.time() * 1000)).encode()))
        topic = stage_topics[name]
        for partition in range(partition_counts[STAGE_TOPICS[name]]):
            await topic.send(key=None, value=b"", partition=partition, headers=headers)

    async def broadcast_inputs(report: dict[str, int]) -> None:
        for name in STAGE_TOPICS:
            mine = {o: low for o, low in report.items() if name in FEEDS[o.split("/")[0]]}
            if mine:
                await broadcast(name, mine)

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
                lows[origin] = max(lows.get(origin, NEVER), parsed.at + 1)
                unsent.discard(origin)
                await broadcast_inputs({origin: lows[origin]})
                continue
            headers = [(H_ORIGIN, origin.encode()), (H_SOURCE, source.encode())]
            for name in ROUTES.get(parsed.type, ()):
                key = monitor.stages[name].logic.key(parsed)
                if key is not None:
                    await stage_topics[name].send(key=key.encode(), value=event.value, headers=headers)
            low = parsed.at - lateness
            if low > lows.get(origin, NEVER):
                lows[origin] = low
                unsent.add(origin)

    @app.timer(settings.progress_interval)
    async def progress() -> None:
        """Tell every stage partition how far each input partition has got, including quiet ones
        (in live mode the wall clock rides along); and the offender stage how far the crime
        stage has got."""
        if unsent or live:
            report = {origin: lows[origin] for origin in (lows if live else unsent)}
            unsent.clear()
            await broadcast_inputs(report)
        moved = {f"{CRIME_STAGE}/{p}": wm for p, wm in crime_progress.items() if crime_sent.get(p) != wm}
        if moved:
            crime_sent.update({int(o.split("/")[1]): wm for o, wm in moved.items()})
            await broadcast(OFFENDERS, moved)

    def stage_agent(name: str) -> None:
        stage = monitor.stages[name]
        partitions = states[name]

        async def deliver(step: Step, partition: int, state: Any) -> None:
            """Send findings and forwarded records and wait until the broker has them, before the
            state change behind them is saved."""
            pending = []
            for finding in step.findings:
                pending.append(
                    await findings_topic.send(
                        key=finding.payload.subject.id.encode(), value=orjson.dumps(finding.to_dict())
                    )
                )
            origin = f"{CRIME_STAGE}/{partition}".encode()
            for forward in step.forwards:
                pending.append(
                    await stage_topics[forward.stage].send(
                        key=forward.key.encode(),
                        value=orjson.dumps(forward.event.to_dict()),
                        headers=[(H_ORIGIN, origin)],
                    )
                )
            for fut in pending:
                await fut
            metrics.record_findings(step.findings)
            metrics.record_observations(step.observations)
            if name == CRIMES:
                crime_progress[partition] = state.clock.watermark

        async def run(stream: Any) -> None:
            async for event in stream.events():
                partition = event.message.partition
                state = partitions.get(partition)
                headers = _headers(event)
                if H_PROGRESS in headers:
                    for origin, low in orjson.loads(headers[H_PROGRESS]).items():
                        await deliver(stage.progress(state, origin, low), partition, state)
                    if H_WALL in headers:
                        await deliver(stage.follow_wall_clock(state, int(headers[H_WALL])), partition, state)
                    partitions.save(partition, state, clock=True)
                    watermarks()
                    continue
                parsed = Event.from_dict(orjson.loads(event.value))  # validated by route
                origin = headers[H_ORIGIN].decode()
                # Count each input event in one stage only, and internal records (disposals) not at all.
                counted = ROUTES.get(parsed.type, ())[:1] == (name,)
                try:
                    step = stage.process(state, parsed, origin)
                except Exception as exc:  # a defect, not bad input: keep the record and go on
                    # The stack, but not the exception's message: it could quote record values.
                    log.error(
                        "rule evaluation failed (%s) in the %s stage for a %s event from %s\n%s",
                        type(exc).__name__,
                        name,
                        parsed.type,
                        origin,
                        "".join(traceback.format_tb(exc.__traceback__)),
                    )
                    await dead_letter(
                        event.key,
                        event.value,
                        headers.get(H_SOURCE, b"").decode(),
                        PROCESSING_ERROR,
                        type(exc).__name__,
                    )
                    continue
                if step.rejected == LATE:
                    metrics.late.labels(parsed.type).inc()
                    await dead_letter(
                        event.key,
                        event.value,
                        headers.get(H_SOURCE, b"").decode(),
                        LATE,
                        f"event time {parsed.occurred_at} is before the {name} stage's watermark",
                    )
                    continue
                if step.rejected == DUPLICATE:
                    if counted:
                        metrics.duplicates.labels(parsed.type).inc()
                    continue
                if counted:
                    metrics.consumed.labels(parsed.type).inc()
                await deliver(step, partition, state)
                partitions.save(partition, state)

        run.__name__ = f"{name}_stage"
        app.agent(stage_topics[name], name=f"{name}-stage")(run)

    for stage_name in STAGE_TOPICS:
        stage_agent(stage_name)

    def watermarks() -> None:
        owned = list(states[INCIDENTS].owned())
        if owned:
            metrics.watermark.set(max(min(s.clock.watermark for s in owned), 0) / 1000)
            metrics.max_event.set(max(max(s.clock.max_seen for s in owned), 0) / 1000)

    @app.on_rebalance_complete.connect
    async def on_rebalance(sender: Any, **kwargs: Any) -> None:
        for partition_states in states.values():
            partition_states.reset()
        crime_progress.clear()
        crime_sent.clear()

    app.cdi_states = states  # type: ignore[attr-defined]
    return app
