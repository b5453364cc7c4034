"""Which event times may move a clock: the bounds an event must meet before any watermark sees it.

One event dated in year 9999 on every input partition used to drag every watermark to 9999:
each open deadline fired at once and every good event after it was late. A clock only moves
forward, so the check has to happen before the clock is touched, on the input's own terms:

- ``future``: the event is further ahead than an input can plausibly jump. Live, that is the wall
  clock plus ``max_ahead_of_wall`` (a dispatch system's clock may run a little fast, never days).
  In every mode, the origin's own latest accepted event time plus ``max_ahead_of_origin`` (an
  origin that has sent nothing yet is measured against the furthest any origin has got). Replays
  never read the wall clock, so their findings stay independent of when and how fast they run.
- ``too_old``: live, older than the wall clock minus ``max_age``; in every mode, older than the
  origin's own latest accepted event by more than ``max_age``. Such an event could only reopen
  cases the monitor has already let go.
- Either, whatever the mode: outside the calendar window the configuration allows at all.

A rejected event changes nothing here, so it cannot become the reference for the next one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cdi.core.clock import NEVER
from cdi.core.times import MS_PER_DAY, MS_PER_MINUTE, epoch_day

FUTURE = "future"
TOO_OLD = "too_old"
# Dead-letter detail for each: the bound, never the value (an event time can still identify a record).
ADMISSION_DETAIL = {
    FUTURE: "event time beyond the admission bound (ahead of the wall clock or of its input's progress)",
    TOO_OLD: "event time older than the admission bound (the retention, or the accepted calendar window)",
}


@dataclass(frozen=True, slots=True)
class AdmissionBounds:
    max_ahead_of_wall_ms: int
    max_ahead_of_origin_ms: int
    max_age_ms: int
    earliest_ms: int
    latest_ms: int  # exclusive

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AdmissionBounds:
        return cls(
            max_ahead_of_wall_ms=round(data["max_ahead_of_wall_minutes"] * MS_PER_MINUTE),
            max_ahead_of_origin_ms=round(data["max_ahead_of_origin_days"] * MS_PER_DAY),
            max_age_ms=round(data["max_age_days"] * MS_PER_DAY),
            earliest_ms=epoch_day(data["earliest_date"]) * MS_PER_DAY,
            latest_ms=epoch_day(data["latest_date"]) * MS_PER_DAY,
        )

    def implausible_clock(self, watermark: int, wall_ms: int, live: bool) -> bool:
        """A stored watermark no admitted event could have produced (state saved before these
        bounds existed, or written by something other than the monitor)."""
        if watermark == NEVER:
            return False
        ahead = self.max_ahead_of_wall_ms if live else self.max_ahead_of_origin_ms
        return watermark >= self.latest_ms or watermark > wall_ms + ahead


@dataclass(slots=True)
class Admission:
    """Per-origin record of accepted event times; ``judge`` decides and, on acceptance, records."""

    bounds: AdmissionBounds
    latest: dict[str, int] = field(default_factory=dict)
    furthest: int = NEVER

    def judge(self, origin: str, at: int, wall_ms: int | None = None) -> str | None:
        """None to admit the event (and remember it), else ``FUTURE`` or ``TOO_OLD``."""
        bounds = self.bounds
        if at >= bounds.latest_ms:
            return FUTURE
        if at < bounds.earliest_ms:
            return TOO_OLD
        if wall_ms is not None:
            if at > wall_ms + bounds.max_ahead_of_wall_ms:
                return FUTURE
            if at < wall_ms - bounds.max_age_ms:
                return TOO_OLD
        own = self.latest.get(origin, NEVER)
        reference = own if own != NEVER else self.furthest
        if reference != NEVER and at > reference + bounds.max_ahead_of_origin_ms:
            return FUTURE
        if own != NEVER and at < own - bounds.max_age_ms:
            return TOO_OLD
        if at > own:
            self.latest[origin] = at
        if at > self.furthest:
            self.furthest = at
        return None
