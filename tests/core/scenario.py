"""Builds small event histories for core tests: times in hours after a fixed base."""

from __future__ import annotations

from typing import Any

from cdi import reference, rules
from cdi.contracts import Contracts
from cdi.core.events import Event
from cdi.core.monitor import Monitor, PartitionState, Step
from cdi.core.times import MS_PER_HOUR, format_time

BASE = 1_772_409_600_000  # 2026-03-02T00:00:00Z
CONTRACTS = Contracts()
CONFIG = rules.load(contracts=CONTRACTS)
REFERENCE = reference.load()


def at(hours: float) -> str:
    return format_time(BASE + round(hours * MS_PER_HOUR))


class Scenario:
    def __init__(self, division: str = "NORTH") -> None:
        self.division = division
        self.records: list[dict[str, Any]] = []
        self._n = 0

    def _add(
        self,
        type_: str,
        hours: float,
        payload: dict[str, Any],
        event_id: str | None = None,
        division: str | None = None,
    ) -> dict[str, Any]:
        self._n += 1
        record = {
            "event_id": event_id or f"ev-{self._n:04d}",
            "type": type_,
            "schema_version": 1,
            "occurred_at": at(hours),
            "force": "SYNTH",
            "division": division or self.division,
            "payload": payload,
        }
        self.records.append(record)
        return record

    def opened(self, incident: str, hours: float, code: str = "ASSAULT", **kw: Any) -> dict[str, Any]:
        return self._add("incident.opened", hours, {"incident_id": incident, "opening_code": code}, **kw)

    def updated(self, incident: str, hours: float, from_code: str, to_code: str, **kw: Any) -> dict[str, Any]:
        return self._add(
            "incident.updated",
            hours,
            {"incident_id": incident, "from_code": from_code, "to_code": to_code, "rationale_recorded": True},
            **kw,
        )

    def closed(
        self, incident: str, hours: float, code: str = "CRIME_RECORDED", rationale: bool = False, **kw: Any
    ) -> dict[str, Any]:
        return self._add(
            "incident.closed",
            hours,
            {"incident_id": incident, "closing_code": code, "rationale_recorded": rationale},
            **kw,
        )

    def crime(
        self,
        crime: str,
        incident: str | None,
        hours: float,
        hocr: str = "105A",
        group: str = "violence_against_the_person",
        **kw: Any,
    ) -> dict[str, Any]:
        return self._add(
            "crime.recorded",
            hours,
            {"crime_id": crime, "incident_id": incident, "hocr_code": hocr, "offence_group": group},
            **kw,
        )

    def events(self) -> list[Event]:
        return [CONTRACTS.parse(r) for r in self.records]


def run(
    records: list[dict[str, Any]] | list[Event], finish: bool = True
) -> tuple[list[Event], list[Step], PartitionState]:
    """Feed events in the given order; return all findings, every step, and the state."""
    monitor = Monitor(CONFIG, REFERENCE)
    state = monitor.new_state()
    steps = []
    for item in records:
        event = item if isinstance(item, Event) else CONTRACTS.parse(item)
        steps.append(monitor.process(state, event))
    if finish:
        steps.append(monitor.finish(state))
    return [f for s in steps for f in s.findings], steps, state


def ids(findings: list[Event]) -> list[tuple[str, str, str]]:
    return [(f.type, f.payload.finding_id, f.occurred_at) for f in findings]
