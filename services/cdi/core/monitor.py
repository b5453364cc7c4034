"""The monitor: feeds events through the clock, the case table and the rules.

One ``PartitionState`` per independent stream of cases (one per partition in the stream
processor, a single one offline). ``process`` is the only way events enter; every call returns a
``Step`` with the findings and observations it produced.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import MutableMapping
from dataclasses import dataclass, field

from cdi.core.agenda import CHECK, PURGE, RESOLVE, Agenda
from cdi.core.cases import IncidentCase
from cdi.core.clock import EventClock
from cdi.core.events import (
    CrimeRecorded,
    Event,
    HistoryEnded,
    IncidentClosed,
    IncidentOpened,
    IncidentUpdated,
)
from cdi.core.observations import Observation
from cdi.core.recording import Outcome, RecordingRules
from cdi.core.reference import ReferenceData
from cdi.core.rules import RulesConfig

OFFLINE_ORIGIN = "history"

ACCEPTED = None
LATE = "late"
DUPLICATE = "duplicate"


@dataclass(slots=True)
class Step:
    findings: list[Event] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    rejected: str | None = ACCEPTED  # LATE or DUPLICATE when the event was not applied


@dataclass(slots=True)
class PartitionState:
    cases: MutableMapping[str, IncidentCase]
    clock: EventClock
    agenda: Agenda = field(default_factory=Agenda)
    awaiting: Counter[str] = field(default_factory=Counter)  # open cases by division


def case_key(event: Event) -> str | None:
    """The case an event belongs to: its incident, or its own crime when it names no incident."""
    payload = event.payload
    if isinstance(payload, IncidentOpened | IncidentUpdated | IncidentClosed):
        return payload.incident_id
    if isinstance(payload, CrimeRecorded):
        return payload.incident_id if payload.incident_id is not None else f"crime:{payload.crime_id}"
    return None


class Monitor:
    def __init__(self, config: RulesConfig, reference: ReferenceData) -> None:
        self.config = config
        self.recording = RecordingRules(config, reference)
        self.retention = config.case_retention_ms

    def new_state(
        self, origins: tuple[str, ...] = (OFFLINE_ORIGIN,), cases: MutableMapping[str, IncidentCase] | None = None
    ) -> PartitionState:
        state = PartitionState(
            cases={} if cases is None else cases, clock=EventClock(self.config.allowed_lateness_ms, origins)
        )
        if state.cases:
            self.rebuild(state)
        return state

    def rebuild(self, state: PartitionState) -> None:
        """Derive the agenda and open-case counts from the case records (after recovery)."""
        state.agenda = Agenda()
        state.awaiting = Counter()
        for key, case in state.cases.items():
            self._schedule(state, key, case, new=True)
            if self.recording.awaiting(case):
                state.awaiting[case.division] += 1

    # -- input -------------------------------------------------------------------------------

    def process(self, state: PartitionState, event: Event, origin: str = OFFLINE_ORIGIN) -> Step:
        if isinstance(event.payload, HistoryEnded):
            return self.end(state, origin, event.at)
        clock = state.clock
        if clock.is_late(event.at):
            return Step(rejected=LATE)
        key = case_key(event)
        if key is None:  # types the recording rules do not read
            clock.observe(origin, event.at)
            return self._advance(state, Step())
        case = state.cases.get(key)
        if case is not None and event.at > case.first_at + self.retention:
            # Beyond the old case's retention: a fresh case, whether or not the old one was purged yet.
            if self.recording.awaiting(case):
                state.awaiting[case.division] -= 1
            case = None
        if case is not None and event.event_id in case.seen:
            return Step(rejected=DUPLICATE)
        clock.observe(origin, event.at)
        new = case is None
        if case is None:
            case = IncidentCase(key=key, force=event.force, division=event.division, first_at=event.at)
        step = Step()
        was_awaiting = not new and self.recording.awaiting(case)
        old_division = case.division
        old_due = None if new else self._due(case)
        case.seen.add(event.event_id)
        out = Outcome(step.findings, step.observations)
        self.recording.apply(case, event, out)
        state.cases[key] = case
        self._count(state, old_division if was_awaiting else None, case)
        if new or self._due(case) != old_due:
            self._schedule(state, key, case, new=new)
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

    def finish(self, state: PartitionState) -> Step:
        """End of an offline history: every origin has ended at the latest event time."""
        for origin in state.clock.origins:
            state.clock.end(origin, state.clock.max_seen)
        return self._advance(state, Step())

    # -- deadlines ---------------------------------------------------------------------------

    def _due(self, case: IncidentCase) -> tuple[int | None, int | None]:
        return self.recording.check_at(case), self.recording.resolve_at(case)

    def _schedule(self, state: PartitionState, key: str, case: IncidentCase, *, new: bool) -> None:
        check, resolve = self._due(case)
        if check is not None and not case.checked:
            state.agenda.add(check, CHECK, key)
        if resolve is not None:
            state.agenda.add(resolve, RESOLVE, key)
        if new:
            state.agenda.add(case.first_at + self.retention, PURGE, key)

    def _count(self, state: PartitionState, was_division: str | None, case: IncidentCase) -> None:
        if was_division is not None:
            state.awaiting[was_division] -= 1
        if self.recording.awaiting(case):
            state.awaiting[case.division] += 1

    def _advance(self, state: PartitionState, step: Step) -> Step:
        watermark = state.clock.watermark
        cases = state.cases
        for due, kind, key in state.agenda.pop_due(watermark):
            case = cases.get(key)
            if case is None:
                continue
            if kind == CHECK:
                if case.checked or self.recording.check_at(case) != due:
                    continue
                was = self.recording.awaiting(case)
                self.recording.check(case, Outcome(step.findings, step.observations))
                cases[key] = case
                self._count(state, case.division if was else None, case)
                self._schedule(state, key, case, new=False)
            elif kind == RESOLVE:
                if self.recording.resolve_at(case) != due:
                    continue
                self.recording.resolve(case, Outcome(step.findings, step.observations))
                cases[key] = case
            elif kind == PURGE and due == case.first_at + self.retention:
                if self.recording.awaiting(case):
                    state.awaiting[case.division] -= 1
                del cases[key]
        return step

    def open_cases(self, state: PartitionState) -> dict[str, int]:
        return {division: n for division, n in state.awaiting.items() if n}
