"""Loads the versioned reference tables in this folder into the core's lookups."""

from __future__ import annotations

import csv
import tomllib
from functools import cache
from pathlib import Path

from cdi.core.reference import (
    IncidentCode,
    OffenceCode,
    OffencePolicy,
    OutcomeType,
    ReferenceData,
    cancellation_authority,
    specified_offences,
)

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
            row["code"],
            row["description"],
            row["stage"],
            row["class"],
            row["offence_group"] or None,
            row.get("rape") == "true",
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
    specified = specified_offences(_rows(files["specified_either_way"]["path"]))
    restricted = {code for row in specified for code in row.hocr_codes}
    policies = {
        row["code"]: OffencePolicy(
            row["code"],
            "specified_either_way" if row["code"] in restricted else None,
            row["pnd_eligible"] == "true",
            float(row["pnd_value_limit"]) if row["pnd_value_limit"] else None,
            row["high_harm"] == "true",
            row["fast_outcome_watch"] == "true",
            row["rape"] == "true",
            row["cannabis"] == "true",
        )
        for row in _rows(files["offence_policies"]["path"])
    }
    for code in sorted(restricted - policies.keys()):  # a class SI 2015/790 lists, with no other policy
        policies[code] = OffencePolicy(code, "specified_either_way", False, None, False, False, False, False)
    outcome_types = {
        int(row["type"]): OutcomeType(
            int(row["type"]),
            row["name"],
            row["disposal"] or None,
            row["out_of_court"] == "true",
            row["unsuccessful"] == "true",
        )
        for row in _rows(files["outcome_types"]["path"])
    }
    authority = files["cancellation_authority"]
    return ReferenceData(
        manifest["version"],
        incident_codes,
        offence_codes,
        policies,
        outcome_types,
        cancellation_authority=cancellation_authority(_rows(authority["path"]), authority.get("editions")),
        specified_offences=specified,
    )
