"""Simulate a force's event history and the exact findings the monitor must produce on it."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdi.history import write_events
from cdi.simulation.calibration import load_calibration
from cdi.simulation.codes import load_reference
from cdi.simulation.crimes import CrimePlan, assign_crime_ids, crime_event, plan_direct_crimes
from cdi.simulation.extract import TimedEvent, file_order
from cdi.simulation.force import Force
from cdi.simulation.incidents import Fate, IncidentPlanner, Route, crime_code_weights
from cdi.simulation.options import SimulationOptions
from cdi.simulation.truth import CRD_LATE, NOT_CRIMED, RAISED, RESOLVED, findings_by_rule, truth_from_plans


@dataclass(frozen=True)
class Simulation:
    options: SimulationOptions
    events: list[dict[str, Any]]  # file order, duplicates included
    truth: list[dict[str, Any]]  # sorted by (occurred_at, finding_id, type)
    counts: dict[str, int]


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

    # The extract is taken at extract_at: anything due later is not in the file.
    extract_at = options.extract_at_ms
    planned_crimes = linked + len(direct)
    for plan in incidents:
        plan.crimes = [crime for crime in plan.crimes if crime.recorded_at <= extract_at]
    crimes: list[CrimePlan] = [crime for plan in incidents for crime in plan.crimes] + direct
    assign_crime_ids(crimes)

    timed: list[TimedEvent] = [item for plan in incidents for item in plan.events(options.force)]
    timed += [crime_event(crime, options.force) for crime in crimes]
    planned_events = len(timed)
    timed = [item for item in timed if item[0] <= extract_at]
    timed.sort(key=lambda item: item[0])  # stable: ties keep generation order
    events = file_order(rng, timed, options)
    t_end = max(at for at, _ in timed)

    truth = truth_from_plans(incidents, options.deadline_ms, t_end)
    # Self-check: the truth from decisions must equal the rules applied to the file itself.
    if findings_by_rule(events, options.deadline_ms, reference) != truth:
        raise RuntimeError("simulator bug: ground truth disagrees with the rule definitions")

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
        "crimes": len(crimes),
        "crimes_without_incident": len(direct),
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
    return Simulation(options, events, truth, counts)


def write_simulation(sim: Simulation, history_path: str | Path, truth_path: str | Path) -> None:
    """Write the history and the truth as JSON lines (gzip when a path ends in .gz)."""
    write_events(history_path, sim.events)
    write_events(truth_path, sim.truth)
