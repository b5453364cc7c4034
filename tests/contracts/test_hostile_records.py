"""Records a buggy or hostile upstream could send: each is rejected with a reason, none escapes as
an unforeseen exception, and no rejection text quotes a value from the record."""

from __future__ import annotations

import orjson
import pytest

from cdi.contracts import MALFORMED, SCHEMA, UNKNOWN_TYPE, Contracts, InvalidEvent

CONTRACTS = Contracts()
GOOD = {
    "event_id": "ev-1",
    "type": "incident.opened",
    "schema_version": 1,
    "occurred_at": "2026-03-02T10:00:00Z",
    "force": "SYNTH",
    "division": "NORTH",
    "payload": {"incident_id": "INC-1", "opening_code": "ASSAULT"},
}
PERSON = "John Smith 1980-04-01 12 High Street"


def _with(**changes: object) -> bytes:
    return orjson.dumps({**GOOD, **changes})


def _nested(depth: int) -> bytes:
    return orjson.dumps(GOOD)[:-1] + b',"extra":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"


HOSTILE = [
    ("leap second", _with(occurred_at="2026-06-30T23:59:60Z"), SCHEMA),
    ("year zero", _with(occurred_at="0000-01-01T00:00:00Z"), SCHEMA),
    ("hour 24", _with(occurred_at="2026-03-02T24:00:00Z"), SCHEMA),
    ("array 255 deep", b"[" * 255 + b"]" * 255, MALFORMED),
    ("object 300 deep inside an event", _nested(300), MALFORMED),
    ("object 1000 deep inside an event", _nested(1000), MALFORMED),
    ("nesting past the parser's limit", b"[" * 5000 + b"]" * 5000, MALFORMED),
    ("huge integer", b'{"type": 1' + b"0" * 5000 + b"}", MALFORMED),
    ("NaN", b'{"a": NaN}', MALFORMED),
    ("empty", b"", MALFORMED),
    ("invalid UTF-8", b'{"type": "\xff\xfe"}', MALFORMED),
    ("a name as the type", _with(type=PERSON), UNKNOWN_TYPE),
    ("a name as the division", _with(division=PERSON), SCHEMA),
    ("a name as an extra field", _with(**{PERSON: PERSON}), SCHEMA),
    ("a name in the payload", _with(payload={"incident_id": PERSON, "opening_code": "ASSAULT"}), SCHEMA),
]


@pytest.mark.parametrize(("raw", "reason"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_records_are_rejected_with_a_reason_and_no_values(raw, reason):
    with pytest.raises(InvalidEvent) as caught:
        CONTRACTS.decode(raw)
    assert caught.value.reason == reason
    for text in (caught.value.detail, caught.value.summary, str(caught.value)):
        assert "John" not in text and "1980" not in text and "High" not in text


def test_the_detail_names_the_field_and_the_rule_broken():
    with pytest.raises(InvalidEvent) as caught:
        CONTRACTS.decode(_with(division=PERSON))
    assert caught.value.detail == "/division: fails the contract's 'pattern' rule"
