"""The audit's two contracts: their examples are valid, what the code writes validates and reads
back the same, the combinations the issue forbids are refused, and the monitor's workers refuse
both as events they do not read (as they do case.action)."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema_rs
import orjson
import pytest

from cdi import backtest
from cdi.audit.sample import AuditSample, draw_sample
from cdi.audit.verdicts import Verdict, disposal_reasons, finding_reasons, simulated_review
from cdi.contracts import SCHEMA, UNKNOWN_TYPE, Contracts, InvalidEvent
from cdi.history import write_events

CONTRACTS = Contracts()
SAMPLE = "urn:cdi:schema:audit.sample:1"
VERDICT = "urn:cdi:schema:audit.verdict:1"


@pytest.mark.parametrize("schema_id", [SAMPLE, VERDICT])
def test_the_schemas_are_valid_and_their_examples_pass(schema_id: str) -> None:
    schema = CONTRACTS.schemas[schema_id]
    assert jsonschema_rs.meta.is_valid(schema)
    assert schema["examples"]
    for example in schema["examples"]:
        CONTRACTS.check(example)


@pytest.mark.parametrize("schema_id", [SAMPLE, VERDICT])
def test_the_worker_refuses_them_as_unknown_types(schema_id: str) -> None:
    for example in CONTRACTS.schemas[schema_id]["examples"]:
        with pytest.raises(InvalidEvent) as refused:
            CONTRACTS.decode(orjson.dumps(example))
        assert refused.value.reason == UNKNOWN_TYPE


def test_a_history_holding_audit_events_dead_letters_them(tmp_path) -> None:
    """Offline, as the stream worker does: an audit event in the input is a dead letter of reason
    unknown_type, never applied."""
    examples = [*CONTRACTS.schemas[SAMPLE]["examples"], *CONTRACTS.schemas[VERDICT]["examples"]]
    opened = copy.deepcopy(CONTRACTS.schemas["urn:cdi:schema:incident.opened:1"]["examples"][0])
    path = tmp_path / "mixed.jsonl"
    write_events(path, [opened, *examples])
    result = backtest.run(path)
    assert sum(result.events.values()) == 1
    assert [d.reason for d in result.dead_letters] == [UNKNOWN_TYPE] * len(examples)


def test_a_drawn_sample_validates_and_reads_back(month) -> None:
    drawn = draw_sample(month.population, 5, size=300, findings_per_rule=5, disposals=20)
    event = orjson.loads(orjson.dumps(drawn.to_event()))
    CONTRACTS.check(event)
    assert AuditSample.from_event(event) == drawn


def test_the_simulated_reviewer_writes_valid_verdicts_that_read_back(month) -> None:
    drawn = draw_sample(month.population, 5, size=300, findings_per_rule=10, disposals=40)
    review = simulated_review(drawn, month.audit_truth, error_rate=0.2, seed=1)
    assert len(review.events) == len(drawn.items) and not review.missing
    kinds = set()
    for event in review.events:
        CONTRACTS.check(event)
        verdict = Verdict.from_event(event)
        assert verdict.to_event(event["force"], event["division"]) == event
        kinds.add((verdict.kind, verdict.verdict))
    # every kind of verdict occurs: crimes and not, confirmed and not, appropriate and not
    assert {k for k, _ in kinds} == {"incident", "finding", "disposal"}
    assert {"crime", "no_crime", "confirmed", "not_a_breach", "appropriate", "not_appropriate"} <= {v for _, v in kinds}


def _verdict(kind: str, verdict: str, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"sample_id": "s-1", "item": {"kind": kind, "id": "X-1"}, "verdict": verdict}
    payload |= fields
    payload |= {"by": "FCR-7", "role": "registrar"}
    return {
        "event_id": "v-1",
        "type": "audit.verdict",
        "schema_version": 1,
        "occurred_at": "2026-04-02T10:00:00+00:00",
        "force": "KENT",
        "division": "NORTH",
        "payload": payload,
    }


ALLOWED = [
    _verdict("incident", "crime", crime_recorded=False, offence_group="theft", hocr_code="49"),
    _verdict("incident", "crime", crime_recorded=True),
    _verdict("incident", "no_crime", crime_recorded=False),
    _verdict("incident", "n100", crime_recorded=True, note="held as N100 pending the victim's account"),
    _verdict("finding", "confirmed"),
    *[_verdict("finding", "not_a_breach", reason=reason) for reason in finding_reasons()],
    _verdict("disposal", "appropriate"),
    *[_verdict("disposal", "not_appropriate", reason=reason) for reason in disposal_reasons()],
]

REFUSED = [
    (_verdict("incident", "confirmed", crime_recorded=False), "a finding's verdict on an incident"),
    (_verdict("incident", "crime"), "incident without crime_recorded"),
    (_verdict("incident", "no_crime", crime_recorded=False, offence_group="theft"), "offence on a no-crime verdict"),
    (_verdict("incident", "crime", crime_recorded=False, reason="other"), "reason on an incident"),
    (_verdict("finding", "not_a_breach"), "not a breach without a reason"),
    (_verdict("finding", "not_a_breach", reason="because"), "reason outside the fixed list"),
    (_verdict("finding", "not_a_breach", reason="offending_history"), "a disposal's reason on a finding"),
    (_verdict("finding", "confirmed", reason="other"), "reason on a confirmed finding"),
    (_verdict("finding", "confirmed", crime_recorded=True), "incident field on a finding"),
    (_verdict("disposal", "not_appropriate"), "not appropriate without a reason"),
    (_verdict("disposal", "crime"), "an incident's verdict on a disposal"),
    (_verdict("incident", "crime", crime_recorded=False, note="x" * 1001), "note too long"),
    (_verdict("incident", "crime", crime_recorded=False, victim="Jane Doe"), "unknown field"),
]


@pytest.mark.parametrize("record", ALLOWED, ids=lambda r: f"{r['payload']['item']['kind']}-{r['payload']['verdict']}")
def test_verdicts_the_issue_allows(record: dict[str, Any]) -> None:
    CONTRACTS.check(record)


@pytest.mark.parametrize(("record", "why"), REFUSED, ids=[why for _, why in REFUSED])
def test_verdicts_the_issue_forbids(record: dict[str, Any], why: str) -> None:
    with pytest.raises(InvalidEvent) as refused:
        CONTRACTS.check(record)
    assert refused.value.reason == SCHEMA


@pytest.mark.parametrize(
    ("field", "value"),
    [("by", "John Smith"), ("role", "operator"), ("sample_id", "has spaces")],
)
def test_reviewers_are_pseudonymous_registrars(field: str, value: str) -> None:
    record = _verdict("finding", "confirmed")
    record["payload"][field] = value
    with pytest.raises(InvalidEvent):
        CONTRACTS.check(record)


def test_the_sample_contract_refuses_a_broken_design() -> None:
    example = CONTRACTS.schemas[SAMPLE]["examples"][0]
    for path, value in [
        (("payload", "design", "strata", 0, "population"), 0),
        (("payload", "items", 0, "weight"), 0.5),
        (("payload", "items", 0, "kind"), "crime"),
        (("payload", "items", 0, "stratum"), "incident/north/theft"),
        (("payload", "seed"), -1),
    ]:
        record = copy.deepcopy(example)
        target = record
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
        with pytest.raises(InvalidEvent):
            CONTRACTS.check(record)
