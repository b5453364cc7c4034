"""police.uk monthly CSV exports as a history source (docs/policeuk.md).

data.police.uk publishes, per force and month, a street file (one row per crime or anti-social
behaviour incident, with the crime's latest outcome) and an outcomes file (one row per outcome
given that month, for crimes of any month). ``read`` turns any mix of them into crime.recorded
and outcome.assigned events through the versioned mapping in ``cdi/reference/policeuk_*.csv``.

What the export does not publish (offender, age, exceptional circumstances, DPP consent, rank,
penalty value, domestic abuse flags, victim views) is null in the events: "not known to the
source", which the rules report as such instead of reading it as "no". Every row that does not
become an event is counted under a reason; none is dropped silently.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cdi.core.times import format_time
from cdi.reference import policeuk as mapping_tables

STREET = "street"
OUTCOMES = "outcomes"
# The columns read. The files carry more (Longitude, Latitude, Location, LSOA code, Context), which
# only feed the event ids, so a file missing one of those still reads.
NEEDED = {
    STREET: frozenset(
        {"Crime ID", "Month", "Reported by", "Falls within", "LSOA name", "Crime type", "Last outcome category"}
    ),
    OUTCOMES: frozenset({"Crime ID", "Month", "Reported by", "Falls within", "LSOA name", "Outcome type"}),
}

ASB = "anti-social behaviour (not a crime)"
NO_CRIME_ID = "no Crime ID"
BAD_CRIME_ID = "Crime ID not usable as an identifier"
NO_FORCE = "no force named (Reported by and Falls within empty)"
NO_OUTCOME_TYPE = "no Outcome type"
ORPHAN = "outcome without a crime in these files"
DUPLICATE = "duplicate of a row already read"
KIND_REASONS = {
    "pending": "no police outcome ({})",
    "court": "court result, not a police outcome ({})",
    "ambiguous": "police outcome spanning several Home Office types ({})",
}

_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/#-]{0,159}$")  # common.v1.json identifier
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_LSOA = re.compile(r"^(?P<area>.*\S)\s+\d{3}[A-Z]$")  # "Maidstone 001A": local authority + code
_FORCE_SUFFIX = re.compile(r"\s+(police service|police|constabulary)$", re.IGNORECASE)


def sniff(path: Path) -> str | None:
    """``"street"`` or ``"outcomes"`` if the file's header row is a police.uk one, else None.

    Safe on any file (gzip, JSON lines, binary): the dispatcher asks it about every input.
    """
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), None)
    except (UnicodeDecodeError, csv.Error):
        return None
    names = {name.strip() for name in header or ()}
    for kind, needed in NEEDED.items():
        if needed <= names:
            return kind
    return None


@dataclass(slots=True)
class PoliceUkImport:
    events: list[dict[str, Any]] = field(default_factory=list)  # valid events, in event-time order
    rows: int = 0  # data rows read, over all files
    unmapped: Counter[str] = field(default_factory=Counter)  # reason -> rows (or row parts) not imported
    files: int = 0
    mapping_version: str = ""

    def summary(self) -> str:
        types = Counter(event["type"] for event in self.events)
        skipped = sorted(self.unmapped.items(), key=lambda item: (-item[1], item[0]))
        rest = ", ".join(f"{n} {reason}" for reason, n in skipped) if skipped else "nothing"
        return (
            f"police.uk import ({self.mapping_version}): {self.files} files, {self.rows} rows -> "
            f"{types['crime.recorded']} crime.recorded and {types['outcome.assigned']} outcome.assigned "
            f"events; not imported: {rest}."
        )


@dataclass(frozen=True, slots=True)
class _Outcome:
    """A police.uk outcome of one crime: an outcomes-file row (dated by its Month), or a street
    file's Last outcome category (undated: the file says only that it is the latest)."""

    crime_id: str
    label: str
    at: int | None
    event_id: str


def read(paths: Sequence[Path]) -> PoliceUkImport:
    """Read street and outcomes files (any mix) into events; see the module docstring."""
    reader = _Reader(mapping_tables.load())
    for path in paths:
        kind = sniff(path)
        if kind is None:
            raise ValueError(f"{path}: not a police.uk street or outcomes file (header not recognised)")
        reader.result.files += 1
        for row, digest in _rows(path, kind):
            reader.result.rows += 1
            reason = reader.street_row(row) if kind == STREET else reader.outcome_row(row, digest)
            if reason:
                reader.result.unmapped[reason] += 1
    return reader.finish()


def _rows(path: Path, kind: str) -> Iterator[tuple[dict[str, str], str]]:
    """Each data row with a digest of its content. A row repeated within one file gets its
    occurrence number in the digest (two people cautioned for one crime give two equal rows),
    so the ids stay the same when the same file is read again."""
    occurrences: Counter[str] = Counter()
    with Path(path).open(newline="", encoding="utf-8-sig") as fh:
        for raw in csv.DictReader(fh):
            row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if isinstance(v, str)}
            content = json.dumps([kind, sorted(row.items())], ensure_ascii=False)
            occurrences[content] += 1
            yield row, _digest(content, occurrences[content])


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:32]


class _Reader:
    def __init__(self, mapping: mapping_tables.Mapping) -> None:
        self.mapping = mapping
        self.result = PoliceUkImport(mapping_version=mapping.version)
        self.crimes: dict[str, tuple[int, str, str]] = {}  # crime id -> earliest (at, force, division)
        self.outcomes: list[_Outcome] = []
        self.seen: set[str] = set()  # event ids
        self.timed: list[tuple[int, int, str, dict[str, Any]]] = []  # (at, crimes first, event id, event)

    def street_row(self, row: dict[str, str]) -> str | None:
        label, crime_id = row["Crime type"], row["Crime ID"]
        crime_type = self.mapping.crime_type(label)
        if crime_type is not None and crime_type.not_a_crime:
            return ASB
        if crime_type is None:
            return f"unknown crime type '{label}'"
        if problem := _row_problem(row):
            return problem
        # The id leaves out Last outcome category: a later download of the same month, with a
        # newer outcome, gives the same crime.recorded event and is recognised as a duplicate.
        event_id = f"policeuk:crime:{_digest({k: v for k, v in row.items() if k != 'Last outcome category'})}"
        if event_id in self.seen:
            return DUPLICATE
        self.seen.add(event_id)
        at, force, division = _month_start(row["Month"]), _force(row), _division(row)
        if crime_id not in self.crimes or at < self.crimes[crime_id][0]:
            self.crimes[crime_id] = (at, force, division)
        payload = {
            "crime_id": crime_id,
            "incident_id": None,
            "hocr_code": crime_type.hocr_code,
            "offence_group": crime_type.offence_group,
        }
        self._add(at, 0, _envelope(event_id, "crime.recorded", at, force, division, payload))
        if last := row["Last outcome category"]:
            self.outcomes.append(_Outcome(crime_id, last, None, f"policeuk:last-outcome:{_digest(event_id, last)}"))
        return None

    def outcome_row(self, row: dict[str, str], digest: str) -> str | None:
        if problem := _row_problem(row):
            return problem
        if not row["Outcome type"]:
            return NO_OUTCOME_TYPE
        event_id = f"policeuk:outcome:{digest}"
        if event_id in self.seen:
            return DUPLICATE
        self.seen.add(event_id)
        self.outcomes.append(_Outcome(row["Crime ID"], row["Outcome type"], _month_start(row["Month"]), event_id))
        return None

    def finish(self) -> PoliceUkImport:
        """Outcomes become events once every crime is known, whatever order the files came in."""
        dated = {self._same(o) for o in self.outcomes if o.at is not None}
        for o in self.outcomes:
            if o.at is None and self._same(o) in dated:
                continue  # the outcomes file has it too, with its month: that one is used
            if reason := self._outcome(o):
                self.result.unmapped[reason] += 1
        self.result.events = [event for *_, event in sorted(self.timed, key=lambda t: t[:3])]
        return self.result

    def _same(self, o: _Outcome) -> tuple[str, object]:
        """One outcome of one crime, however it was spelt and in whichever file."""
        category = self.mapping.outcome(o.label)
        if category is not None and category.outcome_type is not None:
            return o.crime_id, category.outcome_type
        return o.crime_id, mapping_tables.label_key(o.label)

    def _outcome(self, o: _Outcome) -> str | None:
        category = self.mapping.outcome(o.label)
        if category is None:
            return f"unknown outcome '{o.label}'"
        if category.outcome_type is None:
            return KIND_REASONS[category.kind].format(category.category)
        if o.crime_id not in self.crimes:
            return ORPHAN
        crime_at, force, division = self.crimes[o.crime_id]
        # Never before its crime (that would be a data error); an undated last outcome takes the
        # crime's own time, the earliest it can have been given.
        at = crime_at if o.at is None else max(o.at, crime_at)
        payload = _outcome_payload(o.crime_id, category.outcome_type)
        self._add(at, 1, _envelope(o.event_id, "outcome.assigned", at, force, division, payload))
        return None

    def _add(self, at: int, order: int, event: dict[str, Any]) -> None:
        self.timed.append((at, order, event["event_id"], event))


def _row_problem(row: dict[str, str]) -> str | None:
    if not row["Crime ID"]:
        return NO_CRIME_ID
    if not _IDENTIFIER.match(row["Crime ID"]):
        return BAD_CRIME_ID
    if not _MONTH.match(row["Month"]):
        return f"malformed Month '{row['Month']}'"
    if not _force(row):
        return NO_FORCE
    return None


def _outcome_payload(crime_id: str, outcome_type: int) -> dict[str, Any]:
    # None throughout: the export publishes none of these, and a guess either way would make the
    # rules pass or fail a decision on invented facts.
    unknown = (
        "offender_ref",
        "offender_age",
        "decision_maker_rank",
        "exceptional_circumstances",
        "dpp_consent",
        "penalty_value",
        "domestic_abuse",
        "intimate_partner",
        "victim_views_recorded",
    )
    return {"crime_id": crime_id, "outcome_type": outcome_type, **dict.fromkeys(unknown)}


def _envelope(event_id: str, type_: str, at: int, force: str, division: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": type_,
        "schema_version": 1,
        "occurred_at": format_time(at),
        "force": force,
        "division": division,
        "payload": payload,
    }


def _month_start(month: str) -> int:
    """A Month is all the export says of when: its first day, 00:00 UTC."""
    year, number = (int(part) for part in month.split("-"))
    return int(datetime(year, number, 1, tzinfo=UTC).timestamp() * 1000)


def _unit(text: str) -> str:
    """A force or division code as the contracts allow: upper case, hyphens, at most 32 characters."""
    plain = unicodedata.normalize("NFKD", text.replace("&", " and ")).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]+", "-", plain.upper()).strip("-")[:32].rstrip("-")


def _force_unit(name: str) -> str:
    short = _FORCE_SUFFIX.sub("", name.strip())  # "Kent Police" -> KENT
    return _unit(short) or _unit(name)


def _force(row: dict[str, str]) -> str:
    return _force_unit(row["Reported by"] or row["Falls within"])


def _division(row: dict[str, str]) -> str:
    """The local authority of the crime's LSOA ("Maidstone 001A" -> MAIDSTONE); crimes published
    without a location fall back to the force area they fall within."""
    match = _LSOA.match(row["LSOA name"])
    area = _unit(match["area"]) if match else ""
    return area or _force_unit(row["Falls within"]) or _force(row)
