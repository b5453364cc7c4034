"""Recording rules: each fires, does not fire, at the exact boundary, out of order, duplicated, late."""

from __future__ import annotations

from cdi.core.observations import RecordingDecision, RecordingDelay
from cdi.core.stage import DUPLICATE, LATE
from tests.core import scenario
from tests.core.scenario import CONFIG, CONTRACTS, Scenario, at, ids

NC = "CRIME_INDICATIVE_INCIDENT_NOT_CRIMED"
RECORDING_RULES = {NC, "CRD_LATE"}


def run(records, finish=True):
    """The scenario runner, keeping only the two rules under test here (closures to non-crime codes
    also break CLOSE_CATEGORY_DOWNGRADE, tested in test_incident_rules.py)."""
    found, steps, state = scenario.run(records, finish)
    return [f for f in found if f.payload.rule in RECORDING_RULES], steps, state


def test_unrecorded_crime_indicative_incident_is_found_at_its_deadline():
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.closed("I1", 2, "ADVICE_GIVEN")
    s.opened("I2", 30, "THEFT")  # moves event time past I1's deadline
    found, _, _ = run(s.records, finish=False)
    assert ids(found) == [("finding.raised", f"{NC}/incident/I1", at(24))]
    finding = found[0].payload
    assert finding.severity == "high"  # violence
    assert finding.offence_group == "violence_against_the_person"
    assert list(finding.evidence) == ["ev-0001", "ev-0002"]
    assert "without a recorded rationale" in finding.explanation
    assert finding.rules_version == CONFIG.version
    assert found[0].division == "NORTH"


def test_recorded_within_deadline_raises_nothing():
    s = Scenario()
    s.opened("I1", 0, "BURGLARY_DWELLING")
    s.crime("C1", "I1", 3, "28E", "burglary")
    s.closed("I1", 4)
    s.opened("I2", 40, "ADMIN")
    found, steps, _ = run(s.records)
    assert found == []
    decisions = [o for st in steps for o in st.observations if isinstance(o, RecordingDecision)]
    assert decisions == [RecordingDecision("NORTH", "burglary", "recorded")]
    delays = [o for st in steps for o in st.observations if isinstance(o, RecordingDelay)]
    assert delays == [RecordingDelay("NORTH", "burglary", 3 * 3600.0)]


def test_crime_at_exactly_24_hours_is_in_time():
    s = Scenario()
    s.opened("I1", 0)
    s.crime("C1", "I1", 24)
    s.opened("I2", 50, "ADMIN")
    found, _, _ = run(s.records)
    assert found == []


def test_crime_one_millisecond_after_24_hours_is_late_and_resolves_the_unrecorded_finding():
    s = Scenario()
    s.opened("I1", 0)
    late = s.crime("C1", "I1", 24 + 1 / 3_600_000)
    s.opened("I2", 50, "ADMIN")
    found, _, _ = run(s.records)
    assert ids(found) == [
        ("finding.raised", f"{NC}/incident/I1", at(24)),
        ("finding.raised", "CRD_LATE/crime/C1", late["occurred_at"]),
        ("finding.resolved", f"{NC}/incident/I1", late["occurred_at"]),
    ]


def test_late_recording_resolves_an_earlier_finding():
    s = Scenario()
    s.opened("I1", 0, "RAPE")
    s.opened("I2", 30, "ADMIN")
    s.crime("C1", "I1", 31, "19C", "sexual_offences")
    found, _, _ = run(s.records)
    assert ids(found) == [
        ("finding.raised", f"{NC}/incident/I1", at(24)),
        ("finding.raised", "CRD_LATE/crime/C1", at(31)),
        ("finding.resolved", f"{NC}/incident/I1", at(31)),
    ]
    late = found[1].payload
    assert late.severity == "medium" and late.offence_group == "sexual_offences"
    assert "recorded 31 h after incident I1" in late.explanation
    assert found[2].payload.resolution == "recorded_late"


def test_non_crime_incident_needs_no_record():
    s = Scenario()
    s.opened("I1", 0, "CONCERN_FOR_WELFARE")
    s.closed("I1", 1, "ADVICE_GIVEN")
    s.opened("I2", 30, "ADMIN")
    assert run(s.records)[0] == []


def test_closed_to_non_crime_with_rationale_before_deadline_is_explained():
    s = Scenario()
    s.opened("I1", 0, "THEFT")
    s.closed("I1", 5, "NO_OFFENCE_DISCLOSED", rationale=True)
    s.opened("I2", 30, "ADMIN")
    found, steps, _ = run(s.records)
    assert found == []
    assert [o.result for st in steps for o in st.observations if isinstance(o, RecordingDecision)] == ["explained"]


def test_rationale_recorded_after_the_deadline_does_not_explain():
    s = Scenario()
    s.opened("I1", 0, "THEFT")
    s.closed("I1", 25, "NO_OFFENCE_DISCLOSED", rationale=True)
    s.opened("I2", 30, "ADMIN")
    assert [f.payload.finding_id for f in run(s.records)[0]] == [f"{NC}/incident/I1"]


def test_recategorised_to_a_crime_code_counts_from_the_disclosure():
    """The 24 h run from the update that disclosed the crime, not from the call. rules-review 1.1
    point 1 [K]."""
    s = Scenario()
    s.opened("I1", 0, "CONCERN_FOR_WELFARE")
    s.updated("I1", 3, "CONCERN_FOR_WELFARE", "ASSAULT")
    s.opened("I2", 30, "ADMIN")
    found = run(s.records)[0]
    assert ids(found) == [("finding.raised", f"{NC}/incident/I1", at(27))]
    assert "became crime-indicative (ASSAULT)" in found[0].payload.explanation
    assert "Deadline: 24 h from the disclosure" in found[0].payload.explanation


def test_closed_with_a_crime_code_after_the_deadline_starts_its_own_clock():
    """A crime first shown by the closing code, 30 h after the call, is due 24 h after that
    closure (first contact gave it no time at all). rules-review 1.1 point 1 [K]."""
    s = Scenario()
    s.opened("I1", 0, "SUSPICIOUS_CIRCUMSTANCES")
    s.closed("I1", 30, "THEFT")
    s.opened("I2", 60, "ADMIN")
    assert ids(run(s.records)[0]) == [("finding.raised", f"{NC}/incident/I1", at(54))]


def test_deadline_not_reached_by_end_of_history_raises_nothing():
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.opened("I2", 23.9, "ADMIN")
    found, _, state = run(s.records)
    assert found == []
    assert state.awaiting["NORTH"] == 1


def test_deadline_exactly_at_end_of_history_fires():
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.opened("I2", 24, "ADMIN")
    assert ids(run(s.records)[0]) == [("finding.raised", f"{NC}/incident/I1", at(24))]


def test_out_of_order_within_lateness_gives_the_same_findings():
    s = Scenario()
    opened = s.opened("I1", 0, "ASSAULT")
    s.opened("I2", 10 / 60 - 0.01, "ADMIN")
    s.opened("I3", 30, "ADMIN")
    in_order = run(s.records)[0]
    reordered = run([s.records[1], opened, s.records[2]])[0]
    assert ids(in_order) == ids(reordered) == [("finding.raised", f"{NC}/incident/I1", at(24))]


def test_crime_arriving_before_its_incident_is_matched():
    s = Scenario()
    s.opened("I0", 0, "ADMIN")
    crime = s.crime("C1", "I1", 0.05)
    opened = s.opened("I1", 0.01, "ASSAULT")
    s.opened("I9", 30, "ADMIN")
    found, steps, _ = run([s.records[0], crime, opened, s.records[3]])
    assert found == []
    assert any(isinstance(o, RecordingDelay) and o.seconds == 144.0 for st in steps for o in st.observations)


def test_duplicates_are_ignored():
    s = Scenario()
    first = s.opened("I1", 0, "ASSAULT")
    s.opened("I2", 30, "ADMIN")
    found, steps, _ = run([first, first, s.records[1], s.records[1]])
    assert [st.rejected for st in steps[:4]] == [None, DUPLICATE, None, DUPLICATE]
    assert len(found) == 1


def test_event_later_than_the_allowed_lateness_is_rejected_as_late():
    s = Scenario()
    s.opened("I2", 1, "ADMIN")
    s.opened("I1", 1 - 11 / 60, "ASSAULT")  # 11 min behind: beyond 10 min
    s.opened("I3", 1 - 10 / 60, "ASSAULT")  # exactly 10 min behind: still accepted
    _, steps, state = run(s.records, finish=False)
    assert [st.rejected for st in steps] == [None, LATE, None]
    assert "I1" not in state.cases and "I3" in state.cases


def test_a_finding_is_never_raised_twice():
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.crime("C1", "I1", 30)
    s.crime("C2", "I1", 31)
    s.opened("I9", 40, "ADMIN")
    found = run(s.records)[0]
    assert [f.payload.finding_id for f in found].count(f"{NC}/incident/I1") == 2  # raised, then resolved once
    assert sorted(ids(found)) == sorted(
        [
            ("finding.raised", f"{NC}/incident/I1", at(24)),
            ("finding.raised", "CRD_LATE/crime/C1", at(30)),
            ("finding.resolved", f"{NC}/incident/I1", at(30)),
            ("finding.raised", "CRD_LATE/crime/C2", at(31)),
        ]
    )


def test_findings_validate_against_their_contracts():
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.crime("C1", "I1", 30)
    s.opened("I9", 40, "ADMIN")
    found = run(s.records)[0]
    assert len(found) == 3
    for finding in found:
        CONTRACTS.check(finding.to_dict())
