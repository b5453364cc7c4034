"""The route: what the worker does with each record of the input topics, apart from Faust.

Every record is validated against its contract, its event time bounded, and then either
dead-lettered with its reason or sent on to each stage that reads it, keyed as that stage keys
its cases (``cdi.core.topology.targets``). Where the stage reading the record holds that case
itself, it applies the record at once instead of sending it round (cdi.stream.direct_reads).
Each input partition's progress (its low mark) is kept in an ``InputProgress`` and broadcast by
the worker's timer, after everything before it was applied or sent; a replay's end marker is
broadcast at once. The Faust agents (``cdi.stream.app``) only feed it records.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from cdi.contracts import MALFORMED, Contracts, InvalidEvent
from cdi.core.admission import Admission
from cdi.core.events import HistoryEnded
from cdi.core.pipeline import REJECTION_DETAIL, WRONG_TOPIC
from cdi.core.stage import Stage
from cdi.core.topology import READER, TOPIC_FOR_TYPE, InputProgress, origin_name, targets
from cdi.stream.dead_letters import H_SOURCE, DeadLetterSend
from cdi.stream.direct_reads import DirectReads
from cdi.stream.end_markers import EndMarkerPolicy
from cdi.stream.metrics import Metrics
from cdi.stream.stage_runner import H_ORIGIN, MARKER_REFUSED, StageRunner

log = logging.getLogger("cdi.worker")

TOO_LARGE = "too_large"

Headers = list[tuple[str, bytes]]


class RouteWire(DeadLetterSend, Protocol):
    """What the route sends: an event to a stage's topic (returns once the producer has it), a
    progress report to every partition of the stages it concerns, a dead letter as
    ``DeadLetterSend``."""

    async def to_stage(self, stage: str, key: bytes, value: bytes, headers: Headers) -> None: ...
    async def progress(self, report: dict[str, int]) -> None: ...


@dataclass
class InputRoute:
    contracts: Contracts
    stages: dict[str, Stage]
    admission: Admission
    end_markers: EndMarkerPolicy
    progress: InputProgress
    metrics: Metrics
    wire: RouteWire
    max_record_bytes: int
    now_ms: Callable[[], int] | None = None  # live mode: the wall clock bounds event times too
    # Stages that apply what they read themselves, where it is theirs (cdi.stream.direct_reads).
    direct: DirectReads | None = None
    runners: Mapping[str, StageRunner] = field(default_factory=dict)

    async def admit(
        self,
        role: str,
        partition: int,
        source: str,
        key: bytes | None,
        raw: bytes | None,
        headers: dict[str, bytes],
        published_at: float,
    ) -> None:
        """One input record from ``partition`` of the ``role`` input topic."""
        metrics = self.metrics
        origin = origin_name(role, partition)
        metrics.lag.observe(max(time.time() - published_at, 0.0))
        metrics.last_processed.set(time.time())
        if raw is None or len(raw) > self.max_record_bytes:
            size = "no value" if raw is None else f"{len(raw)} bytes, above CDI_MAX_RECORD_BYTES"
            await self._refuse(key, raw, origin, source, TOO_LARGE if raw else MALFORMED, f"record has {size}")
            return
        try:
            parsed = self.contracts.decode(raw)
        except InvalidEvent as exc:
            await self._refuse(key, raw, origin, source, exc.reason, exc.detail, exc.path)
            return
        marker = isinstance(parsed.payload, HistoryEnded)
        if marker:
            refused = self.end_markers.refusal(raw, headers)
            if refused is not None:
                await self._refuse(key, raw, origin, source, MARKER_REFUSED, refused)
                return
        elif TOPIC_FOR_TYPE.get(parsed.type) != role:
            detail = f"a {parsed.type} event does not belong on {role}"
            await self._refuse(key, raw, origin, source, WRONG_TOPIC, detail)
            return
        # Bounded before it touches any clock: one record dated 9999 must not move a watermark.
        rejected = self.admission.judge(origin, parsed.at, self.now_ms() if self.now_ms else None)
        if rejected is not None:
            await self._refuse(key, raw, origin, source, rejected, REJECTION_DETAIL[rejected], "/occurred_at")
            return
        direct = self.direct
        # The reader's own partition follows this input partition from its records (direct reads).
        own = self.runners[READER[role]] if direct is not None and direct.reads_itself(role) else None
        if marker:  # a control marker, not counted as an event
            report = self.progress.ended(origin, parsed.at)
            if own is not None:
                await own.advance(partition, origin, report[origin])
            await self.wire.progress(report)
            return
        forwarded = [(H_ORIGIN, origin.encode()), (H_SOURCE, source.encode())]
        applied = False
        for stage, stage_key in targets(self.stages, parsed):
            encoded = stage_key.encode()
            if direct is not None and direct.applies(stage, role, partition, encoded):
                await self.runners[stage].apply(partition, parsed, origin, encoded, raw, source)
                applied = True
            else:
                await self.wire.to_stage(stage, encoded, raw, forwarded)
        if own is not None and not applied:  # applied, the record moved the clock itself
            await own.advance(partition, origin, parsed.at - self.progress.lateness_ms)
        self.progress.saw(origin, parsed.at)

    async def _refuse(
        self,
        key: bytes | None,
        raw: bytes | None,
        origin: str,
        source: str,
        reason: str,
        detail: str,
        path: str = "",
    ) -> None:
        self.metrics.invalid.labels(reason).inc()
        log.warning("dead-lettered a record from %s: %s at %s", origin, reason, path or "/")
        await self.wire.dead_letter(key, raw, source, reason, detail)
