"""Crime-stage logic, on cases keyed by crime: decisions on the record (cancellation,
reclassification) and outcomes, each judged at its own event time against the crime as it stood
then (so a decision and the record it concerns may arrive in either order within the allowed
lateness). Outcomes that are disposals are passed on to the offender stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cdi.core import pending
from cdi.core.decisions import DecisionRules
from cdi.core.events import CrimeCancelled, CrimeReclassified, CrimeRecorded, Event, OutcomeAssigned
from cdi.core.observations import (
    CancellationCounted,
    CrimeCounted,
    OutcomeCounted,
    ReclassificationCounted,
    UnmatchedDecision,
)
from cdi.core.reference import ReferenceData
from cdi.core.rules import RulesConfig
from cdi.core.stage import Step
from cdi.core.times import parse_time, utc_date

DECIDE = 0
CRIME_EVENTS = (CrimeRecorded, CrimeReclassified, CrimeCancelled, OutcomeAssigned)  # what a crime case keeps


@dataclass(frozen=True, slots=True)
class Classification:
    """A crime as it stood at some time: its record, and its code after reclassifications."""

    crime_id: str
    recorded_at: int
    recorded_event: str
    hocr_code: str | None  # None: the source gives no Home Office code
    offence_group: str
    committed_on: str | None = None  # UTC date the offence was committed (offence_from), where known
    drug_class: str | None = None  # A | B | C for drug offences; None: not known

    @property
    def offence_date(self) -> str:
        """The date history windows count back from: when the offence was committed where the
        record says, else the record's own date (docs/rules.md, "Offence date")."""
        return self.committed_on or utc_date(self.recorded_at)


@dataclass(slots=True)
class CrimeCase:
    key: str
    force: str
    division: str
    first_at: int
    last_at: int = 0  # the latest event time applied
    final_at: int | None = None  # the earliest final decision: a final outcome type or a cancellation
    # [at, event_id, hocr_code, offence_group, committed_on, drug_class] of the earliest record
    # (cases saved before rules 2026.12.2 hold the first four only: read as not known)
    recorded: list[Any] | None = None
    reclassified: list[list[Any]] = field(default_factory=list)  # sorted [at, event_id, to_code, to_group]
    pending: pending.Pending = field(default_factory=list)  # decisions awaiting the watermark
    seen: set[str] = field(default_factory=set)
    raised: set[str] = field(default_factory=set)  # rules already raised for this crime

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "force": self.force,
            "division": self.division,
            "first_at": self.first_at,
            "last_at": self.last_at,
            "final_at": self.final_at,
            "recorded": self.recorded,
            "reclassified": self.reclassified,
            "pending": pending.saved(self.pending),
            "seen": sorted(self.seen),
            "raised": sorted(self.raised),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CrimeCase:
        case = cls(**{k: v for k, v in data.items() if k not in {"seen", "raised", "pending"}})
        case.seen, case.raised = set(data["seen"]), set(data["raised"])
        case.pending = pending.restored(data.get("pending", []))
        return case

    def as_of(self, at: int) -> Classification | None:
        """The crime at time ``at``: None if it had no record by then."""
        if self.recorded is None or self.recorded[0] > at:
            return None
        code, group = self.recorded[2], self.recorded[3]
        for when, _, to_code, to_group in self.reclassified:
            if when > at:
                break
            code, group = to_code, to_group or group
        committed_on, drug_class = [*self.recorded[4:6], None, None][:2]
        return Classification(self.key, self.recorded[0], self.recorded[1], code, group, committed_on, drug_class)


class CrimeLogic:
    def __init__(self, config: RulesConfig, reference: ReferenceData) -> None:
        self.reference = reference
        self.rules = DecisionRules(config, reference)
        self.retention = config.case_retention_ms
        self.final_margin = config.crime_final_margin_ms
        self.retention_max = config.crime_retention_max_ms
        self.final_outcomes = config.final_outcome_types

    # -- stage protocol --------------------------------------------------------------------------

    def key(self, event: Event) -> str | None:
        payload = event.payload
        if isinstance(payload, CrimeRecorded) and payload.is_n100:
            return None  # not a crime: counted by no crime measure, and no crime decision applies to it
        if isinstance(payload, CRIME_EVENTS):
            return payload.crime_id
        return None

    def new_case(self, key: str, event: Event) -> CrimeCase:
        return CrimeCase(key=key, force=event.force, division=event.division, first_at=event.at)

    def load(self, data: dict[str, Any]) -> CrimeCase:
        return CrimeCase.from_dict(data)

    def expires_at(self, case: CrimeCase) -> int:
        """Until the final decision plus a margin (docs/architecture.md, "Retention and bounded state"): at least the
        case retention after the first event, at most ``crime_retention_max`` after it. Event
        times only, and the earliest and latest of them, so arrival order does not matter."""
        bound = case.first_at + self.retention_max
        if case.final_at is None:
            return bound
        return min(bound, max(case.first_at + self.retention, case.last_at + self.final_margin))

    def fits(self, case: CrimeCase, event: Event, watermark: int) -> bool:
        return True  # a crime grows by one row per event: the stage's event bound covers it

    def is_open(self, case: CrimeCase) -> bool:
        return False

    def due(self, case: CrimeCase) -> tuple[tuple[int, int], ...]:
        return pending.due(case.pending, DECIDE)

    def apply(self, case: CrimeCase, event: Event, out: Step) -> None:
        payload = event.payload
        case.first_at = min(case.first_at, event.at)
        case.last_at = max(case.last_at, event.at)
        final = isinstance(payload, CrimeCancelled) or (
            isinstance(payload, OutcomeAssigned) and payload.outcome_type in self.final_outcomes
        )
        if final and (case.final_at is None or event.at < case.final_at):
            case.final_at = event.at
        if isinstance(payload, CrimeRecorded):
            # The earliest record counts, whatever order records arrive in.
            if case.recorded is None or [event.at, event.event_id] < case.recorded[:2]:
                case.recorded = [
                    event.at,
                    event.event_id,
                    payload.hocr_code,
                    payload.offence_group,
                    commission_date(payload, event.at),
                    payload.drug_class,
                ]
                case.division, case.force = event.division, event.force
            rape = self.reference.policy(payload.hocr_code).rape
            out.observations.append(CrimeCounted(event.division, payload.offence_group, rape))
            return
        if isinstance(payload, CrimeReclassified):
            offence = self.reference.offence_codes.get(payload.to_code)
            case.reclassified.append([event.at, event.event_id, payload.to_code, offence and offence.offence_group])
            case.reclassified.sort(key=lambda r: (r[0], r[1]))
        pending.hold(case.pending, event)

    def fire(self, case: CrimeCase, at: int, kind: int, out: Step) -> None:
        """Judge every decision taken at ``at``, in event-id order."""
        now, case.pending = pending.release(case.pending, at)
        for event in now:
            self._judge(case, event, out)

    # -- judging ----------------------------------------------------------------------------------

    def _judge(self, case: CrimeCase, event: Event, out: Step) -> None:
        crime = case.as_of(event.at)
        payload = event.payload
        if crime is None:
            out.observations.append(UnmatchedDecision(event.type))
        if isinstance(payload, OutcomeAssigned):
            group = crime.offence_group if crime else "unknown"
            out.observations.append(OutcomeCounted(event.division, group, payload.outcome_type))
            if crime is not None:
                self.rules.outcome(case, crime, event, payload, out)
        elif isinstance(payload, CrimeCancelled):
            group = crime.offence_group if crime else "unknown"
            rape = crime is not None and self.reference.policy(crime.hocr_code).rape
            out.observations.append(CancellationCounted(event.division, group, payload.cancellation_code, rape))
            self.rules.cancellation(case, crime, event, payload, out)
        elif isinstance(payload, CrimeReclassified):
            before = self.reference.offence_codes.get(payload.from_code)
            after = self.reference.offence_codes.get(payload.to_code)
            if before is None or after is None:
                direction = "unknown"
            else:
                direction = (
                    "down"
                    if after.seriousness < before.seriousness
                    else "up"
                    if after.seriousness > before.seriousness
                    else "level"
                )
            group = before.offence_group if before else (crime.offence_group if crime else "unknown")
            out.observations.append(ReclassificationCounted(event.division, group, direction))
            self.rules.reclassification(case, crime, event, payload, out)


def commission_date(crime: CrimeRecorded, recorded_at: int) -> str | None:
    """The UTC date the offence was committed: the start of ``offence_from``, where the record
    gives one no later than the record itself (a date of commission after the record cannot be
    right, so the record's date stands in)."""
    if crime.offence_from is None:
        return None
    start = parse_time(crime.offence_from)
    return utc_date(start) if start <= recorded_at else None
