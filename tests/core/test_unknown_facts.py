"""Facts the source does not know (null in the contracts, docs/rules.md "Facts the source does not
record"): a rule never reads null as "no". A finding that needs the fact is raised one severity
step lower and says so; a finding that stands on known facts only names what was not checked."""

from __future__ import annotations

import pytest

from tests.core.scenario import Scenario, of_rule, run

P = "PR-0000aaaa"
UNKNOWN = {"rank": None, "exceptional": None, "dpp": None, "domestic": None}


def findings(s: Scenario, rule: str) -> list:
    return of_rule(run(s.records)[0], rule)


# -- CAUTION_INDICTABLE_ONLY ------------------------------------------------------------------------


def test_caution_for_robbery_with_nothing_recorded_is_a_likely_breach_one_step_lower():
    s = Scenario()
    s.crime("C1", None, 1, "34B", "robbery")
    s.outcome("C1", 30, 3, offender=None, age=None, **UNKNOWN)
    [finding] = findings(s, "CAUTION_INDICTABLE_ONLY")
    assert finding.payload.severity == "high"  # critical when shown
    assert finding.payload.explanation == (
        "Adult simple caution for crime C1, 34B (robbery of personal property), an indictable-only offence: "
        "allowed only in exceptional circumstances determined at superintendent rank and with DPP consent, and "
        "the source does not record the decision maker's rank or exceptional circumstances or DPP consent; "
        "confirm on the crime record."
    )


def test_one_condition_recorded_as_missing_proves_the_breach_whatever_the_other():
    s = Scenario()
    s.crime("C1", None, 1, "34B", "robbery")
    s.outcome("C1", 30, 3, exceptional=None, dpp=False, rank="superintendent")
    [finding] = findings(s, "CAUTION_INDICTABLE_ONLY")
    assert finding.payload.severity == "critical"
    assert finding.payload.explanation.endswith(
        "without DPP consent recorded. The source does not record exceptional circumstances."
    )


def test_consent_recorded_and_circumstances_unknown_is_still_unconfirmed():
    s = Scenario()
    s.crime("C1", None, 1, "34B", "robbery")
    s.outcome("C1", 30, 3, exceptional=None, dpp=True, rank="superintendent")
    [finding] = findings(s, "CAUTION_INDICTABLE_ONLY")
    assert finding.payload.severity == "high"
    assert "the source does not record exceptional circumstances; confirm" in finding.payload.explanation


def test_a_crime_without_a_home_office_code_is_not_judged_on_its_mode_of_trial():
    s = Scenario()
    s.crime("C1", None, 1, None, "violence_against_the_person")
    s.outcome("C1", 30, 3, offender=None, age=None, **UNKNOWN)
    assert findings(s, "CAUTION_INDICTABLE_ONLY") == []
    assert findings(s, "CAUTION_SPECIFIED_EITHER_WAY") == []


# -- CAUTION_SPECIFIED_EITHER_WAY ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exceptional", "rank", "severity", "says"),
    [
        (None, "inspector", "medium", "the source does not record exceptional circumstances (at least inspector"),
        (True, None, "medium", "the source does not record the decision maker's rank (at least inspector"),
        (None, None, "medium", "exceptional circumstances or the decision maker's rank"),
        (None, "sergeant", "high", "below inspector; the source does not record exceptional circumstances."),
        (False, None, "high", "no exceptional circumstances recorded."),
    ],
)
def test_specified_either_way_caution_with_unknowns(exceptional, rank, severity, says):
    s = Scenario()
    s.crime("C1", None, 1, "10D", "possession_of_weapons")
    s.outcome("C1", 30, 3, exceptional=exceptional, rank=rank)
    [finding] = findings(s, "CAUTION_SPECIFIED_EITHER_WAY")
    assert finding.payload.severity == severity
    assert says in finding.payload.explanation


# -- offender-stage rules ---------------------------------------------------------------------------


def test_repeat_caution_with_exceptional_circumstances_unknown_is_one_step_lower():
    s = Scenario()
    s.crime("C1", None, 1, "105A", "violence_against_the_person")
    s.history(P, 20, [("adult_caution", "violence_against_the_person", "2025-06-01")])
    s.outcome("C1", 30, 3, exceptional=None, rank="inspector")
    [finding] = findings(s, "REPEAT_CAUTION_2Y")
    assert finding.payload.severity == "medium"
    assert "the source does not record exceptional circumstances; confirm on the crime record" in (
        finding.payload.explanation
    )


def test_history_rules_cannot_judge_without_an_offender():
    s = Scenario()
    s.crime("C1", None, 1, "105A", "violence_against_the_person")
    s.outcome("C1", 30, 3, offender=None, age=None, **UNKNOWN)
    s.crime("C2", None, 1, "92E", "drug_offences")
    s.outcome("C2", 30, 7, offender=None, age=None, **UNKNOWN)
    result = run(s.records)[0]
    assert of_rule(result, "REPEAT_CAUTION_2Y") == of_rule(result, "CANNABIS_ESCALATION") == []


def test_penalty_notice_without_a_code_is_not_called_ineligible():
    s = Scenario()
    s.crime("C1", None, 1, None, "criminal_damage_and_arson")
    s.outcome("C1", 30, 6, offender=None, age=None, **UNKNOWN)
    assert findings(s, "PND_ELIGIBILITY") == []


def test_penalty_notice_raised_on_known_facts_names_what_was_not_checked():
    s = Scenario()
    s.crime("C1", None, 1, None, "criminal_damage_and_arson")
    s.outcome("C1", 30, 6, offender=None, age=17, **UNKNOWN)
    [finding] = findings(s, "PND_ELIGIBILITY")
    assert finding.payload.severity == "high"  # under 18, as ever
    assert finding.payload.explanation == (
        "Penalty notice for disorder for crime C1, no Home Office code (criminal damage and arson): the offender "
        "was 17: penalty notices are for adults. The source gives no Home Office code, so whether it allows a "
        "penalty notice was not checked; the source names no offender, so the offending history was not checked."
    )


def test_a_community_resolution_known_only_by_a_group_with_restricted_offences_is_a_low_review_finding():
    """A police.uk-style record: the group (violence against the person) holds offences a
    community resolution is not for, and the export cannot say which one this was. Not silent,
    not a breach: a low review finding asking for the offence code. rules-review 3.1."""
    s = Scenario()
    s.crime("C1", None, 1, None, "violence_against_the_person")
    s.outcome("C1", 30, 8, offender=None, age=None, **UNKNOWN)
    [finding] = findings(s, "CR_INELIGIBLE")
    assert (finding.payload.severity, finding.payload.assessment) == ("low", "review")
    assert "confirm the offence code on the crime record" in finding.payload.explanation


def test_a_community_resolution_known_only_by_a_group_without_restricted_offences_raises_nothing():
    # Not theft: theft holds blackmail (HO 35, indictable-only) since rules-review 1.5 point 4.
    s = Scenario()
    s.crime("C1", None, 1, None, "public_order_offences")
    s.outcome("C1", 30, 8, offender=None, age=None, **UNKNOWN)
    assert findings(s, "CR_INELIGIBLE") == []


def test_community_resolution_for_robbery_stands_and_names_the_unknowns():
    s = Scenario()
    s.crime("C1", None, 1, "34B", "robbery")
    s.outcome("C1", 30, 8, offender=None, age=None, **UNKNOWN)
    [finding] = findings(s, "CR_INELIGIBLE")
    assert finding.payload.severity == "high"
    assert finding.payload.explanation.endswith(
        "an indictable-only offence; a high-harm offence. The source does not record whether this was domestic "
        "abuse; the source names no offender, so the offending history was not checked."
    )


# -- records without a Home Office code ---------------------------------------------------------------


def test_explanations_name_a_missing_code_plainly():
    s = Scenario()
    s.opened("I1", 0)
    s.crime("C2", None, 1, None, "burglary")
    s.cancelled("C2", 5, avi=False)
    s.crime("C1", "I1", 30, None, "violence_against_the_person")
    result = run(s.records)[0]
    [late] = of_rule(result, "CRD_LATE")
    assert late.payload.explanation.startswith("Crime C1 (no Home Office code) was recorded 30 h after")
    [cancel] = of_rule(result, "CANCEL_WITHOUT_AVI")
    assert cancel.payload.explanation.startswith("Crime C2, no Home Office code (burglary), was cancelled (C2)")
