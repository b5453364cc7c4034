"""Offender-stage logic, on cases keyed by offender reference: the offender's history (national
record snapshots plus the disposals the monitor itself saw) and the outcome rules that need it
(docs/rules.md): REPEAT_CAUTION_2Y, PND_ELIGIBILITY, CANNABIS_ESCALATION, CR_INELIGIBLE.

A disposal is judged at its own event time, once the watermark has passed it: by then every
snapshot taken at or before it and every earlier disposal has arrived, whatever their order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cdi.core import pending
from cdi.core.disposals import DisposalRules, HistoryItem
from cdi.core.events import DisposalObserved, Event, OffenderHistory
from cdi.core.reference import ReferenceData
from cdi.core.rules import RulesConfig
from cdi.core.stage import Step
from cdi.core.times import MS_PER_DAY, epoch_day

DECIDE = 0


@dataclass(slots=True)
class OffenderCase:
    key: str
    force: str
    division: str
    first_at: int
    last_at: int = 0
    snapshots: list[list[Any]] = field(default_factory=list)  # [at, event_id, [[disposal, group, hocr, day]]]
    observed: list[list[Any]] = field(default_factory=list)  # [at, outcome_event, disposal, group, hocr, day]
    pending: pending.Pending = field(default_factory=list)  # disposals awaiting the watermark
    seen: set[str] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "force": self.force,
            "division": self.division,
            "first_at": self.first_at,
            "last_at": self.last_at,
            "snapshots": self.snapshots,
            "observed": self.observed,
            "pending": self.pending,
            "seen": sorted(self.seen),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OffenderCase:
        case = cls(**{k: v for k, v in data.items() if k != "seen"})
        case.seen = set(data["seen"])
        return case

    def history(self, at: int) -> list[HistoryItem]:
        """What was known of the offender for a decision at ``at``: snapshot disposals dated before
        its day (a later snapshot may already list the decision itself), and disposals the
        monitor saw strictly before it."""
        day = at // MS_PER_DAY
        items = [
            HistoryItem(d, disposal, group, hocr, event_id)
            for taken, event_id, listed in self.snapshots
            if taken <= at
            for disposal, group, hocr, d in listed
            if d < day
        ]
        items += [
            HistoryItem(d, disposal, group, hocr, event_id)
            for when, event_id, disposal, group, hocr, d in self.observed
            if when < at
        ]
        return items


class OffenderLogic:
    def __init__(self, config: RulesConfig, reference: ReferenceData) -> None:
        self.rules = DisposalRules(config, reference)
        self.retention = config.offender_retention_ms

    def key(self, event: Event) -> str | None:
        payload = event.payload
        if isinstance(payload, OffenderHistory):
            return payload.offender_ref
        if isinstance(payload, DisposalObserved):
            return payload.offender_ref or f"crime:{payload.crime_id}"
        return None

    def new_case(self, key: str, event: Event) -> OffenderCase:
        return OffenderCase(key=key, force=event.force, division=event.division, first_at=event.at)

    def load(self, data: dict[str, Any]) -> OffenderCase:
        return OffenderCase.from_dict(data)

    def expires_at(self, case: OffenderCase) -> int:
        # Histories matter for years: keep an offender for the retention after their last event.
        return max(case.first_at, case.last_at) + self.retention

    def is_open(self, case: OffenderCase) -> bool:
        return False

    def due(self, case: OffenderCase) -> tuple[tuple[int, int], ...]:
        return pending.due(case.pending, DECIDE)

    def apply(self, case: OffenderCase, event: Event, out: Step) -> None:
        case.last_at = max(case.last_at, event.at)
        payload = event.payload
        if isinstance(payload, OffenderHistory):
            listed = [[d.disposal, d.offence_group, d.hocr_code, epoch_day(d.disposed_on)] for d in payload.disposals]
            case.snapshots.append([event.at, event.event_id, listed])
            case.snapshots.sort(key=lambda s: (s[0], s[1]))
            return
        pending.hold(case.pending, event)

    def fire(self, case: OffenderCase, at: int, kind: int, out: Step) -> None:
        now, case.pending = pending.release(case.pending, at)
        history = case.history(at)
        for event in now:
            disposal: DisposalObserved = event.payload
            self.rules.judge(event, disposal, history if disposal.offender_ref else [], out)
        for event in now:  # recorded after judging, so same-time disposals never count each other
            disposal = event.payload
            if disposal.offender_ref:
                case.observed.append(
                    [
                        event.at,
                        disposal.outcome_event,
                        disposal.disposal,
                        disposal.offence_group,
                        disposal.hocr_code,
                        event.at // MS_PER_DAY,
                    ]
                )
