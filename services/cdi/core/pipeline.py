"""The monitor's three stages and how events flow between them.

incidents (keyed by incident): incident events and crime records (the recording rules);
crimes (keyed by crime): crime records, reclassifications, cancellations, outcomes;
offenders (keyed by offender): history snapshots, and disposals forwarded by the crime stage.

The stream processor runs each stage per partition. ``OfflineRun`` runs all three in one
process over a history, with one origin per input, exactly as the stream does per partition.
Which stage reads what, keyed how, is the topology's (cdi.core.topology).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdi.core.admission import ADMISSION_DETAIL, Admission
from cdi.core.clock import NEVER
from cdi.core.crimes import CrimeLogic
from cdi.core.events import Event, HistoryEnded
from cdi.core.offenders import OffenderLogic
from cdi.core.recording import IncidentLogic
from cdi.core.reference import ReferenceData
from cdi.core.rules import RulesConfig
from cdi.core.stage import (
    CASE_TOO_LARGE,
    CASE_TOO_LARGE_DETAIL,
    CRIMES,
    DUPLICATE,
    INCIDENTS,
    LATE,
    OFFENDERS,
    OFFLINE_ORIGIN,
    PartitionState,
    Stage,
    Step,
)
from cdi.core.topology import CRIME_STAGE, ROUTES, targets

# A valid event of a type no input topic carries (a finding, a disposal.observed, an audit record):
# no stage reads it. The worker's route refuses it on the topic it came in on.
WRONG_TOPIC = "wrong_topic"

# Dead-letter detail of every reason an event is not applied (DUPLICATE is counted, not a letter):
# the bound or rule broken, never a value. The backtest and the worker both read it.
REJECTION_DETAIL = {
    **ADMISSION_DETAIL,
    LATE: "event time is before the stage's watermark (beyond the allowed lateness)",
    CASE_TOO_LARGE: CASE_TOO_LARGE_DETAIL,
    WRONG_TOPIC: "no input topic carries events of this type",
}

# What ``counted`` says of an input event its counting stage applied (DUPLICATE: dropped there as one).
APPLIED = "applied"


def rejection_detail(reason: str, stage: str | None = None) -> str:
    """A dead letter's detail: the bound or rule broken and, when a stage refused the record,
    which one (a record two stages read can be refused by one and applied by the other)."""
    detail = REJECTION_DETAIL[reason]
    return detail if stage is None else f"{stage} stage: {detail}"


def counting_stage(event_type: str) -> str | None:
    """The stage that counts an input event, as applied or as a duplicate: the first that reads
    its type, so that an event two stages read is counted once."""
    routes = ROUTES.get(event_type, ())
    return routes[0] if routes else None


def counted(event_type: str, step: Step) -> str | None:
    """How the stream counts the input event behind ``OfflineRun.process``'s ``step``: APPLIED
    (``cdi_events_consumed_total``), DUPLICATE (``cdi_events_duplicate_total``), or None. Only its
    counting stage counts it, so a record that stage refused is not counted as applied even where
    another stage applied it (that stage's findings and observations count all the same)."""
    first = step.outcomes[:1]
    if not first or first[0][0] != counting_stage(event_type):
        return None
    reason = first[0][1]
    return APPLIED if reason is None else DUPLICATE if reason == DUPLICATE else None


def refusals(step: Step) -> list[tuple[str, str | None]]:
    """(reason, stage) of each dead letter the stream writes for the input event behind
    ``OfflineRun.process``'s ``step``: one for each stage that refused it (a duplicate is counted,
    not a letter), or a single one with no stage for an event refused before it reached any."""
    if not step.outcomes:
        return [] if step.rejected is None else [(step.rejected, None)]
    return [(reason, stage) for stage, reason in step.outcomes if reason is not None and reason != DUPLICATE]


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
        """One input event through each stage that reads it. Each stage applies or refuses it on
        its own, as in the stream: ``outcomes`` says what each did, and ``rejected`` is None when
        some stage applied it, else why the first refused it (see ``counted`` and ``refusals``).

        A ``history.ended`` line reaches no stage and is counted nowhere: ``cdi replay`` drops a
        history's own markers and ends the replay with its own, for which ``finish`` stands. Any
        other type no stage reads is refused as WRONG_TOPIC, as the worker refuses it."""
        routes = ROUTES.get(event.type, ())
        if not routes:
            return Step() if isinstance(event.payload, HistoryEnded) else Step(rejected=WRONG_TOPIC)
        # The history is one origin; the stream judges each input partition the same way (route).
        refused = self.admission.judge(OFFLINE_ORIGIN, event.at)
        if refused is not None:
            return Step(rejected=refused)
        stages, states = self.monitor.stages, self.states
        merged = Step()
        outcomes = []
        sent = [name for name, _ in targets(stages, event)]
        for name in routes:
            step = stages[name].process(states[name], event)
            # The stream sends the event only to a stage that keys it; another still learns its
            # time, from the progress its input reports, as ``process`` here learns it.
            if name in sent:
                outcomes.append((name, step.rejected))
            self._take(merged, step)
        merged.outcomes = tuple(outcomes)
        if outcomes and None not in [reason for _, reason in outcomes]:
            merged.rejected = outcomes[0][1]
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
        for forward in step.forwards:  # the crime stage's disposals first, then its progress
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
