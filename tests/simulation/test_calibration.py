"""calibration.toml's derived numbers are exactly what the Seattle CSV gives."""

from __future__ import annotations

import pytest

from cdi.simulation import derive_from_seattle, load_calibration
from cdi.simulation.calibration import CALIBRATION_PATH

from .reading import REPO_ROOT

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
