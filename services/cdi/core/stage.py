"""A stage: one keyed table of cases, its event-time clock and agenda, and the logic that applies
events to cases and acts when due times pass.

Three stages make up the monitor (see ``pipeline``): incidents (keyed by incident), crimes
(keyed by crime) and offenders (keyed by offender). Each runs per partition in the stream
processor, and once offline. ``process`` is the only way events enter; every call returns a
``Step`` with the findings, observations and forwarded records it produced.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from cdi.core.agenda import Agenda
from cdi.core.clock import EventClock
from cdi.core.events import Event, HistoryEnded
from cdi.core.observations import Observation

OFFLINE_ORIGIN = "history"

ACCEPTED = None
LATE = "late"
DUPLICATE = "duplicate"
# The event would take its case past a size bound ([limits] in the rules file): too many events
# applied to one case, or too many prior disposals held from history snapshots. Not applied; the
# shell dead-letters it with this reason. Which event of a flood for one key meets the bound
# first depends on arrival order: the bound is a guard against abnormal input, far above what
# a real case needs, not part of any rule.
CASE_TOO_LARGE = "case_too_large"
# Dead-letter detail for it: the bound, never a value.
CASE_TOO_LARGE_DETAIL = "the event would take its case past a size bound ([limits] in the rules file)"

PURGE = 99  # agenda kind shared by every stage: the end of a case's retention

# The stages, by name (see cdi.core.pipeline); a Forward names the stage it is for.
INCIDENTS, CRIMES, OFFENDERS = "incidents", "crimes", "offenders"


@dataclass(frozen=True, slots=True)
class Forward:
    """A record for another stage: ``stage`` names it, ``key`` partitions it there."""

    stage: str
    key: str
    event: Event


@dataclass(slots=True)
class Step:
    findings: list[Event] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    forwards: list[Forward] = field(default_factory=list)
    rejected: str | None = ACCEPTED  # LATE, DUPLICATE or CASE_TOO_LARGE when the event was not applied
    # Set by OfflineRun for an input event: each stage it reached, in ROUTES order, with why that
    # stage did not apply it (ACCEPTED: applied). A stage's own step leaves it empty.
    outcomes: tuple[tuple[str, str | None], ...] = ()


class CaseLogic(Protocol):
    def key(self, event: Event) -> str | None: ...
    def new_case(self, key: str, event: Event) -> Any: ...
    def load(self, data: dict[str, Any]) -> Any: ...
    def apply(self, case: Any, event: Event, out: Step) -> None: ...
    def due(self, case: Any) -> tuple[tuple[int, int], ...]: ...
    def fire(self, case: Any, at: int, kind: int, out: Step) -> None: ...
    def is_open(self, case: Any) -> bool: ...
    def expires_at(self, case: Any) -> int: ...
    def fits(self, case: Any, event: Event, watermark: int) -> bool: ...  # within the logic's size bound


@dataclass(slots=True)
class PartitionState:
    cases: MutableMapping[str, Any]
    clock: EventClock
    agenda: Agenda = field(default_factory=Agenda)
    awaiting: Counter[str] = field(default_factory=Counter)  # open cases by division


class Stage:
    def __init__(self, logic: CaseLogic, lateness_ms: int, max_case_events: int = 500) -> None:
        self.logic = logic
        self.lateness_ms = lateness_ms
        self.max_case_events = max_case_events

    def new_state(
        self, origins: tuple[str, ...] = (OFFLINE_ORIGIN,), cases: MutableMapping[str, Any] | None = None
    ) -> PartitionState:
        state = PartitionState(cases={} if cases is None else cases, clock=EventClock(self.lateness_ms, origins))
        if state.cases:
            self.rebuild(state)
        return state

    def rebuild(self, state: PartitionState) -> None:
        """Derive the agenda and open-case counts from the case records (after recovery)."""
        state.agenda = Agenda()
        state.awaiting = Counter()
        for key, case in state.cases.items():
            self._schedule(state, key, case, (), self.logic.expires_at(case))
            if self.logic.is_open(case):
                state.awaiting[case.division] += 1

    # -- input -------------------------------------------------------------------------------

    def process(self, state: PartitionState, event: Event, origin: str = OFFLINE_ORIGIN) -> Step:
        if isinstance(event.payload, HistoryEnded):
            return self.end(state, origin, event.at)
        logic, clock, at = self.logic, state.clock, event.at
        key = logic.key(event)
        if clock.is_late(at):
            # An event already applied is a duplicate even behind the watermark (a replay run
            # again), as long as its case is retained; only an unseen one is late.
            case = state.cases.get(key) if key is not None else None
            seen = case is not None and event.event_id in case.seen
            return Step(rejected=DUPLICATE if seen else LATE)
        if key is None:  # nothing this stage keeps
            clock.observe(origin, at)
            return self._advance(state, Step())
        case = stale = state.cases.get(key)
        old_expiry = None
        if case is not None:
            old_expiry = logic.expires_at(case)
            if at > old_expiry:
                # Beyond the old case's retention: a fresh case, whether or not the old one was purged yet.
                case = None
            else:
                stale = None
        if case is not None and event.event_id in case.seen:
            return Step(rejected=DUPLICATE)
        new = case is None
        if case is None:
            case, old_expiry = logic.new_case(key, event), None
        clock.observe(origin, at)
        if len(case.seen) >= self.max_case_events or not logic.fits(case, event, clock.watermark):
            # Not applied. Its input did get this far, so the clock moves as the stream's progress
            # markers would move it; what that passes fires on the next call.
            return Step(rejected=CASE_TOO_LARGE)
        if stale is not None:
            self._uncount(state, stale)
        step = Step()
        was_open = not new and logic.is_open(case)
        old_division = case.division
        old_due = () if new else logic.due(case)
        case.seen.add(event.event_id)
        logic.apply(case, event, step)
        state.cases[key] = case
        if was_open:
            state.awaiting[old_division] -= 1
        if logic.is_open(case):
            state.awaiting[case.division] += 1
        expiry = logic.expires_at(case)
        self._schedule(state, key, case, old_due, expiry if expiry != old_expiry else None)
        return self._advance(state, step)

    def progress(self, state: PartitionState, origin: str, low: int) -> Step:
        """An origin reports it will send nothing before ``low``."""
        state.clock.progress(origin, low)
        return self._advance(state, Step())

    def end(self, state: PartitionState, origin: str, through: int) -> Step:
        """A bounded history on ``origin`` ended at ``through``: close every deadline up to it."""
        state.clock.end(origin, through)
        return self._advance(state, Step())

    def follow_wall_clock(self, state: PartitionState, now_ms: int) -> Step:
        """Live mode: a quiet input must not freeze deadlines."""
        state.clock.follow_wall_clock(now_ms)
        return self._advance(state, Step())

    # -- deadlines ---------------------------------------------------------------------------

    def _schedule(
        self, state: PartitionState, key: str, case: Any, old: tuple[tuple[int, int], ...], expiry: int | None
    ) -> None:
        """Add the case's due times not already on the agenda, and ``expiry`` (when it moved)."""
        agenda = state.agenda
        for at, kind in self.logic.due(case):
            if (at, kind) not in old:
                agenda.add(at, kind, key)
        if expiry is not None:
            agenda.add(expiry, PURGE, key)

    def _uncount(self, state: PartitionState, case: Any) -> None:
        if self.logic.is_open(case):
            state.awaiting[case.division] -= 1

    def _advance(self, state: PartitionState, step: Step) -> Step:
        watermark = state.clock.watermark
        agenda = state.agenda
        if not agenda.has_due(watermark):
            return step
        logic, cases = self.logic, state.cases
        for at, kind, key in agenda.pop_due(watermark):
            case = cases.get(key)
            if case is None:
                continue
            if kind == PURGE:
                if at == logic.expires_at(case):
                    self._uncount(state, case)
                    del cases[key]
                continue
            before = logic.due(case)
            if (at, kind) not in before:
                continue  # stale entry: the case changed since it was scheduled
            was_open = logic.is_open(case)
            old_expiry = logic.expires_at(case)
            logic.fire(case, at, kind, step)
            cases[key] = case
            now_open = logic.is_open(case)
            if was_open != now_open:
                state.awaiting[case.division] += 1 if now_open else -1
            expiry = logic.expires_at(case)
            still = tuple(d for d in before if d != (at, kind))
            self._schedule(state, key, case, still, expiry if expiry != old_expiry else None)
        return step

    @staticmethod
    def open_cases(state: PartitionState) -> dict[str, int]:
        return {division: n for division, n in state.awaiting.items() if n}
