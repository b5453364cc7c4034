"""What a simulation run is asked for: size, seed, failure rates and noise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cdi import rules
from cdi.core.times import MS_PER_HOUR, MS_PER_MINUTE

# The monitor accepts events up to this much event time behind the newest one it has seen (the
# default rules' allowed lateness); the file's disorder must stay strictly inside it or the
# monitor would drop events.
MONITOR_ALLOWED_LATENESS_MINUTES = rules.load().allowed_lateness_ms / MS_PER_MINUTE


@dataclass(frozen=True)
class SimulationOptions:
    days: int = 7
    seed: int = 1
    start: datetime = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
    incidents_per_day: int = 800  # whole force, before the weekday factor
    divisions: tuple[str, ...] = ("NORTH", "EAST", "SOUTH", "WEST")
    force: str = "SYNTH"
    # Shares of crime-indicative incidents:
    not_recorded_rate: float = 0.10  # never crimed, closed to a non-crime/sink code without rationale
    late_rate: float = 0.05  # crimed more than deadline_hours after the report
    explained_rate: float = 0.06  # closed NO_OFFENCE_DISCLOSED with rationale before the deadline
    # Noise:
    duplicate_rate: float = 0.01  # share of events written twice (byte copies)
    disorder_minutes: float = 8.0  # max event-time step back in file order; < monitor lateness
    disorder_share: float = 0.2  # share of events that arrive late (within disorder_minutes)
    deadline_hours: float = 24.0
    # The extract is taken this long after the reporting window closes: follow-ups due later
    # are not in the file yet, so the deadlines of the last reports fall after its last event.
    extract_lag_hours: float = 12.0

    def __post_init__(self) -> None:
        if self.days < 1 or self.incidents_per_day < 1:
            raise ValueError("days and incidents_per_day must be at least 1")
        if self.start.tzinfo is None:
            raise ValueError("start must carry a UTC offset")
        if not self.divisions:
            raise ValueError("at least one division is needed")
        rates = (self.not_recorded_rate, self.late_rate, self.explained_rate)
        if any(not 0 <= rate <= 1 for rate in (*rates, self.duplicate_rate, self.disorder_share)):
            raise ValueError("rates and shares must lie in [0, 1]")
        if sum(rates) > 1:
            raise ValueError("not_recorded_rate + late_rate + explained_rate must not exceed 1")
        if not 0 <= self.disorder_minutes < MONITOR_ALLOWED_LATENESS_MINUTES:
            raise ValueError(
                f"disorder_minutes must lie in [0, {MONITOR_ALLOWED_LATENESS_MINUTES:g}): "
                "the monitor drops events later than its allowed lateness"
            )
        if self.deadline_hours < 1:
            raise ValueError("deadline_hours must be at least 1")
        if self.extract_lag_hours < 0:
            raise ValueError("extract_lag_hours must not be negative")

    @property
    def start_ms(self) -> int:
        return round(self.start.timestamp() * 1000)

    @property
    def window_end_ms(self) -> int:
        """End (exclusive) of the reporting window."""
        return self.start_ms + self.days * 24 * MS_PER_HOUR

    @property
    def deadline_ms(self) -> int:
        return round(self.deadline_hours * MS_PER_HOUR)

    @property
    def extract_at_ms(self) -> int:
        return self.window_end_ms + round(self.extract_lag_hours * MS_PER_HOUR)

    @property
    def disorder_ms(self) -> int:
        return round(self.disorder_minutes * MS_PER_MINUTE)
