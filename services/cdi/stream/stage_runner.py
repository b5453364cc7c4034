"""One stage's handling of the records on its internal topic, apart from Faust.

A record is either a progress marker from the route (or from the crime stage, for the offender
stage) or an event repartitioned by the stage's key. The runner applies it to the partition's
state through the core, counts it, and hands findings and forwarded disposals to the producer
(``StageWire``); the outbox then holds the state back until the broker has them. The Faust
agent (``cdi.stream.app``) only feeds it records; a test feeds it directly (no broker).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from cdi.core.admission import FUTURE
from cdi.core.events import Event
from cdi.core.pipeline import REJECTION_DETAIL, counting_stage, rejection_detail
from cdi.core.stage import CRIMES, DUPLICATE, LATE, Forward, PartitionState, Stage, Step
from cdi.core.topology import CRIME_STAGE, CrimeProgress, origin_name, origin_role
from cdi.stream.dead_letters import DeadLetterSend
from cdi.stream.metrics import Metrics
from cdi.stream.outbox import Outbox
from cdi.stream.partitions import PartitionStates

# Header names on the internal topics (dead letters: cdi.stream.dead_letters).
H_ORIGIN = "cdi-origin"  # input partition an event came from, e.g. "incidents/3"
H_PROGRESS = "cdi-progress"  # JSON {origin: low mark in ms} on progress markers
H_WALL = "cdi-wall"  # wall clock (ms) of the sender, live mode only

MARKER_REFUSED = "marker_refused"


class StageWire(DeadLetterSend, Protocol):
    """What a stage sends. ``finding`` and ``forward`` return once the producer has the record,
    with an awaitable for the broker's acknowledgement; a dead letter as ``DeadLetterSend``."""

    async def finding(self, finding: Event) -> Awaitable[Any]: ...
    async def forward(self, forward: Forward, origin: str) -> Awaitable[Any]: ...


@dataclass
class StageRunner:
    name: str
    stage: Stage
    partitions: PartitionStates
    outbox: Outbox
    metrics: Metrics
    wire: StageWire
    implausible: Callable[[int], bool]  # a time no admitted input could carry
    crime_progress: CrimeProgress | None = None  # the crime stage's watermark, for the offender stage
    on_progress: Callable[[], None] = field(default=lambda: None)  # after a progress marker
    # Input topics whose partition p this stage's partition p follows itself (direct reads):
    # markers about those origins are not heeded there (cdi.stream.direct_reads.own_roles).
    own_roles: frozenset[str] = frozenset()

    async def handle(
        self, partition: int, key: bytes | None, value: bytes | None, headers: dict[str, bytes], source: str
    ) -> None:
        sends: list[Awaitable[Any]] = []
        await self.outbox.enter()
        try:
            await self._apply(partition, key, value, headers, source, sends)
        finally:
            self.outbox.leave(sends)

    async def _apply(
        self,
        partition: int,
        key: bytes | None,
        value: bytes | None,
        headers: dict[str, bytes],
        source: str,
        sends: list[Awaitable[Any]],
    ) -> None:
        stage, wire = self.stage, self.wire
        state = self.partitions.get(partition)
        if H_PROGRESS in headers:
            progress = {str(origin): int(low) for origin, low in orjson.loads(headers[H_PROGRESS]).items()}
            wall = int(headers[H_WALL]) if H_WALL in headers else None
            # Only the route writes these; anything that could not have come from it moves nothing.
            if any(self.implausible(t) for t in [*progress.values(), *([wall] if wall is not None else [])]):
                await wire.dead_letter(key, value, source, MARKER_REFUSED, "progress beyond the bounds")
                return
            own = self.own_roles
            for origin, low in progress.items():
                if own and origin_role(origin) in own and origin == origin_name(origin_role(origin), partition):
                    continue
                await self._deliver(stage.progress(state, origin, low), partition, state, sends)
            if wall is not None:
                await self._deliver(stage.follow_wall_clock(state, wall), partition, state, sends)
            self.partitions.note_clock(partition)
            self.on_progress()
            return
        parsed = Event.from_dict(orjson.loads(value or b""))  # validated by the route
        await self._event(partition, parsed, headers[H_ORIGIN].decode(), key, value, source, sends)

    async def apply(self, partition: int, parsed: Event, origin: str, key: bytes, value: bytes, source: str) -> None:
        """An input event the route has admitted, applied without the hop through this stage's
        topic (cdi.stream.direct_reads): as if it had come back on ``partition`` of it."""
        sends: list[Awaitable[Any]] = []
        await self.outbox.enter()
        try:
            await self._event(partition, parsed, origin, key, value, source, sends)
        finally:
            self.outbox.leave(sends)

    async def advance(self, partition: int, origin: str, low: int) -> None:
        """Input ``origin``, read by this stage on ``partition``, sends nothing before ``low``
        from now on: what a progress marker would say, learnt from the record itself."""
        sends: list[Awaitable[Any]] = []
        await self.outbox.enter()
        try:
            state = self.partitions.get(partition)
            await self._deliver(self.stage.progress(state, origin, low), partition, state, sends)
            self.partitions.note_clock(partition)
        finally:
            self.outbox.leave(sends)

    async def _event(
        self,
        partition: int,
        parsed: Event,
        origin: str,
        key: bytes | None,
        value: bytes | None,
        source: str,
        sends: list[Awaitable[Any]],
    ) -> None:
        stage, metrics, wire = self.stage, self.metrics, self.wire
        state = self.partitions.get(partition)
        if self.implausible(parsed.at):  # bounded by the route; this one was written past it
            await wire.dead_letter(key, value, source, FUTURE, REJECTION_DETAIL[FUTURE])
            return
        # Count each input event in one stage only, and internal records (disposals) not at all.
        counted = counting_stage(parsed.type) == self.name
        step = stage.process(state, parsed, origin)
        self.partitions.note_clock(partition)
        if step.rejected == DUPLICATE:
            if counted:
                metrics.duplicates.labels(parsed.type).inc()
            return
        if step.rejected is not None:  # late, or a case grown past its bound
            if step.rejected == LATE:
                metrics.late.labels(parsed.type).inc()
            # One letter per stage that refuses it: another stage may apply the same record.
            await wire.dead_letter(key, value, source, step.rejected, rejection_detail(step.rejected, self.name))
            return
        if counted:
            metrics.consumed.labels(parsed.type).inc()
        await self._deliver(step, partition, state, sends)

    async def _deliver(self, step: Step, partition: int, state: PartitionState, sends: list[Awaitable[Any]]) -> None:
        """Hand findings and forwarded records to the producer without waiting for the broker:
        ``sends`` collects their acknowledgements, which the outbox awaits before the state
        behind them is written."""
        for finding in step.findings:
            sends.append(await self.wire.finding(finding))
        if step.forwards:
            origin = origin_name(CRIME_STAGE, partition)
            for forward in step.forwards:
                sends.append(await self.wire.forward(forward, origin))
        self.metrics.record_findings(step.findings)
        self.metrics.record_observations(step.observations)
        if self.name == CRIMES and self.crime_progress is not None:
            # Reported after the forwards, on the same producer, so each offender-events
            # partition has the disposals before the progress that passes them.
            self.crime_progress.reached(partition, state.clock.watermark)
