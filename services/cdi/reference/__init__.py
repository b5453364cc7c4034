"""Loads the versioned reference tables in this folder into the core's lookups."""

from __future__ import annotations

import csv
import tomllib
from functools import cache
from pathlib import Path

from cdi.core.reference import IncidentCode, OffenceCode, ReferenceData

HERE = Path(__file__).parent


def _rows(name: str) -> list[dict[str, str]]:
    with (HERE / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@cache
def load() -> ReferenceData:
    manifest = tomllib.loads((HERE / "manifest.toml").read_text(encoding="utf-8"))
    files = manifest["files"]
    incident_codes = {
        row["code"]: IncidentCode(
            row["code"], row["description"], row["stage"], row["class"], row["offence_group"] or None
        )
        for row in _rows(files["incident_codes"]["path"])
    }
    offence_codes = {
        row["code"]: OffenceCode(
            row["code"],
            row["offence"],
            row["offence_group"],
            row["mode_of_trial"],
            int(row["seriousness"]),
            row["victim_based"] == "true",
        )
        for row in _rows(files["hocr_codes"]["path"])
    }
    return ReferenceData(manifest["version"], incident_codes, offence_codes)
