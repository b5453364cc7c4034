"""Offender-stage logic, on cases keyed by offender reference: the offender's history (national
record snapshots plus the disposals the monitor itself saw) and the outcome rules that need it
(docs/rules.md): REPEAT_CAUTION_2Y, PND_ELIGIBILITY, CANNABIS_ESCALATION, CR_INELIGIBLE.

A disposal is judged at its own event time, once the watermark has passed it: by then every
snapshot taken at or before it and every earlier disposal has arrived, whatever their order.

A snapshot is the offender's whole national record as of its time, so the latest one taken at or
before a decision replaces every earlier one. Older snapshots are kept only while a decision not
yet judged could still need them: once the watermark passes a snapshot's time (a due time of its
own, ``PRUNE``), every snapshot before it is dropped; any decision still to come is later than the
watermark, hence than that snapshot. Pruning happens only at event times the agenda fires, so the
state and the findings do not depend on arrival order. Disposals older than any rule could ask
about (the longest history window plus the oldest offence a decision can still concern) are
dropped too: from a snapshot when it arrives, from the disposals the monitor saw when it fires.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cdi.core import pending
from cdi.core.disposals import DisposalRules, HistoryItem
from cdi.core.events import DisposalObserved, Event, OffenderHistory
from cdi.core.reference import ReferenceData
from cdi.core.rules import CANNABIS_ESCALATION, CR_INELIGIBLE, PND_ELIGIBILITY, REPEAT_CAUTION, RulesConfig
from cdi.core.stage import Step
from cdi.core.times import MS_PER_DAY, epoch_day

DECIDE = 0
PRUNE = 1  # the watermark passed a snapshot's time: the snapshots before it are no longer needed

ANONYMOUS = "crime:"  # key prefix of a disposal with no offender: no history, nothing to keep for long

# History windows of the rules, in days (docs/rules.md); the longest bounds what is kept.
WINDOWS = {
    REPEAT_CAUTION: ("window_days",),
    PND_ELIGIBILITY: ("window_days", "cannabis_window_days", "significant_history_days", "first_offence_window_days"),
    CANNABIS_ESCALATION: ("window_days",),
    CR_INELIGIBLE: ("window_days", "similar_cr_window_days"),
}
# (rule, window parameter, disposal kinds it counts) for the windows that may be left out.
TIMELESS_WHEN_UNBOUNDED = (
    (CANNABIS_ESCALATION, "window_days", ("cannabis_warning", "penalty_notice")),
    (PND_ELIGIBILITY, "cannabis_window_days", ("cannabis_warning",)),
)


@dataclass(slots=True)
class OffenderCase:
    key: str
    force: str
    division: str
    first_at: int
    last_at: int = 0
    # [at, event_id, [[disposal, group, hocr, day]]], by (at, event_id): the latest taken at or
    # before the watermark and any newer ones
    snapshots: list[list[Any]] = field(default_factory=list)
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
            "pending": pending.saved(self.pending),
            "seen": sorted(self.seen),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OffenderCase:
        case = cls(**{k: v for k, v in data.items() if k not in {"seen", "pending"}})
        case.seen = set(data["seen"])
        case.pending = pending.restored(data.get("pending", []))
        return case

    def snapshot(self, at: int) -> list[Any] | None:
        """The latest snapshot taken at or before ``at`` (ties: the greater event id)."""
        latest = None
        for snapshot in self.snapshots:
            if snapshot[0] > at:
                break
            latest = snapshot
        return latest

    def history(self, at: int) -> list[HistoryItem]:
        """What was known of the offender for a decision at ``at``: the disposals the latest
        snapshot at or before it lists, dated before its day (a snapshot taken later the same day
        may already list the decision itself), and the disposals the monitor saw strictly before
        it. A disposal in both (one the monitor saw by the snapshot's time, listed on the same day
        as the same kind) counts once, as the monitor's own."""
        day = at // MS_PER_DAY
        seen = [row for row in self.observed if row[0] < at]
        items = [HistoryItem(d, disposal, group, hocr, event_id) for _, event_id, disposal, group, hocr, d in seen]
        snapshot = self.snapshot(at)
        if snapshot is not None:
            taken, event_id, listed = snapshot
            on_record = Counter((row[2], row[5]) for row in seen if row[0] <= taken)
            for disposal, group, hocr, d in listed:
                if d >= day:
                    continue
                if on_record[(disposal, d)]:
                    on_record[(disposal, d)] -= 1
                    continue
                items.append(HistoryItem(d, disposal, group, hocr, event_id))
        return items

    def prune(
        self, at: int, horizon_days: int, timeless: frozenset[str] = frozenset(), groups: frozenset[str] = frozenset()
    ) -> None:
        """The watermark has passed ``at``: keep the latest snapshot at or before it and newer
        ones, and the monitor's disposals no decision after ``at`` could count (disposals of a
        ``timeless`` kind or of an offence group in ``groups`` are counted whatever their age)."""
        latest = 0
        for n, snapshot in enumerate(self.snapshots):
            if snapshot[0] > at:
                break
            latest = n
        del self.snapshots[:latest]
        floor = at // MS_PER_DAY - horizon_days
        if self.observed and self.observed[0][5] < floor:
            self.observed = [row for row in self.observed if row[5] >= floor or row[2] in timeless or row[3] in groups]


class OffenderLogic:
    def __init__(self, config: RulesConfig, reference: ReferenceData) -> None:
        self.rules = DisposalRules(config, reference)
        self.retention = config.offender_retention_ms
        self.anonymous_retention = config.case_retention_ms
        self.max_disposals = config.max_history_disposals
        # A decision reaching this stage concerns a crime recorded at most crime_retention_max
        # before it (older crimes are gone from the crime stage), so no rule looks further back
        # than that plus the longest window; two days cover the allowed lateness and day rounding.
        windows = [config.rule(rule).params.get(name) for rule, names in WINDOWS.items() for name in names]
        longest = max(int(w) for w in windows if w is not None)
        self.horizon_days = longest + config.crime_retention_max_ms // MS_PER_DAY + 2
        # A window left out means any time before: the kinds such a rule counts are kept whatever
        # their age (max_history_disposals and offender retention still bound them).
        self.timeless = frozenset(
            kind
            for rule, name, kinds in TIMELESS_WHEN_UNBOUNDED
            if config.rule(rule).params.get(name) is None
            for kind in kinds
        )
        # A retail-theft penalty notice is for a first offence: with no first_offence_window_days,
        # every earlier disposal of the groups it counts (theft) is kept whatever its age.
        pnd = config.rule(PND_ELIGIBILITY).params
        self.timeless_groups = frozenset(
            pnd.get("first_offence_groups", ("theft",)) if pnd.get("first_offence_window_days") is None else ()
        )

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
        # Disposals with no offender have no history: kept only to recognise duplicates.
        retention = self.anonymous_retention if case.key.startswith(ANONYMOUS) else self.retention
        return max(case.first_at, case.last_at) + retention

    def fits(self, case: OffenderCase, event: Event, watermark: int) -> bool:
        """A snapshot fits while the snapshots held once the watermark has done its pruning (the
        latest before the watermark and any newer, still waiting for it) and this one list at
        most ``max_history_disposals`` disposals that rules can use."""
        if not isinstance(event.payload, OffenderHistory):
            return True
        current = 0
        for n, snapshot in enumerate(case.snapshots):
            if snapshot[0] >= watermark:
                break
            current = n
        held = sum(len(snapshot[2]) for snapshot in case.snapshots[current:])
        return held + len(self._listed(event)) <= self.max_disposals

    def _listed(self, event: Event) -> list[list[Any]]:
        """A snapshot's disposals that any decision at or after it could count."""
        floor = event.at // MS_PER_DAY - self.horizon_days
        listed = []
        for d in event.payload.disposals:
            day = epoch_day(d.disposed_on)
            if day >= floor or d.disposal in self.timeless or d.offence_group in self.timeless_groups:
                listed.append([d.disposal, d.offence_group, d.hocr_code, day])
        return listed

    def is_open(self, case: OffenderCase) -> bool:
        return False

    def due(self, case: OffenderCase) -> tuple[tuple[int, int], ...]:
        decisions = pending.due(case.pending, DECIDE)
        if len(case.snapshots) < 2:
            return decisions
        return tuple(sorted({*decisions, *((snapshot[0], PRUNE) for snapshot in case.snapshots[1:])}))

    def apply(self, case: OffenderCase, event: Event, out: Step) -> None:
        case.first_at = min(case.first_at, event.at)  # whatever arrived first
        case.last_at = max(case.last_at, event.at)
        payload = event.payload
        if isinstance(payload, OffenderHistory):
            case.snapshots.append([event.at, event.event_id, self._listed(event)])
            case.snapshots.sort(key=lambda s: (s[0], s[1]))
            return
        pending.hold(case.pending, event)

    def fire(self, case: OffenderCase, at: int, kind: int, out: Step) -> None:
        if kind == DECIDE:
            self._decide(case, at, out)
        case.prune(at, self.horizon_days, self.timeless, self.timeless_groups)

    def _decide(self, case: OffenderCase, at: int, out: Step) -> None:
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
