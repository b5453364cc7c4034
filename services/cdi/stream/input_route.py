"""The route: what the worker does with each record of the input topics, apart from Faust.

Every record is validated against its contract, its event time bounded, and then either
dead-lettered with its reason or sent on to each stage that reads it, keyed as that stage keys
its cases (``cdi.core.topology.targets``). Each input partition's progress (its low mark) is
kept in an ``InputProgress`` and broadcast by the worker's timer; a replay's end marker is
broadcast at once. The Faust agent (``cdi.stream.app``) only feeds it records.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cdi.contracts import MALFORMED, Contracts, InvalidEvent
from cdi.core.admission import Admission
from cdi.core.events import HistoryEnded
from cdi.core.pipeline import REJECTION_DETAIL, WRONG_TOPIC
from cdi.core.stage import Stage
from cdi.core.topology import TOPIC_FOR_TYPE, InputProgress, targets
from cdi.stream.dead_letters import H_SOURCE, DeadLetterSend
from cdi.stream.end_markers import EndMarkerPolicy
from cdi.stream.metrics import Metrics
from cdi.stream.stage_runner import H_ORIGIN, MARKER_REFUSED

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

    async def admit(
        self,
        role: str,
        origin: str,
        source: str,
        key: bytes | None,
        raw: bytes | None,
        headers: dict[str, bytes],
        published_at: float,
    ) -> None:
        """One input record from ``origin`` (a partition of the ``role`` input topic)."""
        metrics = self.metrics
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
        if marker:  # a control marker, not counted as an event
            await self.wire.progress(self.progress.ended(origin, parsed.at))
            return
        forwarded = [(H_ORIGIN, origin.encode()), (H_SOURCE, source.encode())]
        for stage, stage_key in targets(self.stages, parsed):
            await self.wire.to_stage(stage, stage_key.encode(), raw, forwarded)
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
