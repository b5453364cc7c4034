"""Loads the versioned police.uk mapping (``policeuk_*.csv``, registered in manifest.toml).

Labels are matched case-insensitively and with spaces collapsed, because the published files
have not always kept one spelling (docs/policeuk.md); the tables keep the spelling as published.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache

from cdi.reference import HERE, _rows

MODES = frozenset({"indictable_only", "either_way", "summary", "mixed"})
KINDS = frozenset({"police", "pending", "court", "ambiguous"})


def label_key(label: str) -> str:
    return " ".join(label.split()).casefold()


@dataclass(frozen=True, slots=True)
class CrimeType:
    crime_type: str
    offence_group: str | None  # None only for anti-social behaviour
    hocr_code: str | None  # None: no one Home Office code behaves as the whole category does
    mode_of_trial: str | None  # one of MODES; None only for anti-social behaviour
    not_a_crime: bool


@dataclass(frozen=True, slots=True)
class OutcomeCategory:
    category: str
    outcome_type: int | None  # set exactly when kind is "police"
    kind: str  # one of KINDS


@dataclass(frozen=True, slots=True)
class Mapping:
    version: str
    crime_types: dict[str, CrimeType]  # by label_key
    outcomes: dict[str, OutcomeCategory]  # by label_key

    def crime_type(self, label: str) -> CrimeType | None:
        return self.crime_types.get(label_key(label))

    def outcome(self, label: str) -> OutcomeCategory | None:
        return self.outcomes.get(label_key(label))


@cache
def load() -> Mapping:
    manifest = tomllib.loads((HERE / "manifest.toml").read_text(encoding="utf-8"))
    files = manifest["files"]
    crime_types = {}
    for row in _rows(files["policeuk_crime_types"]["path"]):
        entry = CrimeType(
            row["crime_type"],
            row["offence_group"] or None,
            row["hocr_code"] or None,
            row["mode_of_trial"] or None,
            row["not_a_crime"] == "true",
        )
        if not entry.not_a_crime and (entry.offence_group is None or entry.mode_of_trial not in MODES):
            raise ValueError(f"policeuk_crime_types.csv: {entry.crime_type!r} needs an offence group and a mode")
        crime_types[label_key(entry.crime_type)] = entry
    outcomes = {}
    for row in _rows(files["policeuk_outcomes"]["path"]):
        outcome = OutcomeCategory(
            row["category"], int(row["outcome_type"]) if row["outcome_type"] else None, row["kind"]
        )
        if outcome.kind not in KINDS or (outcome.kind == "police") != (outcome.outcome_type is not None):
            raise ValueError(f"policeuk_outcomes.csv: {outcome.category!r} has kind {outcome.kind!r}")
        outcomes[label_key(outcome.category)] = outcome
    return Mapping(manifest["policeuk"]["version"], crime_types, outcomes)
