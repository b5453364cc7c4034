"""Reference tables and the rules file are versioned data; these tests keep them consistent."""

from __future__ import annotations

import re

import pytest

from cdi import reference, rules
from cdi.contracts import Contracts

CONTRACTS = Contracts()
COMMON = CONTRACTS.schemas["urn:cdi:schema:common:1"]["$defs"]
GROUPS = set(COMMON["offence_group"]["enum"])


def test_incident_codes_are_well_formed():
    ref = reference.load()
    pattern = re.compile(COMMON["incident_code"]["pattern"])
    assert ref.incident_codes
    for code in ref.incident_codes.values():
        assert pattern.match(code.code)
        assert code.stage in {"opening", "closing", "both"}
        assert code.code_class in {"crime", "crimed", "non_crime", "sink", "admin"}
        # A crime-indicative code must say which offence group it indicates; others must not.
        assert (code.offence_group in GROUPS) if code.crime_indicative else code.offence_group is None


def test_every_offence_group_has_crime_indicative_codes_and_home_office_codes():
    ref = reference.load()
    indicated = {c.offence_group for c in ref.incident_codes.values() if c.crime_indicative}
    classified = {c.offence_group for c in ref.offence_codes.values()}
    assert indicated - {"miscellaneous"} <= classified
    assert classified <= GROUPS


def test_home_office_codes_are_well_formed():
    ref = reference.load()
    pattern = re.compile(COMMON["hocr_code"]["pattern"])
    for code in ref.offence_codes.values():
        assert pattern.match(code.code)
        assert code.mode_of_trial in {"indictable_only", "either_way", "summary", "mixed"}
        assert 0 < code.seriousness <= 100
    assert ref.offence_codes["19C"].mode_of_trial == "indictable_only"
    assert ref.offence_codes["34B"].mode_of_trial == "indictable_only"
    assert ref.offence_codes["105A"].mode_of_trial == "summary"


def test_default_rules_load_with_the_domain_defaults():
    config = rules.load()
    assert config.allowed_lateness_ms == 10 * 60_000
    assert config.rule("CRD_LATE").hours("deadline_hours") == 24 * 3_600_000
    assert config.rule("CRIME_INDICATIVE_INCIDENT_NOT_CRIMED").hours("deadline_hours") == 24 * 3_600_000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("deadline_hours = -1", "rules/CRD_LATE/deadline_hours"),
        ('severity = "urgent"', "rules/CRD_LATE/severity"),
        ("typo_hours = 3", "typo_hours"),
    ],
)
def test_a_bad_rules_file_gives_a_clear_error(tmp_path, text, message):
    default = rules.DEFAULT.read_text()
    section = "[rules.CRD_LATE]\n"
    changed = default.replace(section, section + text + "\n", 1)
    if text.startswith(("deadline_hours", "severity")):
        key = text.split(" ")[0]
        lines = changed.split(section, 1)[1].split("\n")
        # Drop the original key in that section so TOML stays valid.
        first = next(i for i, line in enumerate(lines[1:], 1) if line.startswith(key + " "))
        del lines[first]
        changed = changed.split(section, 1)[0] + section + "\n".join(lines)
    bad = tmp_path / "rules.toml"
    bad.write_text(changed)
    with pytest.raises(rules.RulesFileError) as caught:
        rules.load(bad)
    assert message in str(caught.value)
    assert "Fix these values" in str(caught.value)


def test_missing_rules_file_says_what_to_do(tmp_path):
    with pytest.raises(
        rules.RulesFileError, match=r"not found; give an existing file \(--rules, or CDI_RULES for every command\)"
    ):
        rules.load(tmp_path / "nope.toml")
