"""A case: everything the recording rules know about one incident and the crimes linked to it.

Crime records that name no incident form a case of their own (key ``crime:<id>``), so that
their duplicates are still recognised. Cases serialise to plain dicts for changelogged tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class LinkedCrime:
    crime_id: str
    at: int
    event_id: str
    hocr_code: str | None  # None: the source gives no Home Office code
    offence_group: str
    division: str
    timed: bool = False  # recording delay already measured
    victim_ref: str | None = None  # pseudonymous victim on the crime record, where the source has one
    kind: str = "crime"  # "crime" | "n100": a rape report held under N100, not a crime
    decided_at: int | None = None  # the Crime Recording Decision's time (crd_at), where the record has it
    waited: bool = False  # its delay fell due before the incident's report was known: timed when it comes

    @property
    def decision_time(self) -> int:
        """What CRD_LATE measures to: the recording decision, else the record's creation."""
        return self.decided_at if self.decided_at is not None else self.at

    @property
    def is_crime(self) -> bool:
        return self.kind != "n100"


@dataclass(slots=True)
class IncidentCase:
    key: str
    force: str
    division: str
    first_at: int
    incident_id: str | None = None
    division_at: int | None = None  # event time of the incident event the division came from
    reported_at: int | None = None  # incident.opened
    opened_event: str | None = None
    opening_code: str | None = None
    indicative_at: int | None = None
    indicative_code: str | None = None
    indicative_event: str | None = None  # the event that first carried a crime-indicative code
    rape_at: int | None = None  # first event with a crime-indicative code that reports a rape
    signalled_at: int | None = None  # first opening or update with a crime-indicative code
    closed_at: int | None = None
    closing_code: str | None = None
    closing_rationale: bool = False
    closing_event: str | None = None
    closing_victim_informed: bool | None = None  # None: not known to the source
    victims: int | None = None
    close_checked: bool = False  # CLOSE_CATEGORY_DOWNGRADE evaluated
    incident_events: list[tuple[int, str]] = field(default_factory=list)
    crimes: dict[str, LinkedCrime] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    checked: bool = False
    not_crimed: str | None = None  # None | "raised" | "resolved"
    late_raised: set[str] = field(default_factory=set)

    def report_time(self) -> int | None:
        """When the incident was reported: its opening event, else its earliest incident event."""
        if self.reported_at is not None:
            return self.reported_at
        if self.incident_events:
            return min(at for at, _ in self.incident_events)
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "force": self.force,
            "division": self.division,
            "first_at": self.first_at,
            "incident_id": self.incident_id,
            "division_at": self.division_at,
            "reported_at": self.reported_at,
            "opened_event": self.opened_event,
            "opening_code": self.opening_code,
            "indicative_at": self.indicative_at,
            "indicative_code": self.indicative_code,
            "indicative_event": self.indicative_event,
            "rape_at": self.rape_at,
            "signalled_at": self.signalled_at,
            "closed_at": self.closed_at,
            "closing_code": self.closing_code,
            "closing_rationale": self.closing_rationale,
            "closing_event": self.closing_event,
            "closing_victim_informed": self.closing_victim_informed,
            "victims": self.victims,
            "close_checked": self.close_checked,
            "incident_events": self.incident_events,
            "crimes": [
                [
                    c.crime_id,
                    c.at,
                    c.event_id,
                    c.hocr_code,
                    c.offence_group,
                    c.division,
                    c.timed,
                    c.victim_ref,
                    c.kind,
                    c.decided_at,
                    c.waited,
                ]
                for c in self.crimes.values()
            ],
            "seen": sorted(self.seen),
            "checked": self.checked,
            "not_crimed": self.not_crimed,
            "late_raised": sorted(self.late_raised),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IncidentCase:
        case = cls(**{k: v for k, v in data.items() if k not in {"incident_events", "crimes", "seen", "late_raised"}})
        case.incident_events = [(at, ev) for at, ev in data["incident_events"]]
        case.crimes = {row[0]: LinkedCrime(*row) for row in data["crimes"]}
        case.seen = set(data["seen"])
        case.late_raised = set(data["late_raised"])
        return case
