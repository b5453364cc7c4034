"""police.uk street and outcomes CSVs as a history source (docs/policeuk.md): exact counts on the
Kent January 2022 fixture, valid and deterministic events, and the findings the core raises."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import orjson
import pytest

from cdi import reference, rules
from cdi.contracts import Contracts
from cdi.core.events import Event
from cdi.core.pipeline import Monitor, OfflineRun
from cdi.reference import policeuk as mapping_tables
from cdi.sources import policeuk

FIXTURES = Path(__file__).parents[1] / "fixtures" / "policeuk"
STREET = FIXTURES / "2022-01-kent-street.csv"
OUTCOMES = FIXTURES / "2022-01-kent-outcomes.csv"
CONTRACTS = Contracts()

ROBBERY_CAUTIONED = "8a8967f894dd79782add2bc0b8032a73d76718df46726254ec589b12e929880d"
ROBBERY_RESOLVED_LOCALLY = "0169dfdbcdd940afb9b0c9cd2182d1d8d173916804504544c929294773c218a6"
OTHER_THEFT_PENALTY = "ffb1adecf232a0674787842237ddf78af76b5b198889935b7c7c326629eed0a5"
SHOPLIFTING_PENALTY = "301fa4a87e0076e6b08e90aea6e7ed5dbd3cc2379ba6f25acb41bb281b288ecb"
VIOLENCE_RESOLVED_LOCALLY = "ed2468ac17d6ac7fe061a31176931f0dc6852857e299205abbf4a7ae1752f92d"

# The categories data.police.uk publishes (docs/policeuk.md, [P1] and [P2]).
CRIME_TYPES = (
    "Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson", "Drugs", "Other crime",
    "Other theft", "Possession of weapons", "Public order", "Robbery", "Shoplifting", "Theft from the person",
    "Vehicle crime", "Violence and sexual offences",
)  # fmt: skip
OUTCOME_CATEGORIES = (
    "Awaiting court outcome", "Court result unavailable", "Court case unable to proceed", "Local resolution",
    "Investigation complete; no suspect identified", "Offender deprived of property", "Offender fined",
    "Offender given absolute discharge", "Offender given a caution", "Offender given a drugs possession warning",
    "Offender given a penalty notice", "Offender given penalty notice", "Offender given community sentence",
    "Offender given conditional discharge", "Offender given suspended prison sentence", "Offender sent to prison",
    "Offender otherwise dealt with", "Offender ordered to pay compensation",
    "Suspect charged as part of another case", "Suspect charged", "Defendant found not guilty",
    "Defendant sent to Crown Court", "Unable to prosecute suspect", "Formal action is not in the public interest",
    "Action to be taken by another organisation", "Further investigation is not in the public interest",
    "Further action is not in the public interest", "Under investigation", "Status update unavailable",
)  # fmt: skip
STREET_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
    "Last outcome category,Context\n"
)
OUTCOMES_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type\n"
)


@pytest.fixture(scope="module")
def imported() -> policeuk.PoliceUkImport:
    return policeuk.read([STREET, OUTCOMES])


def by_type(imported: policeuk.PoliceUkImport, type_: str) -> list[dict]:
    return [e for e in imported.events if e["type"] == type_]


def offline_findings(events: list[dict]) -> list[Event]:
    offline = OfflineRun.start(Monitor(rules.load(contracts=CONTRACTS), reference.load()))
    found = []
    for event in events:
        step = offline.process(CONTRACTS.decode(orjson.dumps(event)))
        assert step.rejected is None, event["event_id"]
        found += step.findings
    return found + offline.finish().findings


# -- sniff -------------------------------------------------------------------------------------------


def test_sniff_tells_street_from_outcomes_by_the_header():
    assert policeuk.sniff(STREET) == "street"
    assert policeuk.sniff(OUTCOMES) == "outcomes"


def test_sniff_tolerates_a_byte_order_mark(tmp_path: Path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + OUTCOMES.read_bytes())
    assert policeuk.sniff(path) == "outcomes"
    assert len(policeuk.read([path]).events) == 0  # no street file: every outcome lacks its crime


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b'{"event_id": "e1", "type": "incident.opened"}\n',
        gzip.compress(b'{"event_id": "e1"}\n', mtime=0),
        b"\x00\x01\x02binary",
        b"Type,Date,Part of a policing operation,Latitude,Longitude,Gender,Age range\n",  # stop and search
    ],
)
def test_sniff_says_none_for_anything_else(tmp_path: Path, content: bytes):
    path = tmp_path / "other"
    path.write_bytes(content)
    assert policeuk.sniff(path) is None


def test_read_refuses_a_file_that_is_not_police_uk(tmp_path: Path):
    path = tmp_path / "history.jsonl"
    path.write_text('{"event_id": "e1"}\n')
    with pytest.raises(ValueError, match=r"not a police\.uk street or outcomes file"):
        policeuk.read([STREET, path])


# -- exact counts on the fixture ----------------------------------------------------------------------


def test_counts_are_exact(imported: policeuk.PoliceUkImport):
    assert (imported.files, imported.rows) == (2, 47)
    assert Counter(e["type"] for e in imported.events) == {"crime.recorded": 26, "outcome.assigned": 17}
    assert imported.unmapped == {
        "anti-social behaviour (not a crime)": 5,
        "no Crime ID": 1,
        "unknown crime type 'Fraud'": 1,
        "unknown crime type 'Violent crime'": 1,  # the label before June 2013: not mapped
        "no police outcome (Under investigation)": 4,
        "no police outcome (Status update unavailable)": 1,
        "police outcome spanning several Home Office types (Unable to prosecute suspect)": 2,
        "court result, not a police outcome (Awaiting court outcome)": 1,
        "court result, not a police outcome (Offender fined)": 1,
        "outcome without a crime in these files": 2,
        "unknown outcome 'Offender sentenced as part of another case'": 1,  # the label before 2014
    }
    assert imported.mapping_version == mapping_tables.load().version


def test_summary_names_every_reason(imported: policeuk.PoliceUkImport):
    summary = imported.summary()
    assert summary.startswith(
        f"police.uk import ({imported.mapping_version}): 2 files, 47 rows -> 26 crime.recorded and "
        "17 outcome.assigned events; not imported: 5 anti-social behaviour (not a crime), "
        "4 no police outcome (Under investigation), 2 outcome without a crime in these files, "
    )
    assert all(reason in summary for reason in imported.unmapped)


def test_outcome_types_are_mapped(imported: policeuk.PoliceUkImport):
    types = Counter(e["payload"]["outcome_type"] for e in by_type(imported, "outcome.assigned"))
    assert types == {18: 3, 6: 4, 3: 2, 8: 2, 7: 1, 1: 1, 20: 1, 10: 1, 21: 1, 4: 1}


# -- the events -------------------------------------------------------------------------------------------


def test_every_event_passes_the_contracts(imported: policeuk.PoliceUkImport):
    for event in imported.events:
        CONTRACTS.decode(orjson.dumps(event))


def test_what_the_export_lacks_is_null_never_a_guess(imported: policeuk.PoliceUkImport):
    unknown = {
        "offender_ref", "offender_age", "decision_maker_rank", "exceptional_circumstances", "dpp_consent",
        "penalty_value", "domestic_abuse", "intimate_partner", "victim_views_recorded",
    }  # fmt: skip
    for event in by_type(imported, "outcome.assigned"):
        assert {k for k, v in event["payload"].items() if v is None} == unknown
    for event in by_type(imported, "crime.recorded"):
        assert event["payload"]["incident_id"] is None and "victim_ref" not in event["payload"]


def test_crimes_are_classified_through_the_mapping(imported: policeuk.PoliceUkImport):
    crimes = {e["payload"]["crime_id"]: e for e in by_type(imported, "crime.recorded")}
    robbery = crimes[ROBBERY_CAUTIONED]
    assert robbery["payload"] | {"crime_id": "-"} == {
        "crime_id": "-", "incident_id": None, "hocr_code": "34B", "offence_group": "robbery",
    }  # fmt: skip
    assert (robbery["force"], robbery["division"], robbery["occurred_at"]) == (
        "KENT", "MAIDSTONE", "2022-01-01T00:00:00+00:00",
    )  # fmt: skip
    violence = crimes[VIOLENCE_RESOLVED_LOCALLY]["payload"]
    assert (violence["hocr_code"], violence["offence_group"]) == (None, "violence_against_the_person")
    divisions = Counter(e["division"] for e in crimes.values())
    assert divisions["KENT"] == 1  # published without a location: the force area
    assert divisions["FOLKESTONE-AND-HYTHE"] == 2 and divisions["TONBRIDGE-AND-MALLING"] == 2


def test_a_street_outcome_also_in_the_outcomes_file_is_imported_once(imported: policeuk.PoliceUkImport):
    outcomes = [e for e in by_type(imported, "outcome.assigned") if e["payload"]["crime_id"] == ROBBERY_CAUTIONED]
    assert [e["event_id"].rsplit(":", 1)[0] for e in outcomes] == ["policeuk:outcome"]
    undated = [e for e in by_type(imported, "outcome.assigned") if e["event_id"].startswith("policeuk:last-outcome:")]
    assert len(undated) == 9  # street-only outcomes, at their crime's month


def test_events_are_in_event_time_order_with_crimes_first(imported: policeuk.PoliceUkImport):
    keys = [(e["occurred_at"], e["type"] != "crime.recorded", e["event_id"]) for e in imported.events]
    assert keys == sorted(keys)
    assert len({e["event_id"] for e in imported.events}) == len(imported.events)


def test_reading_is_deterministic_and_independent_of_file_order(imported: policeuk.PoliceUkImport):
    again = policeuk.read([OUTCOMES, STREET])
    assert orjson.dumps(again.events) == orjson.dumps(imported.events)
    assert again.unmapped == imported.unmapped


def test_re_importing_a_file_adds_nothing(imported: policeuk.PoliceUkImport):
    twice = policeuk.read([STREET, OUTCOMES, STREET, OUTCOMES])
    assert orjson.dumps(twice.events) == orjson.dumps(imported.events)
    assert twice.unmapped["duplicate of a row already read"] == 26 + 13  # the crime rows, every outcome row
    assert twice.rows == 2 * imported.rows


# -- months, clamping, names ------------------------------------------------------------------------------


def write(path: Path, header: str, *rows: str) -> Path:
    path.write_text(header + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def test_an_outcome_takes_its_own_month_but_never_precedes_its_crime(tmp_path: Path):
    street = write(
        tmp_path / "2022-02-x-street.csv",
        STREET_HEADER,
        "a1,2022-02,Avon and Somerset Constabulary,Avon and Somerset Constabulary,-2.5,51.4,On or near X,"
        "E01014399,Bath and North East Somerset 001A,Shoplifting,,",
        "a2,2022-02,Avon and Somerset Constabulary,Avon and Somerset Constabulary,-2.5,51.4,On or near X,"
        "E01014399,Bath and North East Somerset 001A,Shoplifting,,",
    )
    outcomes = write(
        tmp_path / "outcomes.csv",
        OUTCOMES_HEADER,
        "a1,2022-03,Avon and Somerset Constabulary,Avon and Somerset Constabulary,,,,,,Offender given a caution",
        "a2,2022-01,Avon and Somerset Constabulary,Avon and Somerset Constabulary,,,,,,Offender given a caution",
    )
    events = policeuk.read([street, outcomes]).events
    when = {e["payload"]["crime_id"]: e["occurred_at"] for e in events if e["type"] == "outcome.assigned"}
    assert when == {"a1": "2022-03-01T00:00:00+00:00", "a2": "2022-02-01T00:00:00+00:00"}
    assert {(e["force"], e["division"]) for e in events} == {("AVON-AND-SOMERSET", "BATH-AND-NORTH-EAST-SOMERSET")}


def test_force_and_division_codes_are_contract_units(tmp_path: Path):
    street = write(
        tmp_path / "street.csv",
        STREET_HEADER,
        "b1,2021-12,Devon & Cornwall Police,Devon & Cornwall Police,,,No Location,,,Burglary,,",
        "b2,2021-12,North Wales Police,North Wales Police,-4.3,53.3,On or near Y,W01000001,Ynys Môn 001A,Drugs,,",
        "b3,2021-12,Metropolitan Police Service,Metropolitan Police Service,-0.1,51.5,On or near Z,E01000001,"
        "City of London 001A,Robbery,,",
        "b4,2021-13,Kent Police,Kent Police,,,,,,Robbery,,",
        "b 5,2021-12,Kent Police,Kent Police,,,,,,Robbery,,",
        "b6,2021-12,,,,,,,,Robbery,,",
    )
    imported = policeuk.read([street])
    assert [(e["force"], e["division"]) for e in imported.events] == [
        ("DEVON-AND-CORNWALL", "DEVON-AND-CORNWALL"),
        ("NORTH-WALES", "YNYS-MON"),
        ("METROPOLITAN", "CITY-OF-LONDON"),
    ]
    assert imported.unmapped == {
        "malformed Month '2021-13'": 1,
        "Crime ID not usable as an identifier": 1,
        "no force named (Reported by and Falls within empty)": 1,
    }
    for event in imported.events:
        CONTRACTS.decode(orjson.dumps(event))


# -- the rules on the fixture ------------------------------------------------------------------------------


def test_the_core_raises_exactly_the_expected_findings(imported: policeuk.PoliceUkImport):
    found = {(f.payload.rule, f.payload.subject.id): f.payload for f in offline_findings(imported.events)}
    assert {key: (p.severity, p.assessment) for key, p in found.items()} == {
        # The export names neither the caution's kind nor who decided: a review, critical when shown.
        ("CAUTION_INDICTABLE_ONLY", ROBBERY_CAUTIONED): ("high", "review"),
        ("CR_INELIGIBLE", ROBBERY_RESOLVED_LOCALLY): ("high", "breach"),
        ("PND_ELIGIBILITY", OTHER_THEFT_PENALTY): ("medium", "breach"),
        # Violence against the person holds offences a resolution is not for; the export cannot say which.
        ("CR_INELIGIBLE", VIOLENCE_RESOLVED_LOCALLY): ("low", "review"),
    }
    caution = found["CAUTION_INDICTABLE_ONLY", ROBBERY_CAUTIONED].explanation
    # An export names neither the caution's kind nor who decided: a likely breach, and it says so.
    assert caution.startswith("Adult caution (kind not recorded) for crime ")
    assert caution.endswith(
        "34B (robbery of personal property), an indictable-only offence: allowed only in exceptional "
        "circumstances determined at superintendent rank and with DPP consent, and the source does not record "
        "the decision maker's rank or exceptional circumstances or DPP consent; confirm on the crime record. The "
        "source does not say whether the caution was simple or conditional: s17 restricts simple cautions only; "
        "confirm the kind on the crime record."
    )
    resolution = found["CR_INELIGIBLE", ROBBERY_RESOLVED_LOCALLY].explanation
    assert "an indictable-only offence; a high-harm offence." in resolution
    assert "does not record whether this was domestic abuse" in resolution
    penalty = found["PND_ELIGIBILITY", OTHER_THEFT_PENALTY].explanation
    assert "49 is not an offence for a penalty notice" in penalty
    assert "names no offender, so their age and offending history were not checked" in penalty


def test_what_cannot_be_judged_raises_no_breach(imported: policeuk.PoliceUkImport):
    """A shoplifting penalty notice (value and age unpublished) passes; a community resolution for
    violence (the category mixes common assault with rape; no domestic abuse flag) is no breach,
    only a review finding asking for the offence code (rules-review 3.1)."""
    raised = offline_findings(imported.events)
    assert SHOPLIFTING_PENALTY not in {f.payload.subject.id for f in raised}
    [review] = [f.payload for f in raised if f.payload.subject.id == VIOLENCE_RESOLVED_LOCALLY]
    assert review.assessment == "review"
    assert "confirm the offence code on the crime record" in review.explanation


# -- the mapping itself ---------------------------------------------------------------------------------


def test_the_mapping_covers_every_published_category():
    mapping = mapping_tables.load()
    assert {mapping_tables.label_key(t) for t in CRIME_TYPES} == set(mapping.crime_types)
    assert {mapping_tables.label_key(o) for o in OUTCOME_CATEGORIES} == set(mapping.outcomes)
    assert mapping.crime_type("  violence AND sexual offences ") is mapping.crime_type("Violence and sexual offences")


def test_a_code_stands_for_its_category_only_where_the_rules_treat_them_alike():
    mapping, tables = mapping_tables.load(), reference.load()
    for entry in mapping.crime_types.values():
        if entry.not_a_crime:
            assert entry.hocr_code is None and entry.offence_group is None
            continue
        if entry.hocr_code is None:
            assert entry.mode_of_trial != "indictable_only", entry  # the rules could only see it with a code
            continue
        code = tables.offence_codes[entry.hocr_code]
        assert code.offence_group == entry.offence_group, entry
        # A code may claim less than its category (a missed finding), never more (a false one).
        assert (code.mode_of_trial == "indictable_only") == (entry.mode_of_trial == "indictable_only"), entry
        assert entry.mode_of_trial == "mixed" or code.mode_of_trial == entry.mode_of_trial, entry
        policy = tables.policy(entry.hocr_code)
        assert policy.caution_restriction is None and not policy.fast_outcome_watch and not policy.cannabis, entry


def test_police_outcomes_name_known_home_office_types():
    tables = reference.load()
    for outcome in mapping_tables.load().outcomes.values():
        assert (outcome.kind == "police") == (outcome.outcome_type in tables.outcome_types), outcome
