"""The monitor's three stages and how events flow between them.

incidents (keyed by incident): incident events and crime records (the recording rules);
crimes (keyed by crime): crime records, reclassifications, cancellations, outcomes;
offenders (keyed by offender): history snapshots, and disposals forwarded by the crime stage.

The stream processor runs each stage per partition. ``OfflineRun`` runs all three in one
process over a history, with one origin per input, exactly as the stream does per partition.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdi.core.admission import ADMISSION_DETAIL, Admission
from cdi.core.clock import NEVER
from cdi.core.crimes import CrimeLogic
from cdi.core.events import Event
from cdi.core.offenders import OffenderLogic
from cdi.core.recording import IncidentLogic
from cdi.core.reference import ReferenceData
from cdi.core.rules import RulesConfig
from cdi.core.stage import (
    CASE_TOO_LARGE,
    CASE_TOO_LARGE_DETAIL,
    CRIMES,
    INCIDENTS,
    LATE,
    OFFENDERS,
    OFFLINE_ORIGIN,
    PartitionState,
    Stage,
    Step,
)

# The offender stage's input from the crime stage, as an origin of its clock.
CRIME_STAGE = "crime-stage"

# Dead-letter detail of every reason an event is not applied (DUPLICATE is counted, not a letter):
# the bound or rule broken, never a value. The backtest and the worker both read it.
REJECTION_DETAIL = {
    **ADMISSION_DETAIL,
    LATE: "event time is before the stage's watermark (beyond the allowed lateness)",
    CASE_TOO_LARGE: CASE_TOO_LARGE_DETAIL,
}

ROUTES: dict[str, tuple[str, ...]] = {
    "incident.opened": (INCIDENTS,),
    "incident.updated": (INCIDENTS,),
    "incident.closed": (INCIDENTS,),
    "crime.recorded": (INCIDENTS, CRIMES),
    "crime.reclassified": (CRIMES,),
    "crime.cancelled": (CRIMES,),
    "outcome.assigned": (CRIMES,),
    "offender.history": (OFFENDERS,),
}


class Monitor:
    """The stages, built once from the rules and reference data."""

    def __init__(self, config: RulesConfig, reference: ReferenceData) -> None:
        self.config = config
        lateness, limit = config.allowed_lateness_ms, config.max_case_events
        self.stages = {
            INCIDENTS: Stage(IncidentLogic(config, reference), lateness, limit),
            CRIMES: Stage(CrimeLogic(config, reference), lateness, limit),
            OFFENDERS: Stage(OffenderLogic(config, reference), lateness, limit),
        }


@dataclass(slots=True)
class OfflineRun:
    """All three stages over one ordered history (one origin per stage input)."""

    monitor: Monitor
    states: dict[str, PartitionState]
    admission: Admission

    @classmethod
    def start(cls, monitor: Monitor) -> OfflineRun:
        stages = monitor.stages
        return cls(
            monitor,
            {
                INCIDENTS: stages[INCIDENTS].new_state(),
                CRIMES: stages[CRIMES].new_state(),
                OFFENDERS: stages[OFFENDERS].new_state((OFFLINE_ORIGIN, CRIME_STAGE)),
            },
            Admission(monitor.config.admission),
        )

    def process(self, event: Event) -> Step:
        routes = ROUTES.get(event.type, ())
        # The history is one origin; the stream judges each input partition the same way (route).
        refused = self.admission.judge(OFFLINE_ORIGIN, event.at) if routes else None
        if refused is not None:
            return Step(rejected=refused)
        merged = Step()
        for n, name in enumerate(routes):
            step = self.monitor.stages[name].process(self.states[name], event)
            if n == 0:
                merged.rejected = step.rejected
            self._take(merged, step)
        return merged

    def finish(self) -> Step:
        """End of the history: every input ends at the latest event time seen."""
        through = max(state.clock.max_seen for state in self.states.values())
        merged = Step()
        for name in (INCIDENTS, CRIMES):
            self._take(merged, self.monitor.stages[name].end(self.states[name], OFFLINE_ORIGIN, through))
        self._take(merged, self.monitor.stages[OFFENDERS].end(self.states[OFFENDERS], OFFLINE_ORIGIN, through))
        return merged

    def _take(self, merged: Step, step: Step) -> None:
        merged.findings += step.findings
        merged.observations += step.observations
        offenders, state = self.monitor.stages[OFFENDERS], self.states[OFFENDERS]
        pending = [*step.forwards]
        while pending:  # the crime stage's disposals first, then its progress
            forward = pending.pop(0)
            done = offenders.process(state, forward.event, CRIME_STAGE)
            merged.findings += done.findings
            merged.observations += done.observations
        watermark = self.states[CRIMES].clock.watermark
        if watermark > state.clock.lows.get(CRIME_STAGE, NEVER):
            done = offenders.progress(state, CRIME_STAGE, watermark)
            merged.findings += done.findings
            merged.observations += done.observations

    def open_cases(self) -> dict[str, int]:
        return Stage.open_cases(self.states[INCIDENTS])
