"""The audit population of a period: the units an auditor may be asked to read, each in a stratum.

A history runs through the monitor exactly as ``cdi backtest`` runs it (the same contracts, rules
and reference data, the same offline pipeline), with the incident stage watched so that each
``RecordingDecision`` is known by its incident. The population of a period is then:

- every crime-indicative incident reported in the period that reached its recording deadline,
  whatever the result (recorded, explained, not recorded);
- every incident reported in the period that never had a crime-indicative code: closed to a
  non-crime or catch-all ("sink") code, where a crime the codes never showed hides most often,
  but also those closed to another code or still open, since a crime recorded from a call whose
  codes never showed one (a mistyped code, a narrative) counts in the accuracy's denominator too;
- every out-of-court disposal (outcome types 3, 6, 7 and 8) assigned in the period;
- every finding raised in the period.

The period is by each unit's own time; by default it runs from the history's first event to one
recording deadline (the rules' ``deadline_hours``, 24) before its last, so that every crime
reported in it could have been recorded by the end of the history. Left out all the same:
crime-indicative incidents whose deadline falls after the history's end (``Population.not_due``):
neither the rules nor a reviewer of the extract can judge them yet.

Strata: incidents and disposals by division x offence group (an incident's group is that of its
first crime-indicative code, "none" for an incident that never had one; a disposal's that of its
crime); findings by rule, so that each rule's precision is estimated within its own stratum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cdi import reference as reference_tables
from cdi import rules as rules_files
from cdi.contracts import Contracts, InvalidEvent
from cdi.core.cases import IncidentCase
from cdi.core.events import CrimeReclassified, CrimeRecorded, Event, OutcomeAssigned
from cdi.core.observations import RecordingDecision
from cdi.core.pipeline import APPLIED, Monitor, OfflineRun, counted, refusals
from cdi.core.rules import CRD_LATE, NOT_CRIMED
from cdi.core.stage import INCIDENTS, Step
from cdi.core.times import format_time
from cdi.sources import FINDINGS, History, SourceError

INCIDENT, FINDING, DISPOSAL = "incident", "finding", "disposal"
KINDS = (INCIDENT, FINDING, DISPOSAL)
NO_GROUP = "none"  # the offence group of an incident that never had a crime-indicative code

# Recording results of a crime-indicative incident (the core's RecordingDecision), and of an
# incident closed to a non-crime or sink code that never was crime-indicative.
RECORDED, EXPLAINED, NOT_RECORDED = "recorded", "explained", "not_recorded"
DECIDED = frozenset({RECORDED, EXPLAINED, NOT_RECORDED})  # the results of a crime-indicative incident
# An incident that never had a crime-indicative code: closed to a non-crime or sink code, closed
# to another code (admin, or "crime recorded"), or not closed by the history's end.
NON_CRIME, OTHER_CLOSURE, OPEN = "non_crime", "other_closure", "open"
# Closing-code classes where an unrecorded crime hides (incident_codes.csv, column class).
HIDING_CLASSES = frozenset({"non_crime", "sink"})
# Out-of-court disposals an auditor reads (Home Office outcome types, outcome_types.csv): adult
# caution, penalty notice for disorder, cannabis or khat warning, community resolution. These are
# the disposals domain rules 10-15 judge; youth cautions (2) are decided with the youth panel.
OUT_OF_COURT = frozenset({3, 6, 7, 8})


@dataclass(frozen=True, slots=True)
class Unit:
    """One record an auditor may be asked to review."""

    kind: str  # incident | finding | disposal
    id: str  # incident id, finding id, or the outcome.assigned event id of a disposal
    division: str
    group: str  # offence group, or NO_GROUP
    at: int  # report time (incident), time raised (finding), time assigned (disposal)
    stratum: str
    result: str | None = None  # incident: RECORDED | EXPLAINED | NOT_RECORDED | NON_CRIME | OTHER_CLOSURE | OPEN
    # incident: the monitor raised a finding on it (any rule), or CRD_LATE on a record linked to it
    flagged: bool = False
    rule: str | None = None  # finding: its rule
    crime_id: str | None = None  # disposal: its crime


def stratum_of(kind: str, division: str, group: str, rule: str | None = None) -> str:
    if kind == FINDING:
        return f"{FINDING}/{rule}"
    return f"{kind}/{division}/{group}"


@dataclass(slots=True)
class Population:
    force: str
    start: int  # period, event time, inclusive
    end: int  # exclusive
    units: list[Unit]  # ordered by (stratum, id)
    recorded_volume: int  # crime records (not N100) made in the period, every route
    not_due: int = 0  # crime-indicative incidents of the period whose deadline fell after the history's end
    history_end: int = 0  # the history's last event time
    deadline: int = 0  # the recording deadline (ms)
    sources: list[str] = field(default_factory=list)
    lines: int = 0
    events: int = 0
    dead_letters: int = 0  # as cdi backtest's: one per stage that refused a record

    _strata: dict[str, list[Unit]] | None = None
    _index: dict[tuple[str, str], Unit] | None = None

    def strata(self, kind: str | None = None) -> dict[str, list[Unit]]:
        """The units of each stratum (of ``kind``), strata by name; computed once."""
        if self._strata is None:
            every: dict[str, list[Unit]] = {}
            for unit in self.units:
                every.setdefault(unit.stratum, []).append(unit)
            self._strata = dict(sorted(every.items()))
        return {name: units for name, units in self._strata.items() if kind is None or units[0].kind == kind}

    def index(self) -> dict[tuple[str, str], Unit]:
        if self._index is None:
            self._index = {(unit.kind, unit.id): unit for unit in self.units}
        return self._index

    def count(self, kind: str) -> int:
        return sum(1 for unit in self.units if unit.kind == kind)

    @property
    def divisions(self) -> list[str]:
        return sorted({name.split("/")[1] for name in self.strata() if not name.startswith(f"{FINDING}/")})

    def describe(self) -> str:
        return f"{format_time(self.start)} to {format_time(self.end)}"


class _WatchedIncidents:
    """The incident stage's logic as the monitor runs it, noting which incident each recording
    decision is for (the core's observation carries the division and group only). Everything
    else is the core's own logic, untouched."""

    def __init__(self, logic: Any) -> None:
        self._logic = logic
        self.cases: dict[str, IncidentCase] = {}  # by incident id, the latest case of each
        self.decisions: dict[str, RecordingDecision] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._logic, name)

    def apply(self, case: IncidentCase, event: Event, out: Step) -> None:
        self._logic.apply(case, event, out)
        if case.incident_id is not None:
            self.cases[case.incident_id] = case

    def fire(self, case: IncidentCase, at: int, kind: int, out: Step) -> None:
        before = len(out.observations)
        self._logic.fire(case, at, kind, out)
        for obs in out.observations[before:]:
            if isinstance(obs, RecordingDecision):
                self.decisions[case.incident_id or case.key] = obs


@dataclass(slots=True)
class _Crime:
    division: str
    group: str
    at: int
    is_crime: bool  # not an N100 record
    incident_id: str | None


@dataclass(slots=True)
class _Run:
    incidents: _WatchedIncidents
    findings: list[Event] = field(default_factory=list)
    crimes: dict[str, _Crime] = field(default_factory=dict)
    outcomes: list[Event] = field(default_factory=list)
    force: str = ""
    first: int | None = None
    last: int | None = None
    deadline: int = 0  # the recording deadline, ms (CRIME_INDICATIVE_INCIDENT_NOT_CRIMED deadline_hours)
    reference: Any = None  # the reference data the monitor ran with
    lines: int = 0
    events: int = 0
    dead_letters: int = 0


def _run(history: History, rules_path: Any, progress: Callable[[int], None] | None) -> _Run:
    contracts = Contracts()
    reference = reference_tables.load()
    monitor = Monitor(rules_files.load(rules_path, contracts), reference)
    watched = _WatchedIncidents(monitor.stages[INCIDENTS].logic)
    monitor.stages[INCIDENTS].logic = watched  # type: ignore[assignment]
    offline = OfflineRun.start(monitor)
    run = _Run(watched, deadline=monitor.config.rule(NOT_CRIMED).hours("deadline_hours"), reference=reference)
    for number, (_, raw) in enumerate(history.lines(), start=1):
        run.lines = number
        try:
            event = contracts.decode(raw)
        except InvalidEvent:
            run.dead_letters += 1
            continue
        step = offline.process(event)
        # Counted as cdi backtest counts it (cdi.core.pipeline.counted, refusals).
        run.dead_letters += len(refusals(step))
        run.findings += [f for f in step.findings if f.type == "finding.raised"]
        if counted(event.type, step) == APPLIED:
            run.events += 1
        if step.rejected is not None or not step.outcomes:  # applied by no stage, or a history.ended line
            continue
        run.force = run.force or event.force
        run.first = event.at if run.first is None else min(run.first, event.at)
        run.last = event.at if run.last is None else max(run.last, event.at)
        payload = event.payload
        if isinstance(payload, CrimeRecorded):
            run.crimes[payload.crime_id] = _Crime(
                event.division, payload.offence_group, event.at, not payload.is_n100, payload.incident_id
            )
        elif isinstance(payload, CrimeReclassified) and payload.crime_id in run.crimes:
            offence = reference.offence_codes.get(payload.to_code)
            if offence is not None:
                run.crimes[payload.crime_id].group = offence.offence_group
        elif isinstance(payload, OutcomeAssigned) and payload.outcome_type in OUT_OF_COURT:
            run.outcomes.append(event)
        if progress is not None and number % 5000 == 0:
            progress(number)
    run.findings += [f for f in offline.finish().findings if f.type == "finding.raised"]
    return run


def build(
    history: History,
    rules_path: Any = None,
    *,
    start: int | None = None,
    end: int | None = None,
    divisions: Iterable[str] = (),
    progress: Callable[[int], None] | None = None,
) -> Population:
    """The population of the period [start, end) of ``history`` (default: from its first event to
    one recording deadline before its last).

    The whole history runs through the monitor whatever the period, so that an incident reported
    just before the period's end is judged with everything the history knows about it; the period
    then chooses units by their own time (an incident's report, a finding's raising, a disposal's
    assignment)."""
    if history.kind == FINDINGS:
        raise SourceError(f"{history.name} holds findings, not events: give the history they came from")
    run = _run(history, rules_path, progress)
    if run.first is None or run.last is None:
        return Population(run.force, 0, 0, [], 0, lines=run.lines, dead_letters=run.dead_letters)
    lo = run.first if start is None else start
    hi = max(lo, run.last - run.deadline) if end is None else end
    wanted = frozenset(divisions)

    def takes(division: str, at: int) -> bool:
        return lo <= at < hi and (not wanted or division in wanted)

    reference = run.reference
    flagged = {f.payload.subject.id for f in run.findings if f.payload.subject.kind == INCIDENT}
    for f in run.findings:
        crime = run.crimes.get(f.payload.subject.id) if f.payload.subject.kind == "crime" else None
        if f.payload.rule == CRD_LATE and crime is not None and crime.incident_id is not None:
            flagged.add(crime.incident_id)  # the incident's crime was recorded late: the rules saw it
    units: list[Unit] = []
    not_due = 0
    for incident_id, case in run.incidents.cases.items():
        reported = case.report_time()
        if reported is None or not takes(case.division, reported):
            continue
        decision = run.incidents.decisions.get(incident_id)
        if decision is not None:
            result, group = decision.result, decision.offence_group
        elif case.indicative_at is not None:
            not_due += 1  # its deadline is after the history's end: not yet decided
            continue
        else:
            closing = reference.incident_code(case.closing_code or "") if case.closed_at is not None else None
            if case.closed_at is None:
                result = OPEN
            elif closing is not None and closing.code_class in HIDING_CLASSES:
                result = NON_CRIME
            else:
                result = OTHER_CLOSURE
            opening = reference.incident_code(case.opening_code or "")
            group = (opening.offence_group if opening else None) or NO_GROUP
        units.append(
            Unit(
                INCIDENT,
                incident_id,
                case.division,
                group,
                reported,
                stratum_of(INCIDENT, case.division, group),
                result=result,
                flagged=incident_id in flagged,
            )
        )
    for f in run.findings:
        if takes(f.division, f.at):
            p = f.payload
            group = p.offence_group or NO_GROUP
            units.append(
                Unit(
                    FINDING,
                    p.finding_id,
                    f.division,
                    group,
                    f.at,
                    stratum_of(FINDING, f.division, group, p.rule),
                    rule=p.rule,
                )
            )
    for outcome in run.outcomes:
        crime_id = outcome.payload.crime_id
        group = run.crimes[crime_id].group if crime_id in run.crimes else NO_GROUP
        if takes(outcome.division, outcome.at):
            units.append(
                Unit(
                    DISPOSAL,
                    outcome.event_id,
                    outcome.division,
                    group,
                    outcome.at,
                    stratum_of(DISPOSAL, outcome.division, group),
                    crime_id=crime_id,
                )
            )
    units.sort(key=lambda u: (u.stratum, u.id))
    volume = sum(1 for crime in run.crimes.values() if crime.is_crime and takes(crime.division, crime.at))
    return Population(
        run.force,
        lo,
        hi,
        units,
        volume,
        not_due=not_due,
        history_end=run.last,
        deadline=run.deadline,
        sources=[p.name for p in history.paths],
        lines=run.lines,
        events=run.events,
        dead_letters=run.dead_letters,
    )
