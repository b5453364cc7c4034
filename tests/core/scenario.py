"""Builds small event histories for core tests: times in hours after a fixed base."""

from __future__ import annotations

from typing import Any

from cdi import reference, rules
from cdi.contracts import Contracts
from cdi.core.events import Event
from cdi.core.pipeline import INCIDENTS, Monitor, OfflineRun
from cdi.core.stage import PartitionState, Step
from cdi.core.times import MS_PER_HOUR, format_time

BASE = 1_772_409_600_000  # 2026-03-02T00:00:00Z
CONTRACTS = Contracts()
CONFIG = rules.load(contracts=CONTRACTS)
REFERENCE = reference.load()
MONITOR = Monitor(CONFIG, REFERENCE)


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

    def opened(
        self, incident: str, hours: float, code: str = "ASSAULT", victims: int | None = None, **kw: Any
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"incident_id": incident, "opening_code": code}
        if victims is not None:
            payload["victims"] = victims
        return self._add("incident.opened", hours, payload, **kw)

    def updated(self, incident: str, hours: float, from_code: str, to_code: str, **kw: Any) -> dict[str, Any]:
        return self._add(
            "incident.updated",
            hours,
            {"incident_id": incident, "from_code": from_code, "to_code": to_code, "rationale_recorded": True},
            **kw,
        )

    def closed(
        self,
        incident: str,
        hours: float,
        code: str = "CRIME_RECORDED",
        rationale: bool = False,
        victim_informed: bool | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        """A closure; ``victim_informed`` None leaves the field out (the source does not say)."""
        payload: dict[str, Any] = {"incident_id": incident, "closing_code": code, "rationale_recorded": rationale}
        if victim_informed is not None:
            payload["victim_informed"] = victim_informed
        return self._add("incident.closed", hours, payload, **kw)

    def crime(
        self,
        crime: str,
        incident: str | None,
        hours: float,
        hocr: str = "105A",
        group: str = "violence_against_the_person",
        victim_ref: str | None = None,
        record_kind: str | None = None,
        crd_hours: float | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        """A crime record; ``record_kind="n100"`` makes it an N100 record, ``crd_hours`` gives its Crime
        Recording Decision time (None: the field is left out)."""
        payload: dict[str, Any] = {
            "crime_id": crime,
            "incident_id": incident,
            "hocr_code": hocr,
            "offence_group": group,
        }
        if victim_ref is not None:
            payload["victim_ref"] = victim_ref
        if record_kind is not None:
            payload["record_kind"] = record_kind
        if crd_hours is not None:
            payload["crd_at"] = at(crd_hours)
        return self._add("crime.recorded", hours, payload, **kw)

    def reclassified(
        self,
        crime: str,
        hours: float,
        from_code: str,
        to_code: str,
        reason: str | None = "reviewed",
        role: str = "designated_decision_maker",
        **kw: Any,
    ) -> dict[str, Any]:
        return self._add(
            "crime.reclassified",
            hours,
            {"crime_id": crime, "from_code": from_code, "to_code": to_code, "reason": reason, "role": role},
            **kw,
        )

    def cancelled(
        self,
        crime: str,
        hours: float,
        code: str = "C2",
        avi: bool = True,
        role: str = "designated_decision_maker",
        reason: str | None = "CCTV shows no offence",
        victim_informed: bool | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        """A cancellation; ``victim_informed`` None leaves the field out (the source does not say)."""
        payload: dict[str, Any] = {
            "crime_id": crime,
            "cancellation_code": code,
            "avi_recorded": avi,
            "authoriser_role": role,
            "reason": reason,
        }
        if victim_informed is not None:
            payload["victim_informed"] = victim_informed
        return self._add("crime.cancelled", hours, payload, **kw)

    def outcome(
        self,
        crime: str,
        hours: float,
        outcome_type: int,
        offender: str | None = "PR-0000aaaa",
        age: int | None = 30,
        rank: str = "sergeant",
        exceptional: bool = False,
        dpp: bool = False,
        value: float | None = None,
        domestic: bool = False,
        intimate: bool | None = None,
        victim_views: bool | None = True,
        caution_kind: str | None = "simple",
        alternate: str | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        """An outcome; an adult caution (3) is a simple one unless ``caution_kind`` says otherwise
        (None: the source does not say)."""
        payload = {
            "crime_id": crime,
            "outcome_type": outcome_type,
            "offender_ref": offender,
            "offender_age": age,
            "decision_maker_rank": rank,
            "exceptional_circumstances": exceptional,
            "dpp_consent": dpp,
            "penalty_value": value,
            "domestic_abuse": domestic,
        }
        if intimate is not None:
            payload["intimate_partner"] = intimate
        if victim_views is not None:
            payload["victim_views_recorded"] = victim_views
        if outcome_type == 3 and caution_kind is not None:
            payload["caution_kind"] = caution_kind
        if alternate is not None:
            payload["alternate_offence_code"] = alternate
        return self._add("outcome.assigned", hours, payload, **kw)

    def history(self, offender: str, hours: float, disposals: list[tuple[str, str, str]], **kw: Any) -> dict[str, Any]:
        """disposals: (kind, offence group, ISO date)."""
        listed = [{"disposal": k, "offence_group": g, "disposed_on": d} for k, g, d in disposals]
        return self._add("offender.history", hours, {"offender_ref": offender, "disposals": listed}, **kw)

    def events(self) -> list[Event]:
        return [CONTRACTS.parse(r) for r in self.records]


def run(
    records: list[dict[str, Any]] | list[Event], finish: bool = True
) -> tuple[list[Event], list[Step], PartitionState]:
    """Feed events in the given order; return all findings, every step, and the incident stage's state."""
    offline = OfflineRun.start(MONITOR)
    steps = []
    for item in records:
        event = item if isinstance(item, Event) else CONTRACTS.parse(item)
        steps.append(offline.process(event))
    if finish:
        steps.append(offline.finish())
    return [f for s in steps for f in s.findings], steps, offline.states[INCIDENTS]


def ids(findings: list[Event]) -> list[tuple[str, str, str]]:
    return [(f.type, f.payload.finding_id, f.occurred_at) for f in findings]


def of_rule(findings: list[Event], rule: str) -> list[Event]:
    return [f for f in findings if f.payload.rule == rule]
