"""Every simulated event validates against its contract in schemas/."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs

from cdi.simulation import Simulation, SimulationOptions, simulate

from .reading import REPO_ROOT, distinct

SCHEMAS = REPO_ROOT / "schemas"
RECORDING_TYPES = {"incident.opened", "incident.updated", "incident.closed", "crime.recorded"}
CASEWORK_TYPES = {"crime.reclassified", "crime.cancelled", "outcome.assigned", "offender.history"}


def _validators() -> dict[str, Any]:
    common = json.loads((SCHEMAS / "common.v1.json").read_text())
    registry = jsonschema_rs.Registry([(common["$id"], common)])
    validators = {}
    for path in sorted(SCHEMAS.glob("*.v1.json")):
        kind = path.name.removesuffix(".v1.json")
        if kind != "common":
            schema = json.loads(path.read_text())
            validators[kind] = jsonschema_rs.validator_for(schema, registry=registry, validate_formats=True)
    return validators


VALIDATORS = _validators()


def _errors(events: list[dict[str, Any]]) -> list[str]:
    errors = []
    for event in events:
        validator = VALIDATORS[event["type"]]
        errors += [f"{event['event_id']}: {err.message}" for err in validator.iter_errors(event)]
    return errors


def test_validators_reject_a_broken_event(distinct_events: list[dict[str, Any]]) -> None:
    broken = json.loads(json.dumps(distinct_events[0]))
    broken["occurred_at"] = "2026-03-02 00:00:00"
    assert _errors([broken])


def test_every_event_validates(distinct_events: list[dict[str, Any]]) -> None:
    assert _errors(distinct_events) == []
    types = {event["type"] for event in distinct_events}
    assert types == RECORDING_TYPES | CASEWORK_TYPES


def test_every_event_of_the_month_validates(month_sim: Simulation) -> None:
    assert _errors(distinct(month_sim.events)) == []


def test_without_outcomes_only_the_recording_events_are_written() -> None:
    sim = simulate(SimulationOptions(days=2, seed=3, outcomes=False))
    assert {event["type"] for event in sim.events} == RECORDING_TYPES


def test_events_of_an_unusual_configuration_validate() -> None:
    sim = simulate(
        SimulationOptions(
            days=2,
            seed=4,
            divisions=("A1", "B-2", "C_3"),
            force="F1",
            deadline_hours=1.5,
            late_rate=0.3,
            explained_rate=0.3,
            cannabis_escalation_rate=1,
            cr_ineligible_rate=1,
            cancel_without_avi_rate=1,
        )
    )
    assert _errors(sim.events) == []
    assert {event["type"] for event in sim.events} == RECORDING_TYPES | CASEWORK_TYPES


def test_timestamps_are_utc_with_offset_at_second_or_millisecond_precision(
    distinct_events: list[dict[str, Any]],
) -> None:
    import re

    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?\+00:00$")
    assert all(stamp.match(event["occurred_at"]) for event in distinct_events)
    incident_log = [e["occurred_at"] for e in distinct_events if e["type"].startswith("incident.")]
    assert all("." not in at for at in incident_log)  # the incident log stamps whole seconds
    assert any("." in e["occurred_at"] for e in distinct_events if e["type"] == "crime.recorded")
