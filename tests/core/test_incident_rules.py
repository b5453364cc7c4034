"""CLOSE_CATEGORY_DOWNGRADE and ONE_CRIME_PER_VICTIM (docs/rules.md)."""

from __future__ import annotations

import pytest

from tests.core.scenario import Scenario, at, of_rule, run

DOWN = "CLOSE_CATEGORY_DOWNGRADE"
PER_VICTIM = "ONE_CRIME_PER_VICTIM"


def found(s: Scenario, rule: str, order: list[int] | None = None) -> list:
    records = s.records if order is None else [s.records[i] for i in order]
    return of_rule(run(records)[0], rule)


@pytest.mark.parametrize(
    ("opening", "closing", "severity"),
    [
        ("ASSAULT", "CRIME_RELATED_INCIDENT", "high"),
        ("ASSAULT", "ADVICE_GIVEN", "high"),
        ("SHOPLIFTING", "ADVICE_GIVEN", "medium"),
        ("SHOPLIFTING", "CRIME_RELATED_INCIDENT", "high"),
    ],
)
def test_crime_indicative_incident_closed_to_a_non_crime_code_without_rationale(opening, closing, severity):
    """Severity follows what the call disclosed (violence, sexual offences and robbery high); a
    sink closure raises it one step, at most to high. rules-review 1.3. The crime is recorded in
    time after the closure, so the downgrade is a finding of its own, judged at the check time
    and dated at the closure."""
    s = Scenario()
    s.opened("I1", 0, opening)
    s.closed("I1", 2, closing)
    s.crime("C1", "I1", 3, *(("46", "theft") if opening == "SHOPLIFTING" else ()))
    s.opened("I2", 30, "ADMIN")  # moves event time past I1's check time
    [finding] = found(s, DOWN)
    assert finding.occurred_at == at(2) and finding.payload.severity == severity
    assert f"as {closing}" in finding.payload.explanation


def test_sink_code_on_a_theft_is_high_and_non_crime_code_on_a_theft_is_medium():
    s = Scenario()
    s.opened("I1", 0, "THEFT")
    s.opened("I2", 0, "THEFT")
    s.closed("I1", 2, "MISC")
    s.closed("I2", 2, "NO_TRACE")
    s.crime("C1", "I1", 3, "49", "theft")
    s.crime("C2", "I2", 3, "49", "theft")
    s.opened("I9", 30, "ADMIN")
    severities = {f.payload.subject.id: f.payload.severity for f in found(s, DOWN)}
    assert severities == {"I1": "high", "I2": "medium"}


@pytest.mark.parametrize("case", ["rationale", "crimed_before", "admin_code", "crime_closing_code", "not_indicative"])
def test_no_downgrade(case):
    s = Scenario()
    s.opened("I1", 0, "CONCERN_FOR_WELFARE" if case == "not_indicative" else "THEFT")
    if case == "crimed_before":
        s.crime("C1", "I1", 1, "49", "theft")
    closing = {"admin_code": "TRANSFERRED", "crime_closing_code": "THEFT"}.get(case, "ADVICE_GIVEN")
    s.closed("I1", 2, closing, rationale=case == "rationale")
    assert found(s, DOWN) == []


def test_crime_recorded_after_the_closure_does_not_undo_the_downgrade():
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.closed("I1", 2, "ADVICE_GIVEN")
    s.crime("C1", "I1", 2.05)
    s.opened("I2", 30, "ADMIN")
    assert len(found(s, DOWN)) == 1
    assert len(found(s, DOWN, [0, 2, 1, 3])) == 1  # the crime arrives first, still after the closure in time


def test_recategorised_to_a_crime_code_then_closed_non_crime():
    s = Scenario()
    s.opened("I1", 0, "CONCERN_FOR_WELFARE")
    s.updated("I1", 1, "CONCERN_FOR_WELFARE", "ASSAULT")
    s.closed("I1", 2, "NO_OFFENCE_DISCLOSED")
    s.crime("C1", "I1", 5)
    s.opened("I2", 30, "ADMIN")
    assert len(found(s, DOWN)) == 1


@pytest.mark.parametrize(
    ("victims", "crimes", "fires"), [(3, 1, True), (3, 2, True), (3, 3, False), (1, 1, False), (2, 0, False)]
)
def test_one_crime_per_victim(victims, crimes, fires):
    s = Scenario()
    s.opened("I1", 0, "ASSAULT", victims=victims)
    for n in range(crimes):
        s.crime(f"C{n}", "I1", 1 + n)
    s.opened("I9", 30, "ADMIN")
    result = found(s, PER_VICTIM)
    assert len(result) == int(fires)
    if fires:
        assert result[0].occurred_at == at(24)
        assert f"reported {victims} victims but only {crimes}" in result[0].payload.explanation


def test_only_victim_based_crimes_recorded_in_time_count():
    s = Scenario()
    s.opened("I1", 0, "ASSAULT", victims=2)
    s.crime("C1", "I1", 1)
    s.crime("C2", "I1", 2, "10D", "possession_of_weapons")  # no victim
    s.crime("C3", "I1", 30)  # after the check time
    s.opened("I9", 40, "ADMIN")
    assert len(found(s, PER_VICTIM)) == 1


def test_an_incident_closed_as_crime_recorded_with_no_linked_crime_asks_for_a_crime_under_another_reference():
    """A missing link is likelier than an unrecorded crime: its own wording, one step lower.
    rules-review 1.1 point 4."""
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.closed("I1", 2, "CRIME_RECORDED")
    s.opened("I2", 30, "THEFT")  # moves event time past I1's deadline
    [finding] = found(s, "CRIME_INDICATIVE_INCIDENT_NOT_CRIMED")
    assert finding.payload.severity == "medium"  # high for violence when no link is claimed
    assert "check for a crime under another reference" in finding.payload.explanation


def test_household_property_counts_once_per_household_not_per_victim():
    """HOCR General Rules: burglary per dwelling, jointly owned property one crime; the
    call-taker's victim count cannot tell owners from occupants. rules-review 1.4 [K]."""
    s = Scenario()
    s.opened("I1", 0, "BURGLARY_DWELLING", victims=2)
    s.crime("C1", "I1", 2, "28E", "burglary")
    s.opened("I2", 30, "THEFT")  # moves event time past I1's check time
    assert found(s, "ONE_CRIME_PER_VICTIM") == []


def test_distinct_victims_on_the_crime_records_count_not_the_records():
    """Two crime records for the same victim cover one victim: the call-taker's count of three is
    met only by three distinct victim references. rules-review 1.4: compare distinct victim_refs
    on crimes, not the number of crime records."""
    s = Scenario()
    s.opened("I1", 0, "ASSAULT", victims=3)
    s.crime("C1", "I1", 1, victim_ref="PR-00000001")
    s.crime("C2", "I1", 2, victim_ref="PR-00000001")
    s.crime("C3", "I1", 3, victim_ref="PR-00000002")
    s.opened("I9", 30, "ADMIN")
    [finding] = found(s, PER_VICTIM)
    assert "the 3 victim-based crime records linked to it by" in finding.payload.explanation
    assert "name only 2 distinct victims" in finding.payload.explanation


def test_three_records_for_three_distinct_victims_meet_the_count():
    s = Scenario()
    s.opened("I1", 0, "ASSAULT", victims=3)
    for n in range(3):
        s.crime(f"C{n}", "I1", 1 + n, victim_ref=f"PR-0000000{n}")
    s.opened("I9", 30, "ADMIN")
    assert found(s, PER_VICTIM) == []
