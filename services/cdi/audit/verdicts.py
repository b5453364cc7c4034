"""Reviewers' verdicts on audit sample items, as ``audit.verdict`` events
(schemas/audit.verdict.v1.json), and the simulated reviewer that gives them from the simulator's
audit truth.

Verdicts are keyed by the item: the latest on an item (by event time, then event id) stands, so
a correction is a new event and a file or topic of verdicts replays to the same state; the same
event twice (same event id) counts once. Reasons come from the contract's fixed lists.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from cdi.audit.sample import AuditSample, Item
from cdi.contracts import MALFORMED, Contracts, InvalidEvent
from cdi.core.times import MS_PER_MINUTE, format_time, parse_time
from cdi.history import read_lines

TYPE = "audit.verdict"
SCHEMA_VERSION = 1
REGISTRAR = "registrar"
CRIME, NO_CRIME, N100 = "crime", "no_crime", "n100"
CONFIRMED, NOT_A_BREACH = "confirmed", "not_a_breach"
APPROPRIATE, NOT_APPROPRIATE = "appropriate", "not_appropriate"
OTHER = "other"
NOTE_LIMIT = 1000


@cache
def _contract() -> dict[str, Any]:
    return Contracts().schemas[f"urn:cdi:schema:{TYPE}:{SCHEMA_VERSION}"]


def finding_reasons() -> tuple[str, ...]:
    """Why a finding is not a breach: the contract's list."""
    return tuple(_contract()["$defs"]["finding_reason"]["enum"])


def disposal_reasons() -> tuple[str, ...]:
    """Why a disposal is not appropriate: the contract's list."""
    return tuple(_contract()["$defs"]["disposal_reason"]["enum"])


@cache
def offence_groups() -> frozenset[str]:
    return frozenset(Contracts().schemas["urn:cdi:schema:common:1"]["$defs"]["offence_group"]["enum"])


@dataclass(frozen=True, slots=True)
class Verdict:
    sample_id: str
    kind: str
    id: str
    verdict: str
    by: str
    at: int
    event_id: str
    crime_recorded: bool | None = None
    offence_group: str | None = None
    hocr_code: str | None = None
    reason: str | None = None
    note: str | None = None

    @classmethod
    def from_event(cls, record: Mapping[str, Any]) -> Verdict:
        p = record["payload"]
        return cls(
            p["sample_id"],
            p["item"]["kind"],
            p["item"]["id"],
            p["verdict"],
            p["by"],
            parse_time(record["occurred_at"]),
            record["event_id"],
            p.get("crime_recorded"),
            p.get("offence_group"),
            p.get("hocr_code"),
            p.get("reason"),
            p.get("note"),
        )

    def to_event(self, force: str, division: str) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "sample_id": self.sample_id,
            "item": {"kind": self.kind, "id": self.id},
            "verdict": self.verdict,
        }
        optional = {
            "crime_recorded": self.crime_recorded,
            "offence_group": self.offence_group,
            "hocr_code": self.hocr_code,
            "reason": self.reason,
            "note": self.note,
        }
        payload |= {key: value for key, value in optional.items() if value is not None}
        payload |= {"by": self.by, "role": REGISTRAR}
        return {
            "event_id": self.event_id,
            "type": TYPE,
            "schema_version": SCHEMA_VERSION,
            "occurred_at": format_time(self.at),
            "force": force,
            "division": division,
            "payload": payload,
        }


class VerdictFileError(ValueError):
    """A verdicts file that holds a record no contract allows."""


@dataclass(slots=True)
class Verdicts:
    standing: dict[tuple[str, str], Verdict]  # the verdict that stands, by (kind, id)
    sample_ids: set[str]
    events: int = 0  # verdict events read, corrections and duplicates included
    duplicates: int = 0
    other_records: int = 0  # records of other types in the file (a case-actions export, say)


def latest(verdicts: Iterable[Verdict]) -> dict[tuple[str, str], Verdict]:
    """The verdict that stands on each item: the latest by (event time, event id)."""
    out: dict[tuple[str, str], Verdict] = {}
    for v in verdicts:
        key = (v.kind, v.id)
        held = out.get(key)
        if held is None or (v.at, v.event_id) > (held.at, held.event_id):
            out[key] = v
    return out


def merged(*found: Verdicts) -> Verdicts:
    """Verdicts of several sources (a topic and files) as one: the latest on each item stands,
    whichever source holds it, and the same event in two sources counts once."""
    return Verdicts(
        latest(v for part in found for v in part.standing.values()),
        set().union(*(part.sample_ids for part in found)),
        events=sum(part.events for part in found),
        duplicates=sum(part.duplicates for part in found),
        other_records=sum(part.other_records for part in found),
    )


def read(paths: Sequence[str | Path], sample_id: str | None = None, contracts: Contracts | None = None) -> Verdicts:
    """The verdicts of JSON-lines files (plain or gzip), every record checked against its
    contract; only those of ``sample_id`` when given."""
    contracts = contracts or Contracts()
    seen: set[str] = set()
    found: list[Verdict] = []
    result = Verdicts({}, set())
    for path in paths:
        for number, raw in read_lines(path):
            try:
                record = checked_record(contracts, raw)
            except InvalidEvent as exc:
                raise VerdictFileError(f"{Path(path).name}:{number}: {exc.detail}") from None
            if record.get("type") != TYPE:
                result.other_records += 1
                continue
            result.events += 1
            if record["event_id"] in seen:
                result.duplicates += 1
                continue
            seen.add(record["event_id"])
            verdict = Verdict.from_event(record)
            result.sample_ids.add(verdict.sample_id)
            if sample_id is None or verdict.sample_id == sample_id:
                found.append(verdict)
    result.standing = latest(found)
    return result


def checked_record(contracts: Contracts, raw: bytes) -> dict[str, Any]:
    """A JSON line as a record valid against its contract (any known type), else InvalidEvent
    (whose detail quotes no value from the record)."""
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidEvent(MALFORMED, "not JSON") from None
    try:
        contracts.check(record)
    except InvalidEvent:
        raise
    except Exception as exc:  # the validator itself gave up (extreme nesting, say)
        raise InvalidEvent(MALFORMED, f"cannot be validated ({type(exc).__name__})") from None
    return record


def event_id(sample_id: str, kind: str, item_id: str, reviewer: str) -> str:
    digest = hashlib.sha256(f"{sample_id}\x1f{kind}\x1f{item_id}\x1f{reviewer}".encode()).hexdigest()
    return f"verdict-{digest[:24]}"


# -- the simulated reviewer ---------------------------------------------------------------------


@dataclass(slots=True)
class Review:
    events: list[dict[str, Any]]
    missing: list[Item]  # sample items the audit truth does not know
    flipped: int = 0


def _group_of(item: Item) -> str | None:
    group = item.stratum.rsplit("/", 1)[-1]
    return group if group in offence_groups() else None


def _incident(item: Item, truth: Mapping[str, Any], flip: bool) -> dict[str, Any]:
    judged = truth["should_record"]
    if flip:
        judged = NO_CRIME if judged == CRIME else CRIME
    out: dict[str, Any] = {"verdict": judged, "crime_recorded": bool(truth.get("recorded"))}
    if judged == CRIME:
        group = truth.get("offence_group") if not flip else None
        out["offence_group"] = group if group in offence_groups() else _group_of(item)
        code = truth.get("hocr_code")
        if not flip and isinstance(code, str) and code:
            out["hocr_code"] = code
    return out


def _finding(truth: Mapping[str, Any], flip: bool) -> dict[str, Any]:
    breach = bool(truth.get("breach")) != flip
    if breach:
        return {"verdict": CONFIRMED}
    reason = truth.get("reason")
    if flip or reason not in finding_reasons():
        note = "simulated reviewer error" if flip else f"audit truth reason: {reason or 'none given'}"
        return {"verdict": NOT_A_BREACH, "reason": OTHER, "note": note[:NOTE_LIMIT]}
    return {"verdict": NOT_A_BREACH, "reason": reason}


def _disposal(truth: Mapping[str, Any], flip: bool) -> dict[str, Any]:
    appropriate = bool(truth.get("appropriate")) != flip
    if appropriate:
        return {"verdict": APPROPRIATE}
    reason = truth.get("reason")
    if flip or reason not in disposal_reasons():
        note = "simulated reviewer error" if flip else "the audit truth gives no reason"
        return {"verdict": NOT_APPROPRIATE, "reason": OTHER, "note": note}
    return {"verdict": NOT_APPROPRIATE, "reason": reason}


def truth_index(truth: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """The audit truth's units by (kind, id)."""
    return {(unit["kind"], str(unit["id"])): unit for unit in truth}


def simulated_review(
    sample: AuditSample,
    truth: Iterable[Mapping[str, Any]] | Mapping[tuple[str, str], Mapping[str, Any]],
    *,
    error_rate: float = 0.0,
    seed: int = 0,
    reviewer: str = "S-0001",
) -> Review:
    """One verdict per sample item, as the audit truth has it; each flipped to the opposite
    verdict with probability ``error_rate`` (seeded: one draw per item, in item order, whatever
    the rate). Verdicts are dated a minute apart from the sample's drawing. ``truth`` is the audit
    truth's units, or ``truth_index`` of them."""
    if not 0 <= error_rate <= 1:
        raise ValueError("the error rate must lie in [0, 1]")
    known = truth if isinstance(truth, Mapping) else truth_index(truth)
    rng = random.Random(seed)
    review = Review([], [])
    for number, item in enumerate(sample.items, start=1):
        flip = rng.random() < error_rate
        unit = known.get((item.kind, item.id))
        if unit is None:
            review.missing.append(item)
            continue
        if item.kind == "incident":
            fields = _incident(item, unit, flip)
        elif item.kind == "finding":
            fields = _finding(unit, flip)
        else:
            fields = _disposal(unit, flip)
        review.flipped += flip
        verdict = Verdict(
            sample.sample_id,
            item.kind,
            item.id,
            fields.pop("verdict"),
            reviewer,
            sample.end + number * MS_PER_MINUTE,
            event_id(sample.sample_id, item.kind, item.id, reviewer),
            **fields,
        )
        review.events.append(verdict.to_event(sample.force, item.division))
    return review
