"""Typed events. The JSON Schemas in ``schemas/`` are the contract; these classes mirror them
field for field (tests/contracts proves the two agree) and are built only from records that
already passed schema validation at the edge, so construction here does no checking.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar

from cdi.core.times import parse_time


@dataclass(frozen=True, slots=True)
class IncidentOpened:
    TYPE: ClassVar[str] = "incident.opened"
    incident_id: str
    opening_code: str
    victims: int | None = None
    qualifiers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IncidentUpdated:
    TYPE: ClassVar[str] = "incident.updated"
    incident_id: str
    from_code: str
    to_code: str
    rationale_recorded: bool


@dataclass(frozen=True, slots=True)
class IncidentClosed:
    TYPE: ClassVar[str] = "incident.closed"
    incident_id: str
    closing_code: str
    rationale_recorded: bool
    victim_informed: bool | None = None  # None: not known to the source


@dataclass(frozen=True, slots=True)
class CrimeRecorded:
    TYPE: ClassVar[str] = "crime.recorded"
    crime_id: str
    incident_id: str | None
    hocr_code: str | None  # None: the source gives only a broad category, no Home Office code
    offence_group: str
    victim_ref: str | None = None
    record_kind: str | None = None  # None or "crime": a crime; "n100": a rape report held as N100
    crd_at: str | None = None  # the Crime Recording Decision's time, where the source holds it
    offence_from: str | None = None  # when the offence was committed, where known
    offence_to: str | None = None
    drug_class: str | None = None  # A | B | C for drug offences; None: not known

    @property
    def is_n100(self) -> bool:
        """A rape report held under N100, not a crime: record_kind says so, or a source without
        the field gives the classification N100 alone."""
        return self.record_kind == "n100" or (self.record_kind is None and self.hocr_code == "N100")


@dataclass(frozen=True, slots=True)
class CrimeReclassified:
    TYPE: ClassVar[str] = "crime.reclassified"
    crime_id: str
    from_code: str
    to_code: str
    reason: str | None
    role: str


@dataclass(frozen=True, slots=True)
class CrimeCancelled:
    TYPE: ClassVar[str] = "crime.cancelled"
    crime_id: str
    cancellation_code: str
    avi_recorded: bool
    authoriser_role: str
    reason: str | None = None
    victim_informed: bool | None = None  # None: not known to the source
    # None in both: not known to the source (rules-review 1.12 point 5).
    surviving_crime_id: str | None = None  # a C3 (duplicate): the record it duplicates
    receiving_force: str | None = None  # a C1 (transfer): the force or agency it went to


@dataclass(frozen=True, slots=True)
class OutcomeAssigned:
    TYPE: ClassVar[str] = "outcome.assigned"
    crime_id: str
    outcome_type: int
    offender_ref: str | None
    offender_age: int | None
    # None in the fields below: not known to the source (a public export, say), never "no".
    decision_maker_rank: str | None
    exceptional_circumstances: bool | None
    dpp_consent: bool | None
    penalty_value: float | None
    domestic_abuse: bool | None
    intimate_partner: bool | None = None
    victim_views_recorded: bool | None = None
    caution_kind: str | None = None  # simple | conditional; None: not known (outcome 3 only)
    alternate_offence_code: str | None = None  # the offence the outcome was given for, if not the crime's
    goods_recovered: bool | None = None  # retail-theft penalty notices
    aggravating_factors: bool | None = None


@dataclass(frozen=True, slots=True)
class PriorDisposal:
    disposal: str
    offence_group: str
    disposed_on: str
    hocr_code: str | None = None


@dataclass(frozen=True, slots=True)
class OffenderHistory:
    TYPE: ClassVar[str] = "offender.history"
    offender_ref: str
    disposals: tuple[PriorDisposal, ...]


@dataclass(frozen=True, slots=True)
class Subject:
    kind: str
    id: str


@dataclass(frozen=True, slots=True)
class FindingRaised:
    TYPE: ClassVar[str] = "finding.raised"
    finding_id: str
    rule: str
    severity: str
    subject: Subject
    offence_group: str | None
    evidence: tuple[str, ...]
    explanation: str
    guidance: str
    rules_version: str
    # BREACH: the records show the rule broken. REVIEW: they cannot settle it (a fact the source
    # does not record, or a heuristic): someone must look before it counts as a breach.
    assessment: str = "breach"


@dataclass(frozen=True, slots=True)
class FindingResolved:
    TYPE: ClassVar[str] = "finding.resolved"
    finding_id: str
    rule: str
    resolution: str
    subject: Subject
    offence_group: str | None
    evidence: tuple[str, ...]
    explanation: str
    rules_version: str


@dataclass(frozen=True, slots=True)
class DisposalObserved:
    """Internal: an outcome that is a disposal, with its crime as of the outcome, passed from the
    crime stage to the offender stage (which keys it by offender)."""

    TYPE: ClassVar[str] = "disposal.observed"
    outcome_event: str
    crime_id: str
    offender_ref: str | None
    outcome_type: int
    disposal: str
    hocr_code: str | None
    offence_group: str
    offence_date: str
    crime_event: str
    offender_age: int | None
    decision_maker_rank: str | None  # None: not known to the source, as in OutcomeAssigned
    exceptional_circumstances: bool | None
    dpp_consent: bool | None
    penalty_value: float | None
    domestic_abuse: bool | None
    intimate_partner: bool | None = None
    victim_views_recorded: bool | None = None
    caution_kind: str | None = None
    goods_recovered: bool | None = None
    aggravating_factors: bool | None = None
    committed_on: str | None = None  # the offence's date where known; None: offence_date stands in


@dataclass(frozen=True, slots=True)
class HistoryEnded:
    TYPE: ClassVar[str] = "history.ended"
    source: str


Payload = (
    IncidentOpened
    | IncidentUpdated
    | IncidentClosed
    | CrimeRecorded
    | CrimeReclassified
    | CrimeCancelled
    | OutcomeAssigned
    | OffenderHistory
    | FindingRaised
    | FindingResolved
    | HistoryEnded
)

PAYLOAD_TYPES: dict[str, type] = {
    cls.TYPE: cls
    for cls in (
        IncidentOpened,
        IncidentUpdated,
        IncidentClosed,
        CrimeRecorded,
        CrimeReclassified,
        CrimeCancelled,
        OutcomeAssigned,
        OffenderHistory,
        FindingRaised,
        FindingResolved,
        HistoryEnded,
        DisposalObserved,
    )
}

# Nested records inside payloads, by payload field name.
_NESTED = {"disposals": PriorDisposal, "subject": Subject}
# Values taken as they are: a payload of these alone (most are) is built straight from its record.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _build(cls: type, data: dict[str, Any]) -> Any:
    if _SCALARS.issuperset(map(type, data.values())) and _NESTED.keys().isdisjoint(data):
        return cls(**data)
    values: dict[str, Any] = {}
    for name, value in data.items():
        nested = _NESTED.get(name)
        if nested is not None:
            value = tuple(nested(**v) for v in value) if isinstance(value, list) else nested(**value)
        elif isinstance(value, list):
            value = tuple(value)
        values[name] = value
    return cls(**values)


@dataclass(frozen=True, slots=True)
class Event:
    event_id: str
    type: str
    schema_version: int
    occurred_at: str
    force: str
    division: str
    payload: Any
    at: int = field(compare=False)  # occurred_at as epoch ms, parsed once

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Event:
        """Build from a record that passed schema validation."""
        payload_cls = PAYLOAD_TYPES[record["type"]]
        return cls(
            event_id=record["event_id"],
            type=record["type"],
            schema_version=record["schema_version"],
            occurred_at=record["occurred_at"],
            force=record["force"],
            division=record["division"],
            payload=_build(payload_cls, record["payload"]),
            at=parse_time(record["occurred_at"]),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form (what the schemas describe)."""
        return {
            "event_id": self.event_id,
            "type": self.type,
            "schema_version": self.schema_version,
            "occurred_at": self.occurred_at,
            "force": self.force,
            "division": self.division,
            "payload": _plain(self.payload),
        }


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        out = {}
        for spec in fields(value):
            item = getattr(value, spec.name)
            # Optional fields left at None are omitted so the output stays schema-minimal.
            if item is None and spec.default is None and spec.default is not MISSING:
                continue
            out[spec.name] = _plain(item)
        return out
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
