"""The JSON Schemas are the contract; the Python event classes must agree with them exactly."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import jsonschema_rs
import pytest

from cdi.contracts import SCHEMA, UNKNOWN_TYPE, Contracts, InvalidEvent
from cdi.core.events import PAYLOAD_TYPES, Event, PriorDisposal, Subject

CONTRACTS = Contracts()
DESIGN_TYPES = {
    "incident.opened",
    "incident.updated",
    "incident.closed",
    "crime.recorded",
    "crime.reclassified",
    "crime.cancelled",
    "outcome.assigned",
    "offender.history",
    "finding.raised",
    "finding.resolved",
}
EVENT_SCHEMAS = {sid: s for sid, s in CONTRACTS.schemas.items() if sid.split(":")[3] in PAYLOAD_TYPES}


def test_every_design_event_type_has_a_schema_and_a_python_class():
    assert set(CONTRACTS.event_types) >= DESIGN_TYPES
    # case.action is the workbench's contract (cdi.workbench), audit.sample and audit.verdict the
    # audit's (cdi.audit): none is an event the core reads.
    assert set(CONTRACTS.event_types) == set(PAYLOAD_TYPES) | {"case.action", "audit.sample", "audit.verdict"}


@pytest.mark.parametrize("schema_id", sorted(CONTRACTS.schemas))
def test_schema_is_valid_json_schema(schema_id):
    assert jsonschema_rs.meta.is_valid(CONTRACTS.schemas[schema_id])


@pytest.mark.parametrize("schema_id", sorted(EVENT_SCHEMAS))
def test_examples_are_valid_and_round_trip_through_python(schema_id):
    examples = EVENT_SCHEMAS[schema_id]["examples"]
    assert examples, f"{schema_id} has no example"
    for example in examples:
        event = CONTRACTS.parse(example)
        again = event.to_dict()
        CONTRACTS.check(again)
        assert Event.from_dict(again) == event


def _payload_properties(schema: dict[str, Any]) -> tuple[set[str], set[str]]:
    payload = schema["properties"]["payload"]
    return set(payload["properties"]), set(payload["required"])


@pytest.mark.parametrize("type_name", sorted(PAYLOAD_TYPES))
def test_python_payload_class_matches_its_schema(type_name):
    schema = CONTRACTS.schemas[f"urn:cdi:schema:{type_name}:1"]
    properties, required = _payload_properties(schema)
    cls = PAYLOAD_TYPES[type_name]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    assert set(fields) == properties
    no_default = {
        n for n, f in fields.items() if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    # Required fields have no default; optional ones have one.
    assert no_default == required


def test_nested_classes_match_their_schemas():
    history = CONTRACTS.schemas["urn:cdi:schema:offender.history:1"]
    item = history["properties"]["payload"]["properties"]["disposals"]["items"]
    assert {f.name for f in dataclasses.fields(PriorDisposal)} == set(item["properties"])
    subject = CONTRACTS.schemas["urn:cdi:schema:common:1"]["$defs"]["subject"]
    assert {f.name for f in dataclasses.fields(Subject)} == set(subject["properties"])


def test_envelope_matches_event_class():
    envelope = CONTRACTS.schemas["urn:cdi:schema:common:1"]["$defs"]["envelope"]
    fields = {f.name for f in dataclasses.fields(Event)} - {"at"}  # `at` is derived from occurred_at
    assert fields == set(envelope["properties"]) == set(envelope["required"])


def _example(type_name: str) -> dict[str, Any]:
    return copy.deepcopy(CONTRACTS.schemas[f"urn:cdi:schema:{type_name}:1"]["examples"][0])


def _mutate(type_name: str, path: str, value: Any) -> dict[str, Any]:
    record = _example(type_name)
    *parents, last = path.split(".")
    target = record
    for part in parents:
        target = target[part]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return record


_DELETE = object()

INVALID = [
    ("incident.opened", "payload.incident_id", _DELETE, "missing required payload field"),
    ("incident.opened", "payload.opening_code", "assault", "code must be upper case"),
    ("incident.opened", "payload.victims", -1, "negative victim count"),
    ("incident.opened", "payload.caller_name", "Jane Doe", "unknown payload field (no names)"),
    ("incident.opened", "occurred_at", "2026-03-02T21:14:05", "timestamp without offset"),
    ("incident.opened", "occurred_at", "yesterday", "not a timestamp"),
    ("incident.opened", "division", "north", "division must be a bounded upper-case code"),
    ("incident.opened", "extra", 1, "unknown envelope field"),
    ("incident.opened", "schema_version", 2, "version with no contract"),
    ("incident.closed", "payload.rationale_recorded", "yes", "boolean expected"),
    ("incident.updated", "payload.to_code", _DELETE, "missing to_code"),
    ("crime.recorded", "payload.hocr_code", "ASSAULT", "not a Home Office code"),
    ("crime.recorded", "payload.offence_group", "violence", "offence group outside the bounded set"),
    ("crime.recorded", "payload.victim_ref", "John Smith", "a name instead of a pseudonym"),
    ("crime.reclassified", "payload.role", "mayor", "unknown role"),
    ("crime.cancelled", "payload.cancellation_code", "C9", "unknown cancellation criterion"),
    ("outcome.assigned", "payload.outcome_type", 23, "outcome type out of range"),
    ("outcome.assigned", "payload.offender_age", 130, "age out of range"),
    ("outcome.assigned", "payload.decision_maker_rank", "general", "unknown rank"),
    ("offender.history", "payload.disposals", [{"disposal": "caution"}], "disposal item incomplete"),
    ("finding.raised", "payload.evidence", [], "a finding needs evidence"),
    ("finding.raised", "payload.severity", "urgent", "unknown severity"),
    ("finding.resolved", "payload.resolution", "forgotten", "unknown resolution"),
    ("history.ended", "payload", {}, "marker without source"),
]


@pytest.mark.parametrize(("type_name", "path", "value", "why"), INVALID, ids=[i[3] for i in INVALID])
def test_invalid_examples_are_rejected(type_name, path, value, why):
    record = _mutate(type_name, path, value)
    with pytest.raises(InvalidEvent) as caught:
        CONTRACTS.parse(record)
    assert caught.value.reason in {SCHEMA, UNKNOWN_TYPE}


def test_unknown_type_and_malformed_bytes_are_rejected_with_their_reason():
    with pytest.raises(InvalidEvent) as caught:
        CONTRACTS.decode(b'{"type": "incident.deleted", "schema_version": 1}')
    assert caught.value.reason == "unknown_type"
    with pytest.raises(InvalidEvent) as caught:
        CONTRACTS.decode(b"{not json")
    assert caught.value.reason == "malformed"
    with pytest.raises(InvalidEvent) as caught:
        CONTRACTS.decode(b"[1, 2]")
    assert caught.value.reason == "malformed"


def test_log_summary_carries_no_values_from_the_record():
    record = _mutate("crime.recorded", "payload.victim_ref", "John Smith")
    with pytest.raises(InvalidEvent) as caught:
        CONTRACTS.parse(record)
    assert "John" not in caught.value.summary
    assert caught.value.summary == "schema at /payload/victim_ref"


def test_case_action_examples_are_valid_and_the_worker_refuses_them_as_unknown():
    schema = CONTRACTS.schemas["urn:cdi:schema:case.action:1"]
    for example in schema["examples"]:
        CONTRACTS.check(example)
        with pytest.raises(InvalidEvent) as refused:
            CONTRACTS.parse(example)
        assert refused.value.reason == "unknown_type"


def test_an_outcome_written_before_caution_kind_existed_is_still_valid_and_reads_as_unknown():
    """outcome.assigned v1 gained optional caution_kind and alternate_offence_code (rules-review
    1.5): a record from before them validates as it did, and both read as not known."""
    old = {
        "event_id": "ev-old-1",
        "type": "outcome.assigned",
        "schema_version": 1,
        "occurred_at": "2025-06-01T10:00:00+00:00",
        "force": "KENT",
        "division": "NORTH",
        "payload": {
            "crime_id": "CR-1",
            "outcome_type": 3,
            "offender_ref": None,
            "offender_age": None,
            "decision_maker_rank": None,
            "exceptional_circumstances": None,
            "dpp_consent": None,
            "penalty_value": None,
            "domestic_abuse": None,
        },
    }
    event = CONTRACTS.parse(old)
    assert event.payload.caution_kind is None and event.payload.alternate_offence_code is None
    new = copy.deepcopy(old)
    new["payload"].update(caution_kind="conditional", alternate_offence_code="49")
    assert CONTRACTS.parse(new).payload.caution_kind == "conditional"
    new["payload"]["caution_kind"] = "youth"  # youth cautions are outcome 2, not a kind of 3
    with pytest.raises(InvalidEvent):
        CONTRACTS.parse(new)


REVIEW_FIELDS = {
    # type: (fields added by the 2026 rules review, values that must validate, one that must not)
    "incident.closed": ({"victim_informed": False}, ("victim_informed", "told")),
    "crime.recorded": (
        {
            "record_kind": "n100",
            "crd_at": "2026-03-03T09:00:00+00:00",
            "offence_from": "2019-01-01T00:00:00+00:00",
            "offence_to": "2019-12-31T23:59:59+00:00",
            "drug_class": "A",
        },
        ("drug_class", "D"),
    ),
    "crime.cancelled": (
        {"victim_informed": True, "surviving_crime_id": "CR-26-004700", "receiving_force": "MET"},
        ("victim_informed", "yes"),
    ),
    "outcome.assigned": ({"goods_recovered": True, "aggravating_factors": False}, ("goods_recovered", 1)),
}


@pytest.mark.parametrize("type_name", sorted(REVIEW_FIELDS))
def test_records_from_before_the_review_fields_stay_valid_and_read_them_as_not_known(type_name):
    """The review's new facts (victim informed, N100, CRD time, offence dates, drug class, goods
    recovered, aggravating factors, a C3's surviving record and a C1's receiving force) are
    optional in v1: the schema examples, written before them, still validate and read each new
    field as None; records carrying them round-trip."""
    added, (bad_field, bad_value) = REVIEW_FIELDS[type_name]
    schema = CONTRACTS.schemas[f"urn:cdi:schema:{type_name}:1"]
    old = copy.deepcopy(schema["examples"][0])
    assert not set(added) & set(old["payload"])
    event = CONTRACTS.parse(old)
    assert all(getattr(event.payload, name) is None for name in added)
    new = copy.deepcopy(old)
    new["payload"].update(added)
    parsed = CONTRACTS.parse(new)
    assert {name: getattr(parsed.payload, name) for name in added} == added
    assert parsed.to_dict() == new
    new["payload"][bad_field] = bad_value
    with pytest.raises(InvalidEvent):
        CONTRACTS.parse(new)


def test_crime_management_role_is_a_contract_role_and_older_other_records_stay_valid():
    """Crime-management (administrative) staff have a role of their own (crime_management) in
    cancellations and reclassifications; records written before it, which call them other, stay
    valid. A receiving force is a force code, like the envelope's force (rules-review 1.12 point 5)."""
    schema = CONTRACTS.schemas["urn:cdi:schema:crime.cancelled:1"]
    for role in ("crime_management", "other"):
        record = copy.deepcopy(schema["examples"][0])
        record["payload"].update(cancellation_code="C3", authoriser_role=role)
        assert CONTRACTS.parse(record).payload.authoriser_role == role
    record["payload"]["authoriser_role"] = "crime_manager"
    with pytest.raises(InvalidEvent):
        CONTRACTS.parse(record)
    record["payload"].update(authoriser_role="crime_management", cancellation_code="C1", receiving_force="met police")
    with pytest.raises(InvalidEvent):
        CONTRACTS.parse(record)
    moved = copy.deepcopy(CONTRACTS.schemas["urn:cdi:schema:crime.reclassified:1"]["examples"][0])
    moved["payload"]["role"] = "crime_management"
    assert CONTRACTS.parse(moved).payload.role == "crime_management"
