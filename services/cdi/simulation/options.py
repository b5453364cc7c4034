"""What a simulation run is asked for: size, seed, failure rates and noise.

Each ``*_rate`` of a rule is the share of the decisions eligible to break that rule which the
simulator deliberately takes in breach; eligibility is stated next to each rate. Breaches of one
rule may break others too, and the ground truth lists every rule each decision breaks.
"""

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
    # Incident rules (shares of eligible incidents):
    # multi-victim incidents crimed in time with a victim-based offence that get a single record
    one_crime_per_victim_rate: float = 0.2
    # incidents crimed in time that are first closed to a non-crime or sink code without a
    # rationale (never-recorded and some late incidents break CLOSE_CATEGORY_DOWNGRADE anyway)
    close_category_downgrade_rate: float = 0.03
    # Casework: outcomes, cancellations, reclassifications and offender history snapshots.
    outcomes: bool = True
    # adult suspects of an indictable-only offence: adult caution without DPP consent and
    # exceptional circumstances both
    caution_indictable_only_rate: float = 0.3
    # adult suspects of a specified either-way offence (92A, 10D): caution without exceptional
    # circumstances judged at the required rank
    caution_specified_either_way_rate: float = 0.1
    # adult suspects with a similar caution or conviction in the two years before: caution anyway
    repeat_caution_rate: float = 0.04
    # suspects whose offence, value, age or history makes a penalty notice wrong: PND anyway
    pnd_ineligible_rate: float = 0.03
    # cannabis possession suspects under 18 or with a cannabis warning or cannabis PND in the
    # year before: warning or PND anyway
    cannabis_escalation_rate: float = 0.35
    # suspects a community resolution does not suit (see CR_INELIGIBLE): CR anyway
    cr_ineligible_rate: float = 0.03
    # rape and serious violence crimes: unsuccessful outcome (14, 16, 18) within 14 days
    fast_unsuccessful_rate: float = 0.3
    # cancellations: no AVI, wrong authoriser, "no complaint"-type reason or rape not by the FCR
    cancel_without_avi_rate: float = 0.15
    # reclassifications to a less serious code: no reason, or not by a registrar role
    reclass_down_no_reason_rate: float = 0.12
    # The extract is taken this long after the reporting window closes: follow-ups due later
    # are not in the file yet, so the deadlines of the last reports fall after its last event.
    extract_lag_hours: float = 12.0
    # Hidden failure modes (issue 12; rules-review section 5): what real data has and the rules
    # cannot see. Each is a share of the incidents eligible for it, drawn from a generator of its
    # own (cdi.simulation.hidden); at 0 (the defaults) the history is what it was without them.
    # incidents opened under a non-crime code that shows no crime code, whose narrative discloses
    # a crime: most never recorded, some recorded (linked) within the deadline of the disclosure
    narrative_crime_rate: float = 0.0
    # crime-indicative incidents recorded in time whose records carry no link to the incident
    unlinked_record_rate: float = 0.0
    # crime-indicative incidents (opened or re-categorised to a crime code) that would have been
    # recorded in time: never recorded, closed to a non-crime or sink code with a rationale
    wrong_rationale_rate: float = 0.0
    # incidents opened under a crime code: the call is coded with a non-crime code by mistake
    mistyped_code_rate: float = 0.0
    # crime-indicative incidents (opened or re-categorised) recorded late: the crime code is entered
    # only after the deadline, no more than the deadline before the record
    late_code_rate: float = 0.0

    def __post_init__(self) -> None:
        if self.days < 1 or self.incidents_per_day < 1:
            raise ValueError("days and incidents_per_day must be at least 1")
        if self.start.tzinfo is None:
            raise ValueError("start must carry a UTC offset")
        if not self.divisions:
            raise ValueError("at least one division is needed")
        rates = (self.not_recorded_rate, self.late_rate, self.explained_rate)
        if any(
            not 0 <= rate <= 1
            for rate in (*rates, self.duplicate_rate, self.disorder_share, *self.rule_rates().values())
        ):
            raise ValueError("rates and shares must lie in [0, 1]")
        if sum(rates) > 1:
            raise ValueError("not_recorded_rate + late_rate + explained_rate must not exceed 1")
        if any(not 0 <= rate <= 1 for rate in self.hidden_rates().values()):
            raise ValueError("hidden failure rates must lie in [0, 1]")
        if self.unlinked_record_rate + self.wrong_rationale_rate + self.mistyped_code_rate > 1:
            raise ValueError("unlinked_record_rate + wrong_rationale_rate + mistyped_code_rate must not exceed 1")
        if self.late_code_rate + self.mistyped_code_rate > 1:
            raise ValueError("late_code_rate + mistyped_code_rate must not exceed 1")
        if not 0 <= self.disorder_minutes < MONITOR_ALLOWED_LATENESS_MINUTES:
            raise ValueError(
                f"disorder_minutes must lie in [0, {MONITOR_ALLOWED_LATENESS_MINUTES:g}): "
                "the monitor drops events later than its allowed lateness"
            )
        if self.deadline_hours < 1:
            raise ValueError("deadline_hours must be at least 1")
        if self.extract_lag_hours < 0:
            raise ValueError("extract_lag_hours must not be negative")

    def rule_rates(self) -> dict[str, float]:
        """Each rule's deliberate breach rate, by rule name."""
        return {
            "ONE_CRIME_PER_VICTIM": self.one_crime_per_victim_rate,
            "CLOSE_CATEGORY_DOWNGRADE": self.close_category_downgrade_rate,
            "CAUTION_INDICTABLE_ONLY": self.caution_indictable_only_rate,
            "CAUTION_SPECIFIED_EITHER_WAY": self.caution_specified_either_way_rate,
            "REPEAT_CAUTION_2Y": self.repeat_caution_rate,
            "PND_ELIGIBILITY": self.pnd_ineligible_rate,
            "CANNABIS_ESCALATION": self.cannabis_escalation_rate,
            "CR_INELIGIBLE": self.cr_ineligible_rate,
            "FAST_UNSUCCESSFUL_OUTCOME": self.fast_unsuccessful_rate,
            "CANCEL_WITHOUT_AVI": self.cancel_without_avi_rate,
            "RECLASS_DOWN_NO_REASON": self.reclass_down_no_reason_rate,
        }

    def hidden_rates(self) -> dict[str, float]:
        """Each hidden failure mode's rate, by the name the audit truth gives it."""
        return {
            "narrative_only": self.narrative_crime_rate,
            "unlinked_record": self.unlinked_record_rate,
            "wrong_rationale": self.wrong_rationale_rate,
            "mistyped_code": self.mistyped_code_rate,
            "late_code": self.late_code_rate,
        }

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
