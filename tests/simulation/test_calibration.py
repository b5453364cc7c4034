"""calibration.toml's derived numbers are exactly what the Seattle and MoJ CSVs give."""

from __future__ import annotations

import pytest

from cdi.simulation import Simulation, derive_from_moj, derive_from_seattle, load_calibration
from cdi.simulation.calibration import CALIBRATION_PATH
from cdi.simulation.criminal_history import BANDS

from .reading import REPO_ROOT, distinct

FORMAL = {"conviction", "adult_caution", "youth_caution", "conditional_caution"}  # MoJ's convictions/cautions

SEATTLE = REPO_ROOT / ".." / "shared" / "data" / "seattle-911-incident-response-2016-03-25.csv"


@pytest.mark.skipif(not SEATTLE.exists(), reason="shared/data Seattle sample not present")
def test_calibration_recomputes_from_the_seattle_sample() -> None:
    derived = derive_from_seattle(SEATTLE)
    calibration = load_calibration()
    assert derived["rows"] == calibration.rows == 706
    assert derived["opening_codes"] == calibration.opening_codes
    assert tuple(derived["report_hours"]) == calibration.report_hours
    assert derived["divisions"] == calibration.divisions
    assert sum(calibration.opening_codes.values()) == sum(calibration.report_hours) == 706
    assert sum(calibration.divisions.values()) == 706


def test_calibration_names_its_source() -> None:
    text = CALIBRATION_PATH.read_text()
    assert "seattle-911-incident-response-2016-03-25.csv" in text
    assert "clanfear/CSSS508" in text
    assert "derive_from_seattle" in text


def test_every_opening_code_gets_a_weight() -> None:
    weights = load_calibration().opening_weights()
    assert all(weight >= 1 for weight in weights.values())
    assert {"RAPE", "ARSON", "DOMESTIC_INCIDENT"} <= weights.keys()  # absent from the sample


MOJ = REPO_ROOT / ".." / "shared" / "data" / "moj-criminal-history-Sankey_data_2024.csv"


@pytest.mark.skipif(not MOJ.exists(), reason="shared/data MoJ criminal-history file not present")
def test_criminal_history_recomputes_from_the_moj_file() -> None:
    derived = derive_from_moj(MOJ)
    history = load_calibration().criminal_history
    assert derived["year"] == history.year == 2024
    assert derived["rows"] == history.rows
    assert {group: tuple(counts) for group, counts in derived["adults"].items()} == history.adults
    assert {group: tuple(counts) for group, counts in derived["juveniles"].items()} == history.juveniles


@pytest.mark.skipif(not MOJ.exists(), reason="shared/data MoJ criminal-history file not present")
def test_moj_totals_by_age_group() -> None:
    """Independent of the mapping: 2024's orderID 1 rows, straight from the CSV."""
    import csv

    totals: dict[str, int] = {}
    with MOJ.open(newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            if row["orderID"] == "1" and row["year"] == "2024" and row["offence_group"][:2] <= "09":
                totals[row["offence_type"]] = totals.get(row["offence_type"], 0) + int(row["value"])
    history = load_calibration().criminal_history
    theft = sum(history.adults["theft"])  # counted for both burglary and theft
    assert sum(sum(c) for c in history.adults.values()) - theft == totals["Adults"]
    assert sum(sum(c) for c in history.juveniles.values()) - sum(history.juveniles["theft"]) == totals["Juveniles"]


def test_criminal_history_names_its_source() -> None:
    text = CALIBRATION_PATH.read_text()
    assert "moj-criminal-history-Sankey_data_2024.csv" in text
    assert "moj-analytical-services/criminal_history_sankey" in text
    assert "derive_from_moj" in text


def test_offenders_have_the_calibrated_criminal_history_bands(month_sim: Simulation) -> None:
    """Previous convictions/cautions of each offender (first snapshot) against the MoJ shares
    for the offence group and age group of their earliest-recorded crime in the file."""
    history = load_calibration().criminal_history
    events = distinct(month_sim.events)
    recorded = {e["payload"]["crime_id"]: e for e in events if e["type"] == "crime.recorded"}
    first_crime: dict[str, tuple[str, dict]] = {}
    for e in events:
        p = e["payload"]
        if e["type"] == "outcome.assigned" and p["offender_ref"]:
            crime = recorded[p["crime_id"]]
            key = (crime["occurred_at"], p["crime_id"])
            if p["offender_ref"] not in first_crime or key < first_crime[p["offender_ref"]][0]:
                first_crime[p["offender_ref"]] = (key, {**crime["payload"], "age": p["offender_age"]})
    observed = [0] * len(BANDS)
    expected = [0.0] * len(BANDS)
    for e in events:
        if e["type"] != "offender.history":
            continue
        count = sum(d["disposal"] in FORMAL for d in e["payload"]["disposals"])
        band = next(n for n, (lo, hi) in enumerate(BANDS) if count >= lo and (hi is None or count <= hi))
        observed[band] += 1
        crime = first_crime[e["payload"]["offender_ref"]][1]
        shares = history.shares(crime["offence_group"], crime["age"] < 18)
        expected = [x + s for x, s in zip(expected, shares, strict=True)]
    total = sum(observed)
    assert total > 1500
    for n in range(len(BANDS)):
        assert abs(observed[n] / total - expected[n] / total) < 0.025, (n, observed, expected)
