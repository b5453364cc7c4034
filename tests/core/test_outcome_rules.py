"""Outcome, cancellation and reclassification rules (docs/rules.md): each fires, does not fire,
its boundaries, and either arrival order of the decision and what it depends on."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cdi.core.pipeline import Monitor, OfflineRun
from tests.core.scenario import CONFIG, REFERENCE, Scenario, at, of_rule, run

P = "PR-0000aaaa"


def crime(s: Scenario, code: str, group: str, crime_id: str = "C1", hours: float = 1.0) -> dict:
    return s.crime(crime_id, None, hours, code, group)


def found(s: Scenario, rule: str, order: list[int] | None = None) -> list:
    records = s.records if order is None else [s.records[i] for i in order]
    return of_rule(run(records)[0], rule)


# -- CAUTION_INDICTABLE_ONLY ------------------------------------------------------------------------


def test_caution_for_robbery_without_dpp_consent_is_found():
    s = Scenario()
    crime(s, "34B", "robbery")
    s.outcome("C1", 30, 3, exceptional=True, dpp=False, rank="superintendent")
    [finding] = found(s, "CAUTION_INDICTABLE_ONLY")
    assert finding.payload.severity == "critical"
    assert finding.payload.subject.id == "C1" and finding.occurred_at == at(30)
    assert "without DPP consent recorded" in finding.payload.explanation
    assert finding.payload.evidence == ("ev-0002", "ev-0001")


def test_caution_for_indictable_only_with_consent_and_exceptional_circumstances_is_allowed():
    s = Scenario()
    crime(s, "34B", "robbery")
    s.outcome("C1", 30, 3, exceptional=True, dpp=True, rank="superintendent")
    assert found(s, "CAUTION_INDICTABLE_ONLY") == []


@pytest.mark.parametrize(
    ("rank", "fires"), [("chief_inspector", True), ("superintendent", False), ("chief_officer", False)]
)
def test_s17_5_exceptional_circumstances_for_an_indictable_only_caution_are_decided_at_superintendent_rank(rank, fires):
    """CJCA 2015 s17(5): exceptional circumstances are determined by an officer not below a
    prescribed rank; superintendent for indictable-only per MoJ guidance (2015). rules-review 1.5
    point 2 ([V] for the test, [K] for the rank, a parameter)."""
    s = Scenario()
    crime(s, "34B", "robbery")
    s.outcome("C1", 30, 3, exceptional=True, dpp=True, rank=rank)
    got = found(s, "CAUTION_INDICTABLE_ONLY")
    assert bool(got) == fires
    if fires:
        assert "decided by a chief inspector" in got[0].payload.explanation
        assert got[0].payload.severity == "critical"


def test_s17_restricts_simple_cautions_only_so_a_conditional_caution_raises_nothing():
    """s17 CJCA 2015 governs simple cautions; outcome 3 also counts adult conditional cautions
    (West Midlands Police FOI 1887A/23). rules-review 1.5 point 1 [V]."""
    s = Scenario()
    crime(s, "34B", "robbery")
    s.outcome("C1", 30, 3, caution_kind="conditional")
    crime(s, "92A", "drug_offences", "C2")
    s.outcome("C2", 30, 3, caution_kind="conditional")
    assert found(s, "CAUTION_INDICTABLE_ONLY") == [] and found(s, "CAUTION_SPECIFIED_EITHER_WAY") == []


def test_a_caution_of_unknown_kind_is_one_step_lower_and_asks_for_the_kind():
    """Exports (police.uk) do not say whether a caution was simple or conditional: the finding is
    likely, not shown. rules-review 1.5 point 1 and 3.1."""
    s = Scenario()
    crime(s, "34B", "robbery")
    s.outcome("C1", 30, 3, caution_kind=None)
    [finding] = found(s, "CAUTION_INDICTABLE_ONLY")
    assert finding.payload.severity == "high"
    assert "Adult caution (kind not recorded)" in finding.payload.explanation
    assert "confirm the kind on the crime record" in finding.payload.explanation


def test_an_alternate_offence_caution_is_judged_on_the_offence_cautioned():
    """Forces record "adult caution with alternate offence" (3A): a robbery record closed with a
    caution for theft is lawful. rules-review 1.5 point 3 [V] (Cumbria Constabulary FOI 1306/25)."""
    s = Scenario()
    crime(s, "34B", "robbery")
    s.outcome("C1", 30, 3, alternate="49")
    assert found(s, "CAUTION_INDICTABLE_ONLY") == []
    s2 = Scenario()
    crime(s2, "49", "theft")
    s2.outcome("C1", 30, 3, alternate="34B")
    [finding] = found(s2, "CAUTION_INDICTABLE_ONLY")
    assert "cautioned for 34B (an alternate offence)" in finding.payload.explanation


def test_caution_for_either_way_or_a_charge_is_not_this_rule():
    s = Scenario()
    crime(s, "8N", "violence_against_the_person")
    s.outcome("C1", 30, 3)
    crime(s, "34B", "robbery", "C2")
    s.outcome("C2", 30, 1)
    assert found(s, "CAUTION_INDICTABLE_ONLY") == []


def test_classification_is_taken_as_of_the_outcome_time():
    s = Scenario()
    crime(s, "34B", "robbery")
    s.reclassified("C1", 10, "34B", "49", reason="property found: theft", role="force_crime_registrar")
    s.outcome("C1", 30, 3)
    assert found(s, "CAUTION_INDICTABLE_ONLY") == []
    s2 = Scenario()
    crime(s2, "49", "theft")
    s2.outcome("C1", 30, 3)
    s2.reclassified("C1", 40, "49", "34B", reason="force used", role="force_crime_registrar")
    assert found(s2, "CAUTION_INDICTABLE_ONLY") == []


def test_outcome_arriving_before_its_crime_record_within_lateness_is_matched():
    s = Scenario()
    s.crime("C0", None, 0, "49", "theft")
    crime(s, "34B", "robbery", hours=1.0)
    s.outcome("C1", 1.05, 3)
    assert len(found(s, "CAUTION_INDICTABLE_ONLY", [0, 2, 1])) == 1


# -- CAUTION_SPECIFIED_EITHER_WAY ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exceptional", "rank", "fires"),
    [
        (False, "inspector", True),
        (True, "sergeant", True),
        (True, "inspector", False),
        (True, "superintendent", False),
    ],
)
def test_caution_for_a_specified_either_way_offence(exceptional, rank, fires):
    s = Scenario()
    crime(s, "10D", "possession_of_weapons")
    s.outcome("C1", 30, 3, exceptional=exceptional, rank=rank)
    assert len(found(s, "CAUTION_SPECIFIED_EITHER_WAY")) == int(fires)


# -- REPEAT_CAUTION_2Y -------------------------------------------------------------------------------


@pytest.mark.parametrize(("prior_date", "fires"), [("2024-03-02", True), ("2024-03-01", False)])
def test_repeat_caution_window_is_exactly_730_days(prior_date, fires):
    s = Scenario()
    crime(s, "105A", "violence_against_the_person")  # offence date 2026-03-02
    s.history(P, 20, [("adult_caution", "violence_against_the_person", prior_date)])
    s.outcome("C1", 30, 3)
    assert len(found(s, "REPEAT_CAUTION_2Y")) == int(fires)


@pytest.mark.parametrize(
    ("rank", "kind", "severity"),
    [
        ("sergeant", "simple", "high"),
        ("inspector", "simple", None),
        ("sergeant", "conditional", None),
        ("sergeant", None, "medium"),
    ],
)
def test_s17_5_a_repeat_caution_is_excused_only_by_exceptional_circumstances_decided_at_inspector_rank(
    rank, kind, severity
):
    """CJCA 2015 s17(4) and (5): exceptional circumstances allow a repeat simple caution only when
    an officer of the prescribed rank (inspector, MoJ 2015 guidance) determined them; conditional
    cautions are outside s17. rules-review 1.7 [V] (rank value [K], a parameter)."""
    s = Scenario()
    crime(s, "105A", "violence_against_the_person")
    s.history(P, 20, [("conviction", "violence_against_the_person", "2025-06-01")])
    s.outcome("C1", 30, 3, exceptional=True, rank=rank, caution_kind=kind)
    got = found(s, "REPEAT_CAUTION_2Y")
    assert [f.payload.severity for f in got] == ([severity] if severity else [])
    if severity == "high":
        assert "exceptional circumstances were decided by a sergeant, below inspector" in got[0].payload.explanation


def test_repeat_caution_needs_a_similar_offence_and_no_exceptional_circumstances():
    s = Scenario()
    crime(s, "105A", "violence_against_the_person")
    s.history(P, 20, [("conviction", "theft", "2025-06-01")])
    s.outcome("C1", 30, 3)
    assert found(s, "REPEAT_CAUTION_2Y") == []
    s2 = Scenario()
    crime(s2, "105A", "violence_against_the_person")
    s2.history(P, 20, [("conviction", "violence_against_the_person", "2025-06-01")])
    s2.outcome("C1", 30, 3, exceptional=True, rank="inspector")
    assert found(s2, "REPEAT_CAUTION_2Y") == []


def test_repeat_caution_from_a_caution_the_monitor_saw_itself():
    s = Scenario()
    crime(s, "105A", "violence_against_the_person", "C1", 1)
    s.outcome("C1", 10, 3)
    crime(s, "8N", "violence_against_the_person", "C2", 20)
    s.outcome("C2", 40, 3)
    [finding] = found(s, "REPEAT_CAUTION_2Y")
    assert finding.payload.subject.id == "C2"
    assert "ev-0002" in finding.payload.evidence  # the earlier caution


def test_snapshot_arriving_after_the_outcome_within_lateness_still_counts():
    s = Scenario()
    crime(s, "105A", "violence_against_the_person")
    s.outcome("C1", 30, 3)
    s.history(P, 29.9, [("adult_caution", "violence_against_the_person", "2025-01-01")])
    assert len(found(s, "REPEAT_CAUTION_2Y")) == 1


def test_a_snapshot_taken_after_the_outcome_does_not_count():
    s = Scenario()
    crime(s, "105A", "violence_against_the_person")
    s.outcome("C1", 30, 3)
    s.history(P, 31, [("adult_caution", "violence_against_the_person", "2025-01-01")])
    assert found(s, "REPEAT_CAUTION_2Y") == []


# -- PND_ELIGIBILITY -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "fires"), [(100.0, False), (100.01, True), (None, False)])
def test_penalty_notice_value_limit(value, fires):
    s = Scenario()
    crime(s, "46", "theft")
    s.outcome("C1", 30, 6, value=value)
    result = found(s, "PND_ELIGIBILITY")
    assert len(result) == int(fires)
    if fires:
        assert "over the GBP 100 limit" in result[0].payload.explanation


@pytest.mark.parametrize(("age", "fires"), [(17, True), (18, False)])
def test_penalty_notice_age(age, fires):
    s = Scenario()
    crime(s, "9A", "public_order_offences")
    s.outcome("C1", 30, 6, age=age)
    result = found(s, "PND_ELIGIBILITY")
    assert len(result) == int(fires)
    if fires:
        assert result[0].payload.severity == "high"


def test_penalty_notice_for_an_ineligible_offence():
    s = Scenario()
    crime(s, "8N", "violence_against_the_person")
    s.outcome("C1", 30, 6)
    [finding] = found(s, "PND_ELIGIBILITY")
    assert "8N is not an offence for a penalty notice" in finding.payload.explanation


def test_penalty_notice_for_someone_with_a_significant_history_is_a_medium_heuristic_flag():
    """No guidance sets a number of prior disposals: the flag stays medium and says it is the
    monitor's heuristic. rules-review 1.8 point 4."""
    s = Scenario()
    crime(s, "58C", "criminal_damage_and_arson")
    s.history(
        P,
        20,
        [
            ("conviction", "theft", "2025-01-01"),
            ("conviction", "drug_offences", "2025-05-01"),
            ("community_resolution", "public_order_offences", "2025-09-01"),
        ],
    )
    s.outcome("C1", 30, 6, value=120.0)
    [finding] = found(s, "PND_ELIGIBILITY")
    assert "3 disposals within 730 days" in finding.payload.explanation
    assert "heuristic, not a guidance threshold" in finding.payload.explanation
    assert finding.payload.severity == "medium"


def test_cannabis_penalty_notice_needs_an_earlier_warning():
    s = Scenario()
    crime(s, "92E", "drug_offences")
    s.outcome("C1", 30, 6)
    assert "no earlier cannabis warning" in found(s, "PND_ELIGIBILITY")[0].payload.explanation
    s2 = Scenario()
    crime(s2, "92E", "drug_offences")
    s2.history(P, 20, [("cannabis_warning", "drug_offences", "2025-09-01")])
    s2.outcome("C1", 30, 6)
    assert found(s2, "PND_ELIGIBILITY") == []


def test_penalty_notice_without_offender_reference_checks_only_the_offence():
    s = Scenario()
    crime(s, "46", "theft")
    s.outcome("C1", 30, 6, offender=None, value=50.0)
    assert found(s, "PND_ELIGIBILITY") == []


# -- CANNABIS_ESCALATION -------------------------------------------------------------------------------


def test_second_cannabis_warning_is_found():
    s = Scenario()
    crime(s, "92E", "drug_offences")
    s.history(P, 20, [("cannabis_warning", "drug_offences", "2025-06-01")])
    s.outcome("C1", 30, 7)
    [finding] = found(s, "CANNABIS_ESCALATION")
    assert "second cannabis warning" in finding.payload.explanation


def test_cannabis_escalation_counts_an_earlier_warning_whenever_it_was_given():
    """ACPO 2009 escalates by previous disposals, not within 12 months: a warning a year and a day
    earlier still makes this a second warning. rules-review 1.9 [V]."""
    s = Scenario()
    crime(s, "92E", "drug_offences")
    s.history(P, 20, [("cannabis_warning", "drug_offences", "2025-03-01")])  # 366 days before
    s.outcome("C1", 30, 7)
    [finding] = found(s, "CANNABIS_ESCALATION")
    assert "a second cannabis warning (the earlier one on 2025-03-01)" in finding.payload.explanation


def test_a_force_that_limits_cannabis_escalation_to_a_year_sets_the_window():
    """The 12-month window is a force option (window_days), no longer the default."""
    rule = CONFIG.rule("CANNABIS_ESCALATION")
    limited = replace(rule, params={**rule.params, "window_days": 365})
    monitor = Monitor(replace(CONFIG, rules={**CONFIG.rules, "CANNABIS_ESCALATION": limited}), REFERENCE)
    s = Scenario()
    crime(s, "92E", "drug_offences")
    s.history(P, 20, [("cannabis_warning", "drug_offences", "2025-03-01")])  # 366 days before
    s.outcome("C1", 30, 7)
    offline = OfflineRun.start(monitor)
    steps = [offline.process(e) for e in s.events()] + [offline.finish()]
    assert [f for step in steps for f in step.findings if f.payload.rule == "CANNABIS_ESCALATION"] == []


def test_cannabis_penalty_notice_after_a_penalty_notice_and_to_a_17_year_old():
    s = Scenario()
    crime(s, "92E", "drug_offences")
    s.history(P, 20, [("penalty_notice", "drug_offences", "2025-10-01")])
    s.outcome("C1", 30, 6, age=17)
    [finding] = found(s, "CANNABIS_ESCALATION")
    assert "an arrest was due" in finding.payload.explanation and "under 18" in finding.payload.explanation
    assert finding.payload.severity == "high"
    assert len(found(s, "PND_ELIGIBILITY")) == 1  # the same notice breaks the penalty-notice rule too


# -- CR_INELIGIBLE -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "group", "kw", "reason"),
    [
        ("105A", "violence_against_the_person", {"domestic": True, "intimate": True}, "intimate partner"),
        ("34B", "robbery", {}, "indictable-only"),
        ("28E", "burglary", {}, "high-harm"),
        ("49", "theft", {"victim_views": False}, "victim's views"),
    ],
)
def test_community_resolution_that_guidance_rules_out(code, group, kw, reason):
    s = Scenario()
    crime(s, code, group)
    s.outcome("C1", 30, 8, **kw)
    [finding] = found(s, "CR_INELIGIBLE")
    assert reason in finding.payload.explanation


def test_community_resolution_for_a_first_low_level_offence_is_fine():
    s = Scenario()
    crime(s, "49", "theft")
    s.outcome("C1", 30, 8)
    assert found(s, "CR_INELIGIBLE") == []


@pytest.mark.parametrize(
    ("intimate", "severity", "says"),
    [
        (True, "high", "domestic abuse against an intimate partner"),
        (False, "medium", "domestic abuse (a family member)"),
        (None, "medium", "domestic abuse (a relationship the source does not record)"),
    ],
)
def test_any_domestic_abuse_flag_is_weighed_intimate_partners_high_family_medium(intimate, severity, says):
    """Out-of-court disposals are rarely appropriate for domestic abuse, family members included.
    rules-review 1.10 [V] (College of Policing / NPCC)."""
    s = Scenario()
    crime(s, "49", "theft")
    s.outcome("C1", 30, 8, domestic=True, intimate=intimate)
    [finding] = found(s, "CR_INELIGIBLE")
    assert finding.payload.severity == severity and says in finding.payload.explanation


def test_a_community_resolution_for_a_child_is_one_step_lower():
    """The child gravity matrix may allow a community resolution for some serious offences by
    children. rules-review 1.10 [K]."""
    s = Scenario()
    crime(s, "34B", "robbery")
    s.outcome("C1", 30, 8, age=15)
    [finding] = found(s, "CR_INELIGIBLE")
    assert finding.payload.severity == "medium" and "the offender was 15" in finding.payload.explanation


def test_other_sexual_offences_are_high_harm_for_community_resolutions():
    """Other sexual offences were the largest group of community resolutions in the BBC data.
    rules-review 1.10."""
    s = Scenario()
    crime(s, "20A", "sexual_offences")
    s.outcome("C1", 30, 8)
    [finding] = found(s, "CR_INELIGIBLE")
    assert "a high-harm offence" in finding.payload.explanation and finding.payload.severity == "high"


def test_community_resolution_is_flagged_after_two_earlier_out_of_court_disposals_not_one():
    """Community resolutions may be given more than once; the gravity matrix weighs history rather
    than barring it: one earlier disposal is no finding, two are. rules-review 1.10 [V]."""
    s = Scenario()
    crime(s, "49", "theft")
    s.history(P, 20, [("penalty_notice", "public_order_offences", "2025-01-01")])
    s.outcome("C1", 30, 8)
    assert found(s, "CR_INELIGIBLE") == []
    s2 = Scenario()
    crime(s2, "49", "theft")
    s2.history(
        P,
        20,
        [
            ("penalty_notice", "public_order_offences", "2025-01-01"),
            ("cannabis_warning", "drug_offences", "2025-06-01"),
        ],
    )
    s2.outcome("C1", 30, 8)
    assert "2 earlier out-of-court disposals" in found(s2, "CR_INELIGIBLE")[0].payload.explanation


# -- FAST_UNSUCCESSFUL_OUTCOME -------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "fires"), [(13.99, True), (14.0, False)])
def test_rape_closed_unsuccessfully_within_14_days(days, fires):
    s = Scenario()
    crime(s, "19C", "sexual_offences", hours=1)
    s.outcome("C1", 1 + days * 24, 16, offender=None)
    assert len(found(s, "FAST_UNSUCCESSFUL_OUTCOME")) == int(fires)


def test_fast_closure_of_a_theft_or_with_a_charge_is_not_flagged():
    s = Scenario()
    crime(s, "49", "theft")
    s.outcome("C1", 30, 18)
    crime(s, "5D", "violence_against_the_person", "C2")
    s.outcome("C2", 30, 1)
    assert found(s, "FAST_UNSUCCESSFUL_OUTCOME") == []


# -- CANCEL_WITHOUT_AVI --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "reason", "severity", "assessment"),
    [
        ({"code": "C2", "avi": False}, "without additional verifiable information", "high", "breach"),
        ({"role": "investigator"}, "authorised by the investigator", "high", "breach"),
        # A phrase alone is a medium review finding (rules-review 1.12 point 6; tests/core/test_cancellation_rules.py).
        ({"reason": "Victim withdrew support"}, "not a cancellation ground", "medium", "review"),
    ],
)
def test_cancellation_without_grounds(kw, reason, severity, assessment):
    s = Scenario()
    crime(s, "8N", "violence_against_the_person")
    s.cancelled("C1", 30, **kw)
    [finding] = found(s, "CANCEL_WITHOUT_AVI")
    assert reason in finding.payload.explanation
    assert (finding.payload.severity, finding.payload.assessment) == (severity, assessment)


def test_rape_cancellation_by_the_designated_decision_maker_is_lawful():
    """No national rule reserves rape cancellations to the registrar: the designated decision
    maker cancels, the registrar is final arbiter. rules-review 1.12 point 2."""
    s = Scenario()
    crime(s, "8N", "violence_against_the_person")
    s.cancelled("C1", 30)
    assert found(s, "CANCEL_WITHOUT_AVI") == []
    s2 = Scenario()
    crime(s2, "19C", "sexual_offences")
    s2.cancelled("C1", 30, role="designated_decision_maker")
    assert found(s2, "CANCEL_WITHOUT_AVI") == []
    s4 = Scenario()
    crime(s4, "19C", "sexual_offences")
    s4.cancelled("C1", 30, role="supervisor")
    [finding] = found(s4, "CANCEL_WITHOUT_AVI")
    assert finding.payload.severity == "critical"
    assert "a rape record cancelled by a role other than the designated decision maker or force crime registrar" in (
        finding.payload.explanation
    )
    s3 = Scenario()
    crime(s3, "19C", "sexual_offences")
    s3.cancelled("C1", 30, role="force_crime_registrar")
    assert found(s3, "CANCEL_WITHOUT_AVI") == []


# -- RECLASS_DOWN_NO_REASON ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "fires"),
    [
        ({"reason": None}, True),
        ({"reason": "  "}, True),
        ({"role": "investigator"}, False),
        ({}, False),
    ],
)
def test_downgrade_needs_a_reason_and_only_a_serious_one_needs_a_registrar(kw, fires):
    """Every downgrade needs a reason (HOCR section B); the role test applies to serious
    downgrades only, investigators routinely reclassifying with a reason. rules-review 1.13 [K]."""
    s = Scenario()
    crime(s, "8N", "violence_against_the_person")
    s.reclassified("C1", 30, "8N", "105A", **kw)
    assert len(found(s, "RECLASS_DOWN_NO_REASON")) == int(fires)


def test_a_serious_downgrade_by_an_investigator_is_found_even_with_a_reason():
    s = Scenario()
    crime(s, "19C", "sexual_offences")
    s.reclassified("C1", 30, "19C", "20A", reason="consent disputed", role="investigator")
    [finding] = found(s, "RECLASS_DOWN_NO_REASON")
    assert "made by the investigator" in finding.payload.explanation
    assert "the monitor's own seriousness ranking" in finding.payload.explanation


def test_upgrade_without_reason_is_not_a_downgrade():
    s = Scenario()
    crime(s, "105A", "violence_against_the_person")
    s.reclassified("C1", 30, "105A", "8N", reason=None, role="investigator")
    assert found(s, "RECLASS_DOWN_NO_REASON") == []


def test_downgrade_from_rape_is_high():
    s = Scenario()
    crime(s, "19C", "sexual_offences")
    s.reclassified("C1", 30, "19C", "20A", reason=None)
    [finding] = found(s, "RECLASS_DOWN_NO_REASON")
    assert finding.payload.severity == "high" and finding.payload.offence_group == "sexual_offences"
