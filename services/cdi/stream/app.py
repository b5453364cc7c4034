"""The Faust application: wiring of the worker's parts onto Faust topics, tables and agents.

- One agent per stage reads the input topics keyed as its cases are (cdi.core.topology.READER:
  incidents; crimes and outcomes; offender history) and its own internal topic (``case-events``
  by incident, ``crime-events`` by crime, ``offender-events`` by offender).
- An input record goes to the ``InputRoute`` (cdi.stream.input_route): validated, bounded,
  dead-lettered, or handed to each stage that reads it: applied at once where the reading stage
  holds its case on this partition (cdi.stream.direct_reads), else sent to that stage's topic.
  Input progress is kept in an ``InputProgress`` and broadcast by the ``progress`` timer to
  every partition of those topics, so that each stage's watermark is the minimum over all its
  inputs (cdi.core.clock).
- A record of a stage's own topic goes to its ``StageRunner`` (cdi.stream.stage_runner), which
  runs the core per partition over a ``PartitionStates`` (cdi.stream.partitions) and hands
  findings and forwarded disposals to the producer. The crime stage's progress goes to the
  offender stage after its disposals (``CrimeProgress``).
- The ``Outbox`` (cdi.stream.outbox) and ``write_state_before_commit`` write the stages' changed
  state once per commit, after everything it led to is acknowledged (cdi.stream.case_store).

The topology itself (routes, keys, which input drives which clock) is cdi.core.topology.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import faust
import orjson
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry

import cdi
from cdi import reference as reference_tables
from cdi import rules as rules_files
from cdi.contracts import Contracts
from cdi.core.admission import Admission
from cdi.core.clock import NEVER
from cdi.core.events import Event
from cdi.core.pipeline import (
    CRIMES,
    INCIDENTS,
    OFFENDERS,
    Monitor,
)
from cdi.core.stage import Forward
from cdi.core.times import format_time
from cdi.core.topology import READER, STAGE_TOPICS, CrimeProgress, InputProgress, stage_origins
from cdi.settings import Settings
from cdi.stream.dead_letters import H_SOURCE, DeadLetters
from cdi.stream.delivery_order import DROP, LOST, REFILLED, SEEK, DeliveryOrder
from cdi.stream.direct_reads import DirectReads
from cdi.stream.end_markers import EndMarkerPolicy
from cdi.stream.http import serve as serve_http
from cdi.stream.input_route import InputRoute
from cdi.stream.labels import LabelSets
from cdi.stream.metrics import Metrics, OpenCases, PipelineRegistry
from cdi.stream.outbox import DeliveryFailed, Outbox
from cdi.stream.partitions import PartitionStates
from cdi.stream.stage_runner import H_ORIGIN, H_PROGRESS, H_WALL, StageRunner
from cdi.topics import INPUT_ROLES, Topics

log = logging.getLogger("cdi.worker")

PROCESSING_ERROR = "processing_error"


def _headers(event: Any) -> dict[str, bytes]:
    raw = event.headers or {}
    items = raw.items() if isinstance(raw, dict) else raw
    return dict(items)


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


TABLE_WRITES_DEADLINE_S = 120.0


def write_state_before_commit(app: faust.App, write_state: Callable[[], Awaitable[None]]) -> None:
    """Make Faust's flush before a commit (and before giving partitions up) first write the
    stages' changed state (``write_state``), then wait for every queued table write.

    Faust flushes its producer before committing offsets and when partitions are revoked, so
    state written here is on the changelog before the offsets of the events behind it are
    committed. Faust's own buffer flush returns as soon as one message takes longer than 0.1 s
    to go out: on a busy machine it committed offsets of events whose state changes were still
    queued, and a stop then dropped them (seen in a test: a worker stopped under load had
    committed offender events, yet its offender changelog stayed empty). This flush drains the
    buffer completely (sending what is left itself once the buffer's own task has stopped) and
    raises if it cannot, which aborts the commit: the events are then read again, and a re-read
    event is a duplicate.
    """
    buffer = app.producer.buffer

    async def flush() -> None:
        await write_state()
        deadline = time.monotonic() + TABLE_WRITES_DEADLINE_S
        while buffer.size:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{buffer.size} table writes still queued; not committing offsets")
            if buffer.should_stop:  # its sending task has ended (the worker is stopping)
                await buffer._send_pending(buffer.pending.get_nowait())
                continue
            buffer.message_sent.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(buffer.message_sent.wait(), timeout=0.5)

    buffer.flush = flush  # type: ignore[method-assign]


def faust_settings(settings: Settings, partition_counts: dict[str, int]) -> dict[str, Any]:
    """The worker's Faust configuration (the ``faust.App`` keyword arguments), apart so that a
    benchmark can run a bare Faust app with exactly the worker's settings
    (benchmarks/faust_floor.py)."""
    return dict(
        broker=f"kafka://{settings.bootstrap}",
        **settings.security.faust(),  # TLS and SASL (cdi.kafka_security)
        store="rocksdb://" if settings.store == "rocksdb" else "memory://",
        datadir=str(settings.data_dir),
        topic_partitions=partition_counts["case-events"],
        topic_replication_factor=settings.replication_factor,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout,
        broker_heartbeat_interval=settings.heartbeat_interval,
        # Commit offsets every 1,000 acknowledged records as well as on Faust's 2.8 s timer (its
        # default is every 10,000): draining a backlog, the committed offsets of a stage topic
        # trailed processing by up to 7,700 records, all of them read again after a crash; now
        # about 1,000. At-least-once is unchanged: Faust commits only acknowledged offsets, after
        # flushing the producer. benchmarks/RESULTS.md, "Catch-up after a crash".
        broker_commit_every=1000,
        # Static group membership when CDI_INSTANCE_ID is set: a worker restarted after a crash gets
        # its partitions back at once instead of after its dead predecessor's session expires. The
        # node URL is part of the stored assignment and Faust's assignor requires it unchanged, so
        # it is derived from the id, not from the host name (a recreated container gets a new one).
        **(
            {"consumer_group_instance_id": settings.instance_id, "canonical_url": f"http://{settings.instance_id}"}
            if settings.instance_id
            else {}
        ),
        table_standby_replicas=settings.standby_replicas,
        # Faust's web server would also serve /router/ and /table/<name>/<key>/ (case data): off.
        # cdi.stream.http serves /metrics, /healthz and /readyz on CDI_METRICS_HOST:PORT instead.
        web_enabled=False,
        producer_acks=-1,
        key_serializer="raw",
        value_serializer="raw",
    )


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
    # Division and offence_group labels from closed sets: the rules' divisions, the known groups.
    labels = LabelSets.for_rules(config, reference_tables.load(), contracts)
    metrics = Metrics(registry, config.version, cdi.__version__, labels=labels)
    lateness = config.allowed_lateness_ms
    live = settings.clock == "live"
    origins = stage_origins(partition_counts)

    app = faust.App(topics.app_id, **faust_settings(settings, partition_counts))
    keep_rereads(app)
    outbox = Outbox()
    serve_http(app, registry, settings.metrics_host, settings.metrics_port)  # and Faust's sensor, in registry

    def raw_topic(role: str, **kwargs: Any) -> Any:
        return app.topic(topics.name(role), key_type=bytes, value_type=bytes, **kwargs)

    stage_topics = {name: raw_topic(role, partitions=partition_counts[role]) for name, role in STAGE_TOPICS.items()}
    findings_topic = raw_topic("findings")
    dead_letters = raw_topic("dead-letters")

    def implausible(at: int) -> bool:
        """A time no admitted input could have carried (see AdmissionBounds.implausible_clock)."""
        return config.admission.implausible_clock(at, int(time.time() * 1000), live)

    def vet_clock(name: str) -> Any:
        def vet(partition: int, saved: dict[str, Any]) -> bool:
            """Refuse a saved clock that no admitted event could have produced (say, one poisoned
            before the admission bounds existed): the partition relearns it from its inputs."""
            furthest = max([saved.get("max_seen", NEVER), *saved.get("lows", {}).values()])
            if not implausible(furthest):
                return True
            metrics.clocks_refused.labels(name).inc()
            log.error(
                "refused the %s stage's saved clock for partition %d: it reaches %s, beyond the admission "
                "bounds; the partition relearns its clock from its inputs. To clear a saved clock by hand, "
                "stop every worker and run: cdi reset-clock --stage %s --partition %d",
                name,
                partition,
                format_time(min(furthest, config.admission.latest_ms)),
                name,
                partition,
            )
            return False

        return vet

    states = {
        name: PartitionStates(
            monitor.stages[name],
            app.Table(
                name, default=None, key_type=bytes, value_type=bytes, partitions=partition_counts[STAGE_TOPICS[name]]
            ),
            origins[name],
            vet_clock(name),
        )
        for name in STAGE_TOPICS
    }
    registry.register(
        OpenCases(lambda: (item for s in states[INCIDENTS].owned() for item in s.awaiting.items()), labels)
    )

    async def write_state() -> None:
        """Every stage's changed cases and clocks, once all they led to is acknowledged."""
        try:
            async with outbox.settled():
                for partition_states in states.values():
                    partition_states.write_changes()
        except DeliveryFailed as exc:
            log.error("%s: stopping without committing; a restart reads the events again", exc)
            await app.crash(exc)
            raise

    write_state_before_commit(app, write_state)

    role_of = {topics.name(role): role for role in INPUT_ROLES}
    letters = DeadLetters(settings.dead_letter_payload)
    # Holes in the offsets each stage agent meets, on its input partitions and its own.
    orders = {name: DeliveryOrder() for name in STAGE_TOPICS}
    input_progress = InputProgress(lateness)  # route: low mark per input partition it has read
    crime_progress = CrimeProgress()  # crime stage: watermark once its forwards are sent, by partition

    async def dead_letter(key: bytes | None, raw: bytes | None, source: str, reason: str, detail: str) -> None:
        """Send a record to the dead-letter topic and wait for the broker's acknowledgement before
        counting it. Where the record itself cannot go (hash mode, or too large for the topic),
        a stub goes instead: the source offset, the size, a SHA-256 of the record and the reason."""
        letter = letters.letter(key, raw, source, reason, detail)
        try:
            await (await dead_letters.send(key=letter.key, value=letter.value, headers=letter.headers))
        except KafkaError as exc:  # refused by the broker (too large for the topic, say): a stub goes instead
            log.warning("dead letter from %s refused (%s); sending a stub", source, type(exc).__name__)
            letter = letters.stub(raw, source, reason, detail)
            await (await dead_letters.send(key=None, value=letter.value, headers=letter.headers))
        metrics.dead_letters.labels(reason).inc()

    async def broadcast(name: str, progress: dict[str, int]) -> None:
        headers = [(H_PROGRESS, orjson.dumps(progress))]
        if live:
            headers.append((H_WALL, str(int(time.time() * 1000)).encode()))
        topic = stage_topics[name]
        for partition in range(partition_counts[STAGE_TOPICS[name]]):
            await topic.send(key=None, value=b"", partition=partition, headers=headers)

    async def broadcast_inputs(report: dict[str, int]) -> None:
        for name, mine in InputProgress.per_stage(report).items():
            await broadcast(name, mine)

    async def in_order(order: DeliveryOrder, reader: str, message: Any) -> bool:
        """False for a record to leave alone: Faust skipped records before it, and a seek back
        will deliver them and it again (cdi.stream.delivery_order)."""
        tp = message.tp
        verdict = order.check(tp, message.offset)
        if verdict == SEEK:
            target = order.target(tp)
            log.warning(
                "the %s agent was handed offset %d of %s[%d] while expecting %d: seeking back to re-read the %d "
                "record(s) in between",
                reader,
                message.offset,
                tp.topic,
                tp.partition,
                target,
                message.offset - target,
            )
            metrics.skipped.labels(reader, "seek").inc()
            await app.consumer.seek_wait({tp: target})
            return False
        if verdict == REFILLED:
            metrics.skipped.labels(reader, "refilled").inc()
        elif verdict == LOST:
            metrics.skipped.labels(reader, "lost").inc()
            log.error(
                "the %s agent could not re-read skipped records of %s[%d] before offset %d (deleted from the topic?); "
                "their events are missing",
                reader,
                tp.topic,
                tp.partition,
                message.offset,
            )
        return verdict != DROP

    class Wire:
        """Every send of the route and the stages, on this app's topics
        (cdi.stream.input_route.RouteWire, cdi.stream.stage_runner.StageWire)."""

        async def to_stage(self, stage: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
            await stage_topics[stage].send(key=key, value=value, headers=headers)

        async def progress(self, report: dict[str, int]) -> None:
            await broadcast_inputs(report)

        async def finding(self, finding: Event) -> Any:
            return await findings_topic.send(
                key=finding.payload.subject.id.encode(), value=orjson.dumps(finding.to_dict())
            )

        async def forward(self, forward: Forward, origin: str) -> Any:
            return await stage_topics[forward.stage].send(
                key=forward.key.encode(),
                value=orjson.dumps(forward.event.to_dict()),
                headers=[(H_ORIGIN, origin.encode())],
            )

        async def dead_letter(
            self, key: bytes | None, value: bytes | None, source: str, reason: str, detail: str
        ) -> None:
            await dead_letter(key, value, source, reason, detail)

    wire = Wire()

    def watermarks() -> None:
        owned = list(states[INCIDENTS].owned())
        if owned:
            metrics.watermark.set(max(min(s.clock.watermark for s in owned), 0) / 1000)
            metrics.max_event.set(max(max(s.clock.max_seen for s in owned), 0) / 1000)

    direct = DirectReads(partition_counts, enabled=settings.direct_reads)
    runners = {
        name: StageRunner(
            name,
            monitor.stages[name],
            states[name],
            outbox,
            metrics,
            wire,
            implausible,
            crime_progress if name == CRIMES else None,
            watermarks,
            direct.own_roles(name),
        )
        for name in STAGE_TOPICS
    }
    input_route = InputRoute(
        contracts,
        monitor.stages,
        Admission(config.admission),
        EndMarkerPolicy(settings.end_marker_policy(), settings.replay_key),
        input_progress,
        metrics,
        wire,
        settings.max_record_bytes,
        (lambda: int(time.time() * 1000)) if live else None,
        direct,
        runners,
    )

    async def route(message: Any, role: str, key: bytes | None, value: bytes | None, headers: dict[str, bytes]) -> None:
        source = f"{message.topic}:{message.partition}:{message.offset}"
        try:
            await input_route.admit(role, message.partition, source, key, value, headers, message.timestamp)
        except Exception as exc:  # a defect no check foresaw: keep the record, keep reading
            log.error(
                "routing failed (%s) for a record from %s[%d]\n%s",
                type(exc).__name__,
                role,
                message.partition,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            await dead_letter(key, value, source, PROCESSING_ERROR, type(exc).__name__)

    @app.timer(settings.progress_interval)
    async def progress() -> None:
        """Tell every stage partition how far each input partition has got, including quiet ones
        (in live mode the wall clock rides along); and the offender stage how far the crime
        stage has got."""
        report = input_progress.report(live)
        if report:
            await broadcast_inputs(report)
        moved = crime_progress.report()
        if moved:
            await broadcast(OFFENDERS, moved)

    def stage_agent(name: str) -> None:
        runner = runners[name]
        order = orders[name]
        own = topics.name(STAGE_TOPICS[name])
        read = [topics.name(role) for role in INPUT_ROLES if READER[role] == name]

        async def run(stream: Any) -> None:
            async for event in stream.events():
                headers = _headers(event)
                message = event.message
                role = role_of.get(message.topic)
                # Holes in an input partition are reported as the route's, as before the stages read them.
                if not await in_order(order, name if role is None else "route", message):
                    continue
                if role is not None:
                    await route(message, role, event.key, event.value, headers)
                    continue
                # Where the input record came from; for a record written to this topic directly, itself.
                source = headers.get(H_SOURCE, b"").decode("utf-8", "replace") or (
                    f"{message.topic}:{message.partition}:{message.offset}"
                )
                try:
                    await runner.handle(message.partition, event.key, event.value, headers, source)
                except Exception as exc:  # a defect or a forged internal record: keep it and go on
                    # The stack, but not the exception's message: it could quote record values.
                    log.error(
                        "processing failed (%s) in the %s stage for a record from %s\n%s",
                        type(exc).__name__,
                        name,
                        source or "an internal topic",
                        "".join(traceback.format_tb(exc.__traceback__)),
                    )
                    await dead_letter(event.key, event.value, source, PROCESSING_ERROR, type(exc).__name__)

        run.__name__ = f"{name}_stage"
        channel = app.topic(*read, own, key_type=bytes, value_type=bytes)
        app.agent(channel, name=f"{name}-stage")(run)

    for stage_name in STAGE_TOPICS:
        stage_agent(stage_name)

    @app.on_rebalance_complete.connect
    async def on_rebalance(sender: Any, **kwargs: Any) -> None:
        for partition_states in states.values():
            partition_states.reset()
        for order in orders.values():
            order.reset()
        crime_progress.reset()

    app.cdi_states = states  # type: ignore[attr-defined]
    return app
