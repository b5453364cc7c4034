"""The event-time clock: a watermark over several ordered inputs ("origins").

Each origin is one ordered input, such as one partition of an input topic. Its low mark is
the time before which it will send nothing more: its latest event time minus the allowed
lateness, or, after a ``history.ended`` marker, just past the marker's time. The watermark
is the minimum over all expected origins, so a fast input cannot make a slow input's events
late; that is what keeps findings independent of speed, batching and partition count.

Live mode adds a wall-clock floor (now minus the allowed lateness) so that a quiet input does
not freeze deadlines; replays never use it, because wall time would make them depend on speed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NEVER = -(2**62)  # before any event time


@dataclass(slots=True)
class EventClock:
    lateness_ms: int
    origins: tuple[str, ...]
    lows: dict[str, int] = field(default_factory=dict)
    max_seen: int = NEVER
    wall_floor: int = NEVER
    watermark: int = NEVER  # derived: kept current by every change, read on every event

    def _recompute(self) -> None:
        lows, origins = self.lows, self.origins
        # Most clocks have one origin (every offline stage but the offender stage's two).
        if len(origins) == 1:
            low = lows.get(origins[0], NEVER)
        else:
            low = min([lows.get(o, NEVER) for o in origins], default=NEVER)
        self.watermark = max(low, self.wall_floor)

    def is_late(self, at: int) -> bool:
        return at < self.watermark

    def observe(self, origin: str, at: int) -> None:
        """Record an accepted event from ``origin`` (check ``is_late`` first)."""
        low = at - self.lateness_ms
        if low > self.lows.get(origin, NEVER):
            self.lows[origin] = low
            self._recompute()
        if at > self.max_seen:
            self.max_seen = at

    def progress(self, origin: str, low: int) -> None:
        """Raise an origin's low mark from a progress report (never lowers it)."""
        if low > self.lows.get(origin, NEVER):
            self.lows[origin] = low
            self._recompute()

    def end(self, origin: str, through: int) -> None:
        """``origin`` will send nothing at or before ``through``."""
        self.progress(origin, through + 1)
        if through > self.max_seen:
            self.max_seen = through

    def follow_wall_clock(self, now_ms: int) -> None:
        floor = now_ms - self.lateness_ms
        if floor > self.wall_floor:
            self.wall_floor = floor
            self._recompute()

    def to_dict(self) -> dict[str, Any]:
        return {"lows": self.lows, "max_seen": self.max_seen, "wall_floor": self.wall_floor}

    def restore(self, data: dict[str, Any]) -> None:
        for origin, low in data.get("lows", {}).items():
            self.progress(origin, low)
        self.max_seen = max(self.max_seen, data.get("max_seen", NEVER))
        self.wall_floor = max(self.wall_floor, data.get("wall_floor", NEVER))
        self._recompute()
