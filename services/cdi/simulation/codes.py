"""The force's code tables as the simulator sees them: incident codes and HOCR codes.

Read from ``cdi/reference`` (the same tables the rules read), so the simulator can only emit codes
the monitor knows and every class/offence-group decision agrees with the monitor's view.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"

# Incident code classes (incident_codes.csv column `class`).
CRIME = "crime"
CRIMED = "crimed"
NON_CRIME = "non_crime"
SINK = "sink"
ADMIN = "admin"
# Closing classes that, with a rationale, explain why a crime-indicative incident was not crimed.
EXPLAINING_CLASSES = frozenset({NON_CRIME, SINK, ADMIN})


@dataclass(frozen=True)
class IncidentCode:
    code: str
    stage: str  # opening, closing or both
    klass: str
    offence_group: str | None

    @property
    def can_open(self) -> bool:
        return self.stage in ("opening", "both")

    @property
    def can_close(self) -> bool:
        return self.stage in ("closing", "both")


@dataclass(frozen=True)
class HocrCode:
    code: str
    offence_group: str
    victim_based: bool


@dataclass(frozen=True)
class CodeTables:
    incident: dict[str, IncidentCode]
    hocr: dict[str, HocrCode]

    def klass(self, code: str) -> str:
        return self.incident[code].klass

    def is_crime(self, code: str) -> bool:
        return self.incident[code].klass == CRIME


def _rows(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@cache
def load_codes() -> CodeTables:
    incident = {
        row["code"]: IncidentCode(row["code"], row["stage"], row["class"], row["offence_group"] or None)
        for row in _rows("incident_codes.csv")
    }
    hocr = {
        row["code"]: HocrCode(row["code"], row["offence_group"], row["victim_based"] == "true")
        for row in _rows("hocr_codes.csv")
    }
    return CodeTables(incident, hocr)
