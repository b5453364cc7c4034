"""Simulate a force's event history and the exact findings the monitor must produce on it."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdi.history import write_events
from cdi.simulation.audit_truth import disposal_units, finding_units, incident_units, set_due, write_audit_truth
from cdi.simulation.breaches import Guidance
from cdi.simulation.calibration import Calibration, load_calibration
from cdi.simulation.codes import ReferenceData, load_reference
from cdi.simulation.crimes import CrimePlan, assign_crime_ids, crime_event, plan_direct_crimes
from cdi.simulation.decisions import CrimeCase, DecisionPlanner
from cdi.simulation.extract import TimedEvent, file_order
from cdi.simulation.force import Force
from cdi.simulation.hidden import HIDDEN_MODES, HiddenPlanner
from cdi.simulation.incidents import Fate, IncidentPlan, IncidentPlanner, Route, crime_code_weights
from cdi.simulation.offenders import Offender, OffenderPool
from cdi.simulation.options import SimulationOptions
from cdi.simulation.outcomes import OutcomePlanner
from cdi.simulation.truth import (
    CRD_LATE,
    NOT_CRIMED,
    RAISED,
    RECORDING_RULES,
    RESOLVED,
    findings_by_rule,
    truth_from_plans,
)

# Direct reports of domestic abuse (no incident to carry the qualifier), by offence group (assumed).
DIRECT_DOMESTIC = {"violence_against_the_person": 0.25, "sexual_offences": 0.25}


@dataclass(frozen=True)
class Simulation:
    options: SimulationOptions
    events: list[dict[str, Any]]  # file order, duplicates included
    truth: list[dict[str, Any]]  # sorted by (occurred_at, finding_id, type)
    counts: dict[str, int]
    # What a careful reviewer would find, independently of the rules (cdi.simulation.audit_truth).
    audit_truth: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CaseworkPlan:
    """What was decided on the recorded crimes, cut to the extract."""

    cases: list[CrimeCase] = field(default_factory=list)
    offenders: list[Offender] = field(default_factory=list)  # those with an outcome in the extract
    pinned: dict[str, int] = field(default_factory=dict)  # file-order delays of late snapshots
    counts: dict[str, int] = field(default_factory=dict)

    def events(self, force: str) -> list[TimedEvent]:
        out = [item for case in self.cases for item in case.events(force)]
        out += [case.outcome.event(force) for case in self.cases if case.outcome is not None]
        out += [offender.history_event(force) for offender in self.offenders]
        return out


def simulate(options: SimulationOptions) -> Simulation:
    rng = random.Random(options.seed)
    reference = load_reference()
    calibration = load_calibration()
    force = Force.build(options, calibration)
    incidents = IncidentPlanner(rng, options, force, calibration, reference).plan()

    linked = sum(len(plan.crimes) for plan in incidents)
    share = calibration.assumptions.direct_crime_share
    direct = plan_direct_crimes(
        rng,
        force,
        force.day_starts(options),
        crime_code_weights(calibration, reference),
        round(linked * share / (1 - share)),
        reference,
    )
    # Failure modes the rules cannot see, from a generator of their own (none at the defaults).
    hidden, eligible = HiddenPlanner(options, reference).apply(incidents)
    audit_incidents = incident_units(incidents, options, reference)  # before the cut: what the force did

    # The extract is taken at extract_at: anything due later is not in the file.
    extract_at = options.extract_at_ms
    planned_crimes = linked + len(direct)
    for plan in incidents:
        plan.crimes = [crime for crime in plan.crimes if crime.recorded_at <= extract_at]
    crimes: list[CrimePlan] = [crime for plan in incidents for crime in plan.crimes] + direct
    assign_crime_ids(crimes)

    timed: list[TimedEvent] = [item for plan in incidents for item in plan.events(options.force)]
    timed += [crime_event(crime, options.force) for crime in crimes]
    casework = CaseworkPlan()
    if options.outcomes:  # N100 records are not crimes: no casework
        recorded = [crime for crime in crimes if crime.kind == "crime"]
        casework = plan_casework(rng, options, calibration, reference, incidents, recorded)
        timed += casework.events(options.force)
    planned_events = len(timed)
    timed = [item for item in timed if item[0] <= extract_at]
    timed.sort(key=lambda item: item[0])  # stable: ties keep generation order
    events = file_order(rng, timed, options, casework.pinned)
    t_end = max(at for at, _ in timed)

    guidance = Guidance(reference)
    truth = truth_from_plans(incidents, casework.cases, guidance, options.deadline_ms, t_end, extract_at)
    # Self-check: the original recording rules' truth must equal those rules applied to the file.
    recording = [row for row in truth if row["rule"] in RECORDING_RULES]
    if findings_by_rule(events, options.deadline_ms, reference) != recording:
        raise RuntimeError("simulator bug: ground truth disagrees with the rule definitions")
    set_due(audit_incidents, incidents, options.deadline_ms, t_end)
    audit = audit_incidents + finding_units(truth, incidents, audit_incidents, options.deadline_ms)
    audit += disposal_units(casework.cases, guidance)

    fates = Counter(plan.fate for plan in incidents if plan.fate is not None)
    routes = Counter(plan.route for plan in incidents if plan.route is not None)
    kinds = Counter((row["rule"], row["type"]) for row in truth)
    counts = {
        "incidents": len(incidents),
        "crime_indicative": sum(fates.values()),
        "recorded_in_time": fates[Fate.RECORDED],
        "recorded_late": fates[Fate.LATE],
        "not_recorded": fates[Fate.NOT_RECORDED],
        "explained": fates[Fate.EXPLAINED],
        "recategorised": routes[Route.UPDATED],
        "closed_as_crime": routes[Route.CLOSED],
        "closed_before_crime": sum(plan.closed_before_crime for plan in incidents),
        "late_disclosures": sum(plan.late_disclosure for plan in incidents),
        "victims_not_informed": sum(plan.victim_informed is False for plan in incidents),
        "n100_records": sum(crime.kind == "n100" for crime in crimes),
        "records_with_crd_at": sum(crime.crd_at is not None for crime in crimes),
        "crimes": len(crimes),
        "crimes_without_incident": len(direct),
        **casework.counts,
        "events": len(events),
        "distinct_events": len(timed),
        "duplicates": len(events) - len(timed),
        "after_extract": planned_events - len(timed),
        "crimes_after_extract": planned_crimes - len(crimes),
        "truth": len(truth),
        "not_crimed_raised": kinds[(NOT_CRIMED, RAISED)],
        "not_crimed_resolved": kinds[(NOT_CRIMED, RESOLVED)],
        "crd_late_raised": kinds[(CRD_LATE, RAISED)],
    }
    for rule in options.rule_rates():
        counts[f"{rule.lower()}_raised"] = kinds[(rule, RAISED)]
    for mode in HIDDEN_MODES:  # how many incidents took each hidden mode, of how many eligible
        counts[f"hidden_{mode}"] = hidden[mode]
        counts[f"hidden_{mode}_eligible"] = eligible[mode]
    return Simulation(options, events, truth, counts, audit)


def plan_casework(
    rng: random.Random,
    options: SimulationOptions,
    calibration: Calibration,
    reference: ReferenceData,
    incidents: list[IncidentPlan],
    crimes: list[CrimePlan],
) -> CaseworkPlan:
    """Reclassifications, cancellations, suspects, outcomes and history snapshots of the crimes."""
    domestic = {plan.incident_id for plan in incidents if "domestic_abuse" in plan.qualifiers}
    # The incident each crime came from, linked or not (a record made without its link is still
    # the same domestic abuse case).
    origin = {id(crime): plan.incident_id for plan in incidents for crime in plan.crimes}
    cases = []
    for crime in sorted(crimes, key=lambda c: (c.recorded_at, c.crime_id)):
        if id(crime) in origin:
            abuse = origin[id(crime)] in domestic
        else:
            abuse = rng.random() < DIRECT_DOMESTIC.get(crime.hocr.offence_group, 0.0)
        cases.append(CrimeCase(crime, abuse))

    cw = calibration.casework
    decisions = DecisionPlanner(
        rng, cw, reference, options.reclass_down_no_reason_rate, options.cancel_without_avi_rate
    )
    pool = OffenderPool(rng, calibration.criminal_history, cw, reference, options.start_ms)
    outcomes = OutcomePlanner(rng, options, cw, reference, pool)
    for case in cases:  # pass 1, in recording order
        decisions.plan(case)
        outcomes.plan(case)

    # Cut to the extract before deciding: later decisions are not in the file and cannot be in
    # anyone's history as the monitor sees it (they all come after every decision in the file).
    extract_at = options.extract_at_ms
    for case in cases:
        case.reclassifications = [move for move in case.reclassifications if move.at <= extract_at]
        if case.cancellation is not None and case.cancellation.at > extract_at:
            case.cancellation = None
        if case.outcome is not None and case.outcome.at > extract_at:
            case.outcome = None
    decided = sorted(
        (case.outcome for case in cases if case.outcome is not None), key=lambda o: (o.at, o.case.crime.crime_id)
    )
    for outcome in decided:  # pass 2, in outcome-time order
        outcomes.decide(outcome)

    offenders = [offender for offender in pool.offenders if offender.snapshot_at is not None]
    pinned: dict[str, int] = {}
    for offender in offenders:
        if offender.late_snapshot:  # arrives after its outcome, still inside the disorder bound
            first = offender.outcomes[0]
            assert offender.snapshot_at is not None
            ahead = first.at - offender.snapshot_at
            pinned[first.event_id] = 0
            pinned[offender.event_id] = rng.randint(ahead + 1, outcomes.max_delay)

    types = Counter(outcome.type for outcome in decided)
    counts = {
        "outcomes": len(decided),
        "outcomes_with_offender": sum(outcome.offender is not None for outcome in decided),
        "out_of_court_disposals": sum(types[kind] for kind in (2, 3, 6, 7, 8)),
        "charges": types[1],
        "cancellations": sum(case.cancellation is not None for case in cases),
        "reclassifications": sum(len(case.reclassifications) for case in cases),
        "offenders": len(offenders),
        "repeat_offenders": sum(len(offender.outcomes) > 1 for offender in offenders),
        "late_snapshots": sum(offender.late_snapshot for offender in offenders),
        "deliberate_breaches": sum(outcome.intended is not None for outcome in decided)
        + sum(case.cancellation is not None and case.cancellation.intended for case in cases)
        + sum(move.intended for case in cases for move in case.reclassifications),
    }
    return CaseworkPlan(cases, offenders, pinned, counts)


def write_simulation(
    sim: Simulation,
    history_path: str | Path,
    truth_path: str | Path | None = None,
    audit_truth_path: str | Path | None = None,
) -> None:
    """Write the history and, when asked, the rule truth and the audit truth as JSON lines (gzip
    when a path ends in .gz)."""
    write_events(history_path, sim.events)
    if truth_path is not None:
        write_events(truth_path, sim.truth)
    if audit_truth_path is not None:
        write_audit_truth(audit_truth_path, sim.audit_truth)
