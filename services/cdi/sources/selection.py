"""Which events of a history a replay or backtest takes: an event-time range, divisions and types.

Records that cannot be read are never filtered out: they pass through so that the monitor
dead-letters them with their reason, as it would in live operation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from cdi.core.times import format_time, parse_time


@dataclass(frozen=True, slots=True)
class Selection:
    start_ms: int | None = None  # inclusive event time
    end_ms: int | None = None  # exclusive event time
    divisions: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()

    @property
    def everything(self) -> bool:
        return self.start_ms is None and self.end_ms is None and not self.divisions and not self.types

    def takes(self, raw: bytes) -> bool:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return True
        return self.takes_record(record)

    def takes_record(self, record: Any) -> bool:
        try:
            at = parse_time(record["occurred_at"])
            division = record["division"]
            kind = record["type"]
        except (KeyError, TypeError, ValueError, AttributeError):
            return True
        if kind == "history.ended":  # a bounded history's own end marker is replaced by the replay's
            return False
        if self.start_ms is not None and at < self.start_ms:
            return False
        if self.end_ms is not None and at >= self.end_ms:
            return False
        if self.divisions and division not in self.divisions:
            return False
        return not (self.types and kind not in self.types)

    def apply(self, lines: Iterable[tuple[str, bytes]]) -> Iterator[tuple[str, bytes]]:
        return (item for item in lines if self.takes(item[1]))

    def describe(self) -> str:
        parts = []
        if self.start_ms is not None or self.end_ms is not None:
            start = format_time(self.start_ms) if self.start_ms is not None else "the start"
            end = format_time(self.end_ms) if self.end_ms is not None else "the end"
            parts.append(f"event time from {start} to {end}")
        if self.divisions:
            parts.append("divisions " + ", ".join(sorted(self.divisions)))
        if self.types:
            parts.append("types " + ", ".join(sorted(self.types)))
        return "; ".join(parts) or "every event"
