"""The synthetic force: its divisions, daily volumes and when in the day reports come in."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate

from cdi.core.times import MS_PER_DAY, MS_PER_HOUR
from cdi.simulation.calibration import Calibration
from cdi.simulation.options import SimulationOptions


@dataclass(frozen=True)
class Force:
    code: str
    divisions: tuple[str, ...]
    division_cum_weights: tuple[float, ...]
    hour_cum_weights: tuple[float, ...]
    weekday_factors: tuple[float, ...]
    incidents_per_day: int

    @classmethod
    def build(cls, options: SimulationOptions, calibration: Calibration) -> Force:
        known = calibration.divisions
        # Divisions the calibration does not name get the average calibrated weight.
        fallback = sum(known.values()) / len(known)
        weights = [known.get(name, fallback) for name in options.divisions]
        factors = calibration.assumptions.weekday_factors
        mean = sum(factors) / len(factors)
        return cls(
            code=options.force,
            divisions=options.divisions,
            division_cum_weights=tuple(accumulate(weights)),
            hour_cum_weights=tuple(accumulate(calibration.report_hours)),
            weekday_factors=tuple(f / mean for f in factors),
            incidents_per_day=options.incidents_per_day,
        )

    def division(self, rng: random.Random) -> str:
        return rng.choices(self.divisions, cum_weights=self.division_cum_weights)[0]

    def daily_volume(self, day_start_ms: int) -> int:
        weekday = datetime.fromtimestamp(day_start_ms / 1000, tz=UTC).weekday()
        return round(self.incidents_per_day * self.weekday_factors[weekday])

    def report_time(self, rng: random.Random, day_start_ms: int) -> int:
        """A whole-second time in [day_start, day_start + 24 h) following the hourly profile.

        The profile is by clock hour (UTC), so the draw is folded into the 24 h window whatever
        time of day the window starts.
        """
        hour = rng.choices(range(24), cum_weights=self.hour_cum_weights)[0]
        second_of_day = hour * 3600 + rng.randrange(3600)
        window_offset = (second_of_day * 1000 - day_start_ms % MS_PER_DAY) % MS_PER_DAY
        return day_start_ms + window_offset

    def day_starts(self, options: SimulationOptions) -> list[int]:
        return [options.start_ms + day * 24 * MS_PER_HOUR for day in range(options.days)]
