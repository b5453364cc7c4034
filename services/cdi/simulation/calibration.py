"""Calibration of the synthetic force: offence mix, report-hour profile, division weights and
offenders' criminal histories.

The numbers live in ``calibration.toml`` next to this module. Those marked *derived* come from
the Seattle PD 911 sample in ``shared/data`` via :func:`derive_from_seattle`, and the
``[criminal_history]`` bands from the MoJ criminal-history data via
:func:`~cdi.simulation.criminal_history.derive_from_moj`; tests rerun both against the CSVs. The
``[assumptions]`` and ``[casework]`` tables hold engineering defaults that no stored data gives.
"""

from __future__ import annotations

import csv
import tomllib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from cdi.simulation.codes import can_open, load_reference
from cdi.simulation.criminal_history import CriminalHistory

CALIBRATION_PATH = Path(__file__).with_name("calibration.toml")

# Seattle `Initial Type Group` -> force incident opening code (incident_codes.csv). Seattle has no
# domestic, rape or arson call groups, so those codes get only the pseudo-count (see calibration.toml).
SEATTLE_GROUP_CODES: dict[str, str] = {
    "ANIMAL COMPLAINTS": "PUBLIC_SAFETY",
    "ASSAULTS": "ASSAULT",
    "AUTO RECOVERIES": "VEHICLE_CRIME",  # descriptions are "AUTO THEFT - VEH THEFT OR THEFT AND RECOVERY"
    "CASUALTIES": "CONCERN_FOR_WELFARE",
    "COMMERCIAL BURGLARIES": "BURGLARY_OTHER",
    "CRISIS CALL": "CONCERN_FOR_WELFARE",
    "DISTURBANCES": "ASB_PERSONAL",
    "FRAUD CALLS": "THEFT",  # no fraud code in the table; fraud is theft-like acquisitive crime
    "GUN CALLS": "WEAPONS",
    "HAZARDS": "PUBLIC_SAFETY",
    "LIQUOR VIOLATIONS": "CONCERN_FOR_WELFARE",  # 40 of 41 are detox requests/pick-ups
    "MISCELLANEOUS MISDEMEANORS": "ASB_NUISANCE",  # mostly "NUISANCE - MISCHIEF"
    "NARCOTICS COMPLAINTS": "DRUGS",
    "NOISE DISTURBANCE": "ASB_NUISANCE",
    "PARKING VIOLATIONS": "ASB_NUISANCE",  # inconsiderate parking is logged as nuisance ASB in E&W
    "PARKS EXCLUSIONS": "ADMIN",
    "PERSON DOWN/INJURY": "CONCERN_FOR_WELFARE",
    "PERSONS - LOST, FOUND, MISSING": "MISSING_PERSON",
    "PROPERTY - MISSING, FOUND": "LOST_PROPERTY",
    "PROPERTY DAMAGE": "CRIMINAL_DAMAGE",
    "PROWLER": "SUSPICIOUS_CIRCUMSTANCES",
    "RESIDENTIAL BURGLARIES": "BURGLARY_DWELLING",
    "ROBBERY": "ROBBERY",
    "SUSPICIOUS CIRCUMSTANCES": "SUSPICIOUS_CIRCUMSTANCES",
    "THEFT": "THEFT",
    "THREATS, HARASSMENT": "HARASSMENT",
    "TRAFFIC RELATED CALLS": "PUBLIC_SAFETY",
    "TRESPASS": "ASB_NUISANCE",  # trespass is civil in England & Wales
    "VICE CALLS": "PUBLIC_ORDER",  # soliciting
    "WEAPONS CALLS": "WEAPONS",
}
# (group, `Initial Type Subgroup`) refinements where the group lumps codes the force tells apart.
SEATTLE_SUBGROUP_CODES: dict[tuple[str, str], str] = {
    ("SUSPICIOUS CIRCUMSTANCES", "ALACAD"): "ALARM_ACTIVATION",
    ("SUSPICIOUS CIRCUMSTANCES", "LEWD CONDUCT"): "SEXUAL_OFFENCE",  # exposure
    ("THEFT", "SHOPLIFTING"): "SHOPLIFTING",
    ("TRAFFIC RELATED CALLS", "MOTOR VEHICLE COLLISION INVESTIGATION"): "RTC_DAMAGE_ONLY",
}
# Seattle `District/Sector` letter -> precinct, folded onto the four synthetic divisions
# (the Southwest precinct, sectors F and W, joins SOUTH).
SEATTLE_SECTOR_DIVISIONS: dict[str, str] = {
    **dict.fromkeys("BJLNU", "NORTH"),
    **dict.fromkeys("CEG", "EAST"),
    **dict.fromkeys("ORSFW", "SOUTH"),
    **dict.fromkeys("DKMQ", "WEST"),
}
SEATTLE_TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"


def seattle_code(group: str, subgroup: str) -> str:
    """The force incident code for one Seattle CAD row; unknown groups fail loudly."""
    return SEATTLE_SUBGROUP_CODES.get((group, subgroup)) or SEATTLE_GROUP_CODES[group]


def derive_from_seattle(csv_path: str | Path) -> dict[str, Any]:
    """Recompute the derived calibration numbers from the Seattle 911 sample.

    Returns ``rows``, ``opening_codes`` (rows per mapped code), ``report_hours`` (24 counts by
    hour of `Event Clearance Date`, the only timestamp every row has) and ``divisions`` (rows per
    synthetic division; rows without a sector are not counted).
    """
    codes: Counter[str] = Counter()
    hours = [0] * 24
    divisions: Counter[str] = Counter()
    rows = 0
    with Path(csv_path).open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            rows += 1
            codes[seattle_code(row["Initial Type Group"], row["Initial Type Subgroup"])] += 1
            hours[datetime.strptime(row["Event Clearance Date"], SEATTLE_TIME_FORMAT).hour] += 1
            sector = row["District/Sector"].strip()
            if sector:
                divisions[SEATTLE_SECTOR_DIVISIONS[sector]] += 1
    return {
        "rows": rows,
        "opening_codes": dict(sorted(codes.items())),
        "report_hours": hours,
        "divisions": dict(sorted(divisions.items())),
    }


@dataclass(frozen=True)
class Assumptions:
    pseudo_count: int
    weekday_factors: tuple[float, ...]  # Monday first
    recategorised_share: float
    closed_as_crime_share: float
    direct_crime_share: float
    on_deadline_share: float
    just_late_share: float


@dataclass(frozen=True)
class Casework:
    """What happens to recorded crimes after recording (see ``[casework]`` in calibration.toml)."""

    cancelled_share: float
    rape_cancelled_share: float
    reclassified_share: float
    second_reclassification_share: float
    repeat_offender_share: float
    same_day_share: float
    not_identified_share: float
    late_snapshot_share: float
    boundary_share: float


@dataclass(frozen=True)
class Calibration:
    rows: int
    opening_codes: dict[str, int]
    report_hours: tuple[int, ...]
    divisions: dict[str, int]
    assumptions: Assumptions
    criminal_history: CriminalHistory
    casework: Casework

    def opening_weights(self) -> dict[str, float]:
        """Every opening code of the code table, weighted by derived count plus pseudo-count."""
        pseudo = self.assumptions.pseudo_count
        return {
            code: self.opening_codes.get(code, 0) + pseudo
            for code, info in load_reference().incident_codes.items()
            if can_open(info)
        }


def _check(calibration: Calibration) -> None:
    codes = load_reference().incident_codes
    unknown = [code for code in calibration.opening_codes if code not in codes or not can_open(codes[code])]
    if unknown:
        raise ValueError(f"calibration.toml names codes that cannot open an incident: {unknown}")
    if len(calibration.report_hours) != 24 or len(calibration.assumptions.weekday_factors) != 7:
        raise ValueError("calibration.toml needs 24 report_hours and 7 weekday_factors")
    calibration.criminal_history.check({code.offence_group for code in load_reference().offence_codes.values()})


@cache
def load_calibration(path: Path = CALIBRATION_PATH) -> Calibration:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    derived = data["derived"]
    assumptions = dict(data["assumptions"])
    assumptions["weekday_factors"] = tuple(assumptions["weekday_factors"])
    calibration = Calibration(
        rows=derived["rows"],
        opening_codes=dict(derived["opening_codes"]),
        report_hours=tuple(derived["report_hours"]),
        divisions=dict(derived["divisions"]),
        assumptions=Assumptions(**assumptions),
        criminal_history=CriminalHistory.from_toml(data["criminal_history"]),
        casework=Casework(**data["casework"]),
    )
    _check(calibration)
    return calibration
