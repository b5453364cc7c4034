"""Plain readers for tests: reference tables straight from the CSVs, times by fromisoformat.

Deliberately independent of the simulator's and the monitor's own loaders.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE = REPO_ROOT / "services" / "cdi" / "reference"


def table(name: str, key: str = "code") -> dict[str, dict[str, str]]:
    with (REFERENCE / name).open(newline="", encoding="utf-8") as fh:
        return {row[key]: row for row in csv.DictReader(fh)}


INCIDENT_CODES = table("incident_codes.csv")
HOCR_CODES = table("hocr_codes.csv")
POLICIES = table("offence_policies.csv")  # codes not listed carry no restriction
OUTCOME_TYPES = table("outcome_types.csv", key="type")
with (REFERENCE / "specified_either_way.csv").open(newline="", encoding="utf-8") as _fh:
    SPECIFIED_OFFENCES = list(csv.DictReader(_fh))  # SI 2015/790, one row per offence and class
with (REFERENCE / "cancellation_authority.csv").open(newline="", encoding="utf-8") as _fh:
    CANCEL_AUTHORITY = list(csv.DictReader(_fh))  # one row per edition, code and gravity


def policy(code: str, column: str) -> str:
    return POLICIES.get(code, {}).get(column, "")


def code_class(code: str) -> str:
    return INCIDENT_CODES[code]["class"]


def ms(text: str) -> int:
    return round(datetime.fromisoformat(text).timestamp() * 1000)


def by_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [event for event in events if event["type"] == kind]


def distinct(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """First copy of every event, in file order."""
    unique: dict[str, dict[str, Any]] = {}
    for event in events:
        unique.setdefault(event["event_id"], event)
    return list(unique.values())
