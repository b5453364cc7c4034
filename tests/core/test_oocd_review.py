"""The out-of-court-disposal points of the legal review (shared/rules-review.md 1.5 to 1.10, 4,
5 and 6; docs/rules.md "Outcome rules"). Each test names its review point; its docstring gives
the source and the review's confidence mark ([V] verified, with the address; [K] practitioner
knowledge; [U] unverified, kept as a parameter). Date and rank conditions are tested on both
sides of their boundary."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from cdi.contracts import Contracts
from cdi.core.crimes import CrimeCase
from cdi.core.pipeline import Monitor, OfflineRun
from cdi.core.times import MS_PER_HOUR, parse_time
from cdi.rules import DEFAULT, RulesFileError, load
from tests.core.scenario import BASE, CONFIG, REFERENCE, Scenario, of_rule, run

P = "PR-0000aaaa"
SPECIFIED, INDICTABLE, REPEAT = "CAUTION_SPECIFIED_EITHER_WAY", "CAUTION_INDICTABLE_ONLY", "REPEAT_CAUTION_2Y"
PND, CANNABIS, CR = "PND_ELIGIBILITY", "CANNABIS_ESCALATION", "CR_INELIGIBLE"


def hours(iso: str) -> float:
    """Hours after the scenarios' base (2026-03-02T00:00Z) of an RFC 3339 time."""
    return (parse_time(iso) - BASE) / MS_PER_HOUR


def crime(s: Scenario, code: str, group: str, hours_: float = 1.0, crime_id: str = "C1", **facts: Any) -> dict:
    """A crime record; ``facts`` are the optional crime.recorded fields (offence_from, drug_class)."""
    record = s.crime(crime_id, None, hours_, code, group)
    record["payload"].update(facts)
    return record


def outcome(s: Scenario, hours_: float, kind: int, crime_id: str = "C1", facts: dict | None = None, **kw: Any) -> dict:
    """An outcome; ``facts`` are the optional outcome.assigned fields (goods_recovered,
    aggravating_factors)."""
    record = s.outcome(crime_id, hours_, kind, **kw)
    record["payload"].update(facts or {})
    return record


def found(s: Scenario, rule: str, monitor: Monitor | None = None) -> list:
    if monitor is None:
        return of_rule(run(s.records)[0], rule)
    offline = OfflineRun.start(monitor)
    contracts = Contracts()
    steps = [offline.process(contracts.parse(r)) for r in s.records] + [offline.finish()]
    return [f for step in steps for f in step.findings if f.payload.rule == rule]


def with_params(rule: str, **params: Any) -> Monitor:
    settings = CONFIG.rule(rule)
    changed = replace(settings, params={**settings.params, **params})
    return Monitor(replace(CONFIG, rules={**CONFIG.rules, rule: changed}), REFERENCE)


# -- 1. indictable-only codes (rules-review 1.5 point 4) ----------------------------------------------


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("1", "violence_against_the_person"),
        ("2", "violence_against_the_person"),
        ("4/1", "violence_against_the_person"),
        ("4/4", "violence_against_the_person"),
        ("36", "violence_against_the_person"),
        ("35", "theft"),
        ("31A", "burglary"),
    ],
)
def test_review_1_5_point_4_murder_kidnapping_blackmail_and_aggravated_burglary_are_indictable_only(code, group):
    """rules-review 1.5 point 4: the table lacked these indictable-only offences. Codes [V]: murder
    1 and attempted murder 2 (HOCR Violence against the Person, April 2010,
    https://docslib.org/doc/4685317), manslaughter 4/1 and causing death by dangerous driving 4/4
    (the same HOCR list; 4.1 and 4.4 in ONS tables); kidnapping 36, blackmail 35, aggravated burglary business and
    community 31A (ONS offence hierarchy, https://github.com/ONSdigital/dp-hierarchy-builder,
    cmd/hierarchy-transformer/output/crime/hierarchy.cypher). Blackmail triable on indictment only
    [V] (Theft Act 1968 s21(3)); the others [K]."""
    s = Scenario()
    crime(s, code, group)
    outcome(s, 30, 3)
    [finding] = found(s, INDICTABLE)
    assert (finding.payload.severity, finding.payload.assessment) == ("critical", "breach")
    assert "an indictable-only offence, without DPP consent or exceptional circumstances" in finding.payload.explanation


@pytest.mark.parametrize(("code", "kw", "expected"), [
    ("20A", {}, ("high", "review")),
    ("17A", {"caution_kind": None}, ("high", "review")),
    ("20A", {"exceptional": True, "dpp": True, "rank": "superintendent"}, None),
    ("20A", {"exceptional": True, "dpp": True, "rank": "chief_inspector"}, ("high", "review")),
])  # fmt: skip
def test_review_1_5_point_4_sexual_assault_classes_holding_assault_by_penetration_are_a_review(code, kw, expected):
    """rules-review 1.5 point 4 [K]: HO classes 17A and 20A hold assault by penetration (Sexual
    Offences Act 2003 s2, indictable-only [V]
    https://kangs-dev.jtid.co.uk/services/criminal-litigation/sexual-offences/assault-by-penetration)
    with sexual assault (s3, either way [V] https://www.sentencingcouncil.org.uk/offences/item/sexual-assault/).
    The table marks them mixed: the record cannot say which was cautioned, so a caution short of
    what s17(2) needs is a review one step below critical, never a breach; with DPP consent and
    exceptional circumstances decided at superintendent rank it raises nothing (a chief inspector,
    one rank below, does not suffice)."""
    s = Scenario()
    crime(s, code, "sexual_offences")
    outcome(s, 30, 3, **kw)
    got = found(s, INDICTABLE)
    assert [(f.payload.severity, f.payload.assessment) for f in got] == ([expected] if expected else [])
    if expected:
        assert "a class that holds indictable-only offences as well as either-way ones" in got[0].payload.explanation
        assert "confirm on the crime record which offence was cautioned" in got[0].payload.explanation


def test_review_1_5_point_4_codes_take_the_counting_rules_class_and_subclass_form():
    """rules-review 1.5 point 4: manslaughter is HO class 4/1 and causing death by dangerous
    driving 4/4 (HOCR April 2010 [V], https://docslib.org/doc/4685317). The contracts' code pattern
    (schemas/common.v1.json hocr_code) takes the counting rules' class/subclass form; the ONS
    tables' dotted form (4.1) is a source adapter's to translate, so it is refused, not guessed."""
    pattern = re.compile(Contracts().schemas["urn:cdi:schema:common:1"]["$defs"]["hocr_code"]["pattern"])
    assert all(pattern.match(code) for code in ("4/1", "4/4", "36", "31A", "N100"))
    assert not any(pattern.match(code) for code in ("4.1", "4/", "/1", "4/123"))


def test_review_1_5_point_4_a_theft_resolution_without_a_code_is_now_a_low_review():
    """Blackmail (indictable-only) is recorded as other theft (ONS hierarchy [V], police.uk "Other
    theft"), so a community resolution known only as theft is a low review asking for the code
    (rules-review 3.1), as violence already was."""
    s = Scenario()
    s.crime("C1", None, 1, None, "theft")
    s.outcome("C1", 30, 8, offender=None, age=None, rank=None, exceptional=None, dpp=None, domestic=None)
    [finding] = found(s, CR)
    assert (finding.payload.severity, finding.payload.assessment) == ("low", "review")


@pytest.mark.parametrize(("day", "fires"), [("2015-04-12", False), ("2015-04-13", True)])
def test_review_1_5_point_5_s17_judges_cautions_from_its_commencement(day, fires):
    """rules-review 1.5 point 5: version the rule by commencement date. s17 and the MoJ's Simple
    Cautions for Adult Offenders are in force from 13 April 2015 [V: "This guidance is effective
    from 13 April 2015", https://vdocument.in/simple-cautions-guidance-simple-cautions-form-part-of-an-offenderas-criminal.html]
    (in_force_from, a parameter). A caution the day before is not judged; one on the day is."""
    s = Scenario()
    crime(s, "34B", "robbery", hours(f"{day}T08:00:00Z"))
    crime(s, "105A", "violence_against_the_person", hours(f"{day}T08:00:00Z"), "C2")
    s.history(P, hours(f"{day}T08:30:00Z"), [("conviction", "violence_against_the_person", "2014-06-01")])
    outcome(s, hours(f"{day}T09:00:00Z"), 3)
    outcome(s, hours(f"{day}T09:00:00Z"), 3, "C2")
    assert len(found(s, INDICTABLE)) == len(found(s, REPEAT)) == int(fires)


# -- 2. SI 2015/790 in full (rules-review 1.6) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("drug_class", "expected"),
    [("A", ("high", "breach")), ("B", None), ("C", None), (None, ("medium", "review"))],
)
def test_review_1_6_point_2_drug_supply_is_specified_for_class_a_only(drug_class, expected):
    """rules-review 1.6 point 2 [V]: SI 2015/790 items 8 to 10 specify Misuse of Drugs Act s4(2),
    s4(3) and s5(3) only "where the offence was committed in relation to a Class A drug"
    (http://legislation.gov.uk/uksi/2015/790/made). HO 92A holds every class: Class A is a breach,
    B or C no finding, an unknown class a review one step lower asking for it. The text cites the
    law, never "policy"."""
    s = Scenario()
    crime(s, "92A", "drug_offences", **({"drug_class": drug_class} if drug_class else {}))
    outcome(s, 30, 3)
    got = found(s, SPECIFIED)
    assert [(f.payload.severity, f.payload.assessment) for f in got] == ([expected] if expected else [])
    if got:
        text = got[0].payload.explanation
        assert "SI 2015/790: Misuse of Drugs Act 1971 s4(2), s4(3) or s5(3)" in text
        assert "policy" not in text.lower()
        if drug_class is None:
            assert "only for a Class A drug, and the source does not record the drug's class" in text
            assert text.endswith("Confirm the drug's class on the crime record.")
        else:
            assert "s5(3), Class A): no exceptional circumstances recorded." in text


@pytest.mark.parametrize(
    ("code", "group", "law", "expected"),
    [
        ("10D", "possession_of_weapons", "Criminal Justice Act 1988 s139(1), s139A(1) or s139AA(1)", "breach"),
        ("10C", "possession_of_weapons", "Prevention of Crime Act 1953 s1(1) or s1A(1)", "breach"),
        ("11A", "violence_against_the_person", "Children and Young Persons Act 1933 s1(1)", "breach"),
        ("73", "sexual_offences", "Sexual Offences Act 2003 s16(1), s17(1), s18(1) or s19(1)", "breach"),
        ("86", "miscellaneous", "Protection of Children Act 1978 s1(1); Criminal Justice Act 1988 s160(1)", "review"),
        ("22A", "sexual_offences", "Sexual Offences Act 2003 s4(1) and (5)", "review"),
    ],
)
def test_review_1_6_point_1_the_statutory_list_in_full(code, group, law, expected):
    """rules-review 1.6 point 1 [V]: SI 2015/790's Schedule (http://legislation.gov.uk/uksi/2015/790/made)
    lists child cruelty, offensive weapons, firearms, Class A supply and child sexual offences; the
    knife offences of the Criminal Justice Act 1988 and indecent images of children are in items
    not read in the stored copy [K]. reference/specified_either_way.csv holds it; a class that also
    holds other offences (86) or a condition no record field settles (a victim under 16) makes a
    review."""
    s = Scenario()
    crime(s, code, group)
    outcome(s, 30, 3)
    [finding] = found(s, SPECIFIED)
    assert finding.payload.assessment == expected
    assert finding.payload.severity == ("high" if expected == "breach" else "medium")
    assert f"(SI 2015/790: {law}" in finding.payload.explanation


@pytest.mark.parametrize(("day", "fires"), [("2015-04-12", False), ("2015-04-13", True)])
def test_review_1_6_a_caution_before_the_orders_commencement_is_not_judged_under_it(day, fires):
    """SI 2015/790 came into force on 13 April 2015 [V] (http://legislation.gov.uk/uksi/2015/790/made,
    article 1): each row of the table carries its commencement (in_force_from); a caution the day
    before is not judged under it, one on the day is (the rules-editions-by-date point for cautions)."""
    s = Scenario()
    crime(s, "10D", "possession_of_weapons", hours(f"{day}T08:00:00Z"))
    outcome(s, hours(f"{day}T09:00:00Z"), 3)
    assert len(found(s, SPECIFIED)) == int(fires)


@pytest.mark.parametrize(("committed", "fires"), [(None, False), ("2004-04-30", True), ("2004-05-01", False)])
def test_review_1_6_sexual_offences_act_1956_items_apply_to_offences_committed_before_2004(committed, fires):
    """SI 2015/790 items 4 and 5 [V]: indecent assault under the Sexual Offences Act 1956, the
    victim under 16. The 1956 Act was replaced by the Sexual Offences Act 2003 from 1 May 2004
    [K], so the row judges only an offence committed before then (committed_before), and then as a
    review: no record field gives the victim's age. Without a date of commission the record's date
    (2026) stands in."""
    s = Scenario()
    facts = {"offence_from": f"{committed}T12:00:00Z"} if committed else {}
    crime(s, "20A", "sexual_offences", **facts)
    outcome(s, 30, 3)
    got = found(s, SPECIFIED)
    assert len(got) == int(fires)
    if fires:
        assert got[0].payload.assessment == "review"
        assert "only where the victim was under 16" in got[0].payload.explanation
        assert "Sexual Offences Act 1956 s14(1)" in got[0].payload.explanation


def test_review_1_6_the_specified_table_is_the_statute_and_feeds_the_policy():
    """The list lives in specified_either_way.csv (SI 2015/790, law), not in offence_policies.csv;
    every class it names is in the code table, and every row is in force from 13 April 2015."""
    assert {row.in_force_from for row in REFERENCE.specified_offences} == {"2015-04-13"}
    codes = {code for row in REFERENCE.specified_offences for code in row.hocr_codes}
    assert codes <= REFERENCE.offence_codes.keys()
    assert {"92A", "10D", "10C", "11A"} <= codes
    assert all(REFERENCE.policy(code).caution_restriction == "specified_either_way" for code in codes)
    assert REFERENCE.policy("46").caution_restriction is None


# -- 3. offence dates for historic reports (rules-review 1.7) ------------------------------------------


@pytest.mark.parametrize(
    ("prior", "committed", "fires"),
    [
        ("2023-09-02", "2025-09-01T22:30:00+01:00", True),  # 730 days before the commission: in
        ("2023-09-01", "2025-09-01T22:30:00+01:00", False),  # 731 days: out
        ("2023-09-02", None, False),  # 912 days before the record date: out
        ("2024-03-02", None, True),  # 730 days before the record date: in
    ],
)
def test_review_1_7_the_two_years_count_back_from_the_commission_of_the_offence(prior, committed, fires):
    """rules-review 1.7 [K]; CJCA 2015 s17(4) [V] ("in the two years before the commission of the
    offence", https://legislation.gov.uk/ukpga/2015/2/section/17/data.htm): for a historic report
    the window counts back from offence_from (its UTC date: 22:30 at +01:00 on 1 September is
    2025-09-01 in UTC), else from the record's date, and the finding says which."""
    s = Scenario()
    crime(s, "105A", "violence_against_the_person", **({"offence_from": committed} if committed else {}))
    s.history(P, 20, [("adult_caution", "violence_against_the_person", prior)])
    outcome(s, 30, 3)
    got = found(s, REPEAT)
    assert len(got) == int(fires)
    if fires and committed:
        assert "counted back from 2025-09-01, when the offence was committed" in got[0].payload.explanation
    elif fires:
        assert "counted back from 2026-03-02, the date of the crime record" in got[0].payload.explanation


@pytest.mark.parametrize(
    ("offence_from", "counted_from"),
    [
        ("2026-03-02T01:00:00Z", "2026-03-02, when the offence was committed"),  # the record's own time
        ("2026-03-02T01:00:00.001Z", "2026-03-02, the date of the crime record"),  # after the record: ignored
    ],
)
def test_review_1_7_a_date_of_commission_after_the_record_is_not_taken(offence_from, counted_from):
    """An offence cannot be committed after it was recorded: an offence_from later than the
    record's time (by a millisecond) is not taken, and the record's date stands in."""
    s = Scenario()
    crime(s, "105A", "violence_against_the_person", offence_from=offence_from)  # recorded at 01:00
    s.history(P, 20, [("adult_caution", "violence_against_the_person", "2025-01-01")])
    outcome(s, 30, 3)
    [finding] = found(s, REPEAT)
    assert f"counted back from {counted_from}" in finding.payload.explanation


def test_review_1_7_other_history_windows_count_from_the_commission_too():
    """Every history window "before the offence date" (docs/rules.md) uses the same date: two
    earlier out-of-court disposals 730 days before the commission make a community resolution a
    finding that the record's date would not."""
    s = Scenario()
    crime(s, "49", "theft", offence_from="2025-09-01T12:00:00Z")
    s.history(
        P,
        20,
        [
            ("penalty_notice", "public_order_offences", "2023-09-02"),
            ("cannabis_warning", "drug_offences", "2024-01-01"),
        ],
    )
    outcome(s, 30, 8)
    [finding] = found(s, CR)
    assert "2 earlier out-of-court disposals within 730 days" in finding.payload.explanation


def test_review_1_7_crimes_saved_before_the_dates_were_kept_still_load():
    """Stored state is backward compatible: a crime case saved before rules 2026.12.2 holds a
    four-field record; it loads and reads its date of commission and drug class as not known."""
    old = {
        "key": "C1",
        "force": "F",
        "division": "D",
        "first_at": BASE,
        "last_at": BASE,
        "final_at": None,
        "recorded": [BASE, "ev-1", "92A", "drug_offences"],
        "reclassified": [],
        "pending": [],
        "seen": ["ev-1"],
        "raised": [],
    }
    crime_now = CrimeCase.from_dict(old).as_of(BASE)
    assert crime_now is not None
    assert (crime_now.committed_on, crime_now.drug_class, crime_now.offence_date) == (None, None, "2026-03-02")


# -- 4. penalty notices and cannabis (rules-review 1.8 points 2 and 6, 1.9) --------------------------------


@pytest.mark.parametrize(
    ("goods", "fires", "says"),
    [
        (False, True, "the goods were not recovered"),
        (True, False, None),
        (None, False, None),
    ],
)
def test_review_1_8_point_2_a_retail_theft_notice_needs_the_goods_recovered(goods, fires, says):
    """rules-review 1.8 point 2 [V]: the 2009 revision limited shoplifting notices to goods under
    GBP 100 recovered and fit for resale
    (https://conveniencestore.co.uk/straw-tightens-up-shop-crime-penalties/201964.article).
    goods_recovered false is a finding; null is not checked."""
    s = Scenario()
    crime(s, "46", "theft")
    outcome(s, 30, 6, value=40.0, facts={} if goods is None else {"goods_recovered": goods})
    got = found(s, PND)
    assert len(got) == int(fires)
    if says:
        assert says in got[0].payload.explanation


def test_review_1_8_point_2_unknown_goods_are_named_when_a_notice_is_flagged_for_another_reason():
    """A null goods_recovered is "not checked, and the finding says so" (docs/rules.md, Facts the
    source does not record)."""
    s = Scenario()
    crime(s, "46", "theft")
    outcome(s, 30, 6, value=150.0)
    [finding] = found(s, PND)
    assert "over the GBP 100 limit" in finding.payload.explanation
    assert "does not record whether the goods were recovered, so that was not checked" in finding.payload.explanation


@pytest.mark.parametrize(
    ("prior", "window", "fires"),
    [
        (("community_resolution", "theft", "2010-06-01"), None, True),  # any time before
        (("conviction", "public_order_offences", "2025-06-01"), None, False),  # not a theft
        (("community_resolution", "theft", "2025-03-02"), 365, True),  # force window: 365 days, in
        (("community_resolution", "theft", "2025-03-01"), 365, False),  # 366 days, out
    ],
)
def test_review_1_8_point_2_a_retail_theft_notice_is_for_a_first_offence(prior, window, fires):
    """rules-review 1.8 point 2 [V] (same source): shoplifting notices only for first-time
    offenders, so any earlier theft disposal, at any time, is a finding (not_first_offence); a
    force may limit it to a period (first_offence_window_days, absent by default). Earlier theft
    disposals are kept whatever their age for it."""
    s = Scenario()
    crime(s, "46", "theft")
    s.history(P, 20, [prior])
    outcome(s, 30, 6, value=40.0, facts={"goods_recovered": True})
    monitor = with_params(PND, first_offence_window_days=window) if window else None
    got = found(s, PND, monitor)
    assert len(got) == int(fires)
    if fires:
        assert "not a first offence: an earlier community resolution for theft" in got[0].payload.explanation


@pytest.mark.parametrize(("code", "group", "fires"), [("46", "theft", True), ("9A", "public_order_offences", False)])
def test_review_1_8_point_6_a_notice_for_a_crime_with_a_victim_needs_the_victims_views(code, group, fires):
    """rules-review 1.8 point 6 [V]: HMIC recommended an auditable record that the victim's views
    were considered before any caution or penalty notice for a victim-based crime
    (https://www.justiceinspectorates.gov.uk/hmicfrs/?recommendation-theme=cautions). Public
    Order Act s5 (9A) has no victim in the code table."""
    s = Scenario()
    crime(s, code, group)
    outcome(s, 30, 6, value=40.0 if code == "46" else None, victim_views=False, facts={"goods_recovered": True})
    got = found(s, PND)
    assert len(got) == int(fires)
    if fires:
        assert "no record that the victim's views were considered" in got[0].payload.explanation


def test_review_1_8_point_6_a_caution_finding_names_missing_victims_views():
    """For cautions the missing views are said on the caution's findings (no rule judges every
    caution, so they raise none alone; a stand-alone rule would need a new rule id)."""
    s = Scenario()
    crime(s, "49", "theft")
    outcome(s, 30, 3, victim_views=False)
    assert found(s, INDICTABLE) == found(s, SPECIFIED) == found(s, REPEAT) == []
    s2 = Scenario()
    crime(s2, "34B", "robbery")
    crime(s2, "49", "theft", crime_id="C2")
    s2.history(P, 20, [("adult_caution", "theft", "2025-06-01")])
    outcome(s2, 30, 3, victim_views=False)
    outcome(s2, 30, 3, "C2", victim_views=False)
    [indictable] = found(s2, INDICTABLE)
    assert indictable.payload.explanation.endswith("they are to be sought and considered before a caution.")
    [repeat] = found(s2, REPEAT)
    assert "the record holds no victim's views either" in repeat.payload.explanation


@pytest.mark.parametrize(
    ("kind", "aggravating", "fires"),
    [(7, True, True), (6, True, True), (7, False, False), (7, None, False)],
)
def test_review_1_9_aggravating_factors_rule_out_a_cannabis_warning_or_notice(kind, aggravating, fires):
    """rules-review 1.9 [V]: aggravating factors (smoking in public, near schools or where young
    people gather, persistent offenders) call for escalation whatever the count (ACPO 2009
    summary, https://drugeducationforum.wordpress.com/2009/01/30/acpo-guidance-on-cannabis-possession-for-personal-use/).
    aggravating_factors true on a warning or cannabis notice is a finding; null is not checked."""
    s = Scenario()
    crime(s, "92E", "drug_offences")
    s.history(P, 20, [("cannabis_warning", "drug_offences", "2020-01-01")] if kind == 6 else [])
    outcome(s, 30, kind, facts={} if aggravating is None else {"aggravating_factors": aggravating})
    got = found(s, CANNABIS)
    assert len(got) == int(fires)
    if fires:
        assert "aggravating factors were recorded" in got[0].payload.explanation
        assert got[0].payload.severity == "medium"


def test_review_1_9_unknown_aggravating_factors_are_named_when_flagged_for_another_reason():
    s = Scenario()
    crime(s, "92E", "drug_offences")
    s.history(P, 20, [("cannabis_warning", "drug_offences", "2025-06-01")])
    outcome(s, 30, 7)
    [finding] = found(s, CANNABIS)
    assert "The source does not record aggravating factors, so they were not checked." in finding.payload.explanation


# -- 5. community resolutions (rules-review 1.10) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("prior", "fires"),
    [
        (("community_resolution", "theft", "2025-03-02"), True),  # 365 days before the offence
        (("community_resolution", "theft", "2025-03-01"), False),  # 366 days
        (("community_resolution", "public_order_offences", "2025-09-01"), False),  # another group
        (("penalty_notice", "theft", "2025-09-01"), False),  # not a community resolution
    ],
)
def test_review_1_10_a_similar_prior_community_resolution_within_a_year(prior, fires):
    """rules-review 1.10 (the reviewer's suggestion, [U]): community resolutions may be repeated
    [V] (https://www.n-yos.org.uk/our-services/prevention-and-diversion/diversion/), but one for a
    similar offence (same offence group) within 12 months is a finding (similar_cr_window_days,
    365, a parameter): exactly 365 days counts, 366 does not."""
    s = Scenario()
    crime(s, "49", "theft")
    s.history(P, 20, [prior])
    outcome(s, 30, 8)
    got = found(s, CR)
    assert len(got) == int(fires)
    if fires:
        assert got[0].payload.severity == "medium"
        assert "an earlier community resolution for a similar offence (theft" in got[0].payload.explanation


@pytest.mark.parametrize(
    ("exceptional", "clears", "fires", "says"),
    [
        (True, True, False, None),
        (False, True, True, "domestic abuse against an intimate partner"),
        (None, True, True, "does not record an exceptional-circumstances authorisation"),
        (True, False, True, "domestic abuse against an intimate partner"),
    ],
)
def test_review_1_10_an_exceptional_circumstances_authorisation_clears_domestic_abuse(exceptional, clears, fires, says):
    """rules-review 1.10 [U] (suggested, not verified in guidance): a domestic-abuse community
    resolution is cleared by a recorded exceptional-circumstances authorisation
    (exceptional_clears_domestic_abuse, true by default, a parameter); unknown does not clear."""
    s = Scenario()
    crime(s, "105A", "violence_against_the_person")
    outcome(s, 30, 8, domestic=True, intimate=True, exceptional=exceptional)
    monitor = None if clears else with_params(CR, exceptional_clears_domestic_abuse=False)
    got = found(s, CR, monitor)
    assert len(got) == int(fires)
    if says:
        assert says in got[0].payload.explanation


# -- 6. parameters with their reviewed defaults (rules-review 6) -------------------------------------------


def test_review_6_every_unverified_point_is_a_parameter_with_the_reviewed_default():
    """Every [K] or [U] point is a rules-file parameter, its default the reviewed value (docs/rules.md
    states each with its source)."""
    rules = CONFIG.rules
    assert rules[INDICTABLE].params["rank_min"] == "superintendent"  # 1.5 point 2 [K]
    assert rules[SPECIFIED].params["rank_min"] == rules[REPEAT].params["rank_min"] == "inspector"  # 1.6, 1.7 [K]
    assert rules[INDICTABLE].params["in_force_from"] == rules[REPEAT].params["in_force_from"] == "2015-04-13"
    assert rules[CR].params["similar_cr_window_days"] == 365  # 1.10 [U]
    assert rules[CR].params["exceptional_clears_domestic_abuse"] is True  # 1.10 [U]
    assert rules[PND].params["retail_theft_codes"] == ["46"] and rules[PND].params["first_offence_groups"] == ["theft"]
    assert "first_offence_window_days" not in rules[PND].params  # any time, the guidance's "first-time"


@pytest.mark.parametrize(
    ("section", "line", "message"),
    [
        ("CR_INELIGIBLE", "similar_cr_window_days = 0", "similar_cr_window_days"),
        ("CAUTION_INDICTABLE_ONLY", 'in_force_from = "13/04/2015"', "in_force_from"),
        ("PND_ELIGIBILITY", 'first_offence_groups = ["shops"]', "first_offence_groups"),
    ],
)
def test_review_6_a_bad_parameter_is_refused(tmp_path, section, line, message):
    text = DEFAULT.read_text(encoding="utf-8")
    key = line.split(" ")[0]
    head = f"[rules.{section}]\n"
    before, after = text.split(head, 1)
    body, rest = [*after.split("\n[", 1), ""][:2]
    body = "\n".join(row for row in body.split("\n") if not row.startswith(f"{key} ")) + f"\n{line}\n"
    path = tmp_path / "rules.toml"
    path.write_text(before + head + body + ("\n[" + rest if rest else ""), encoding="utf-8")
    with pytest.raises(RulesFileError, match=message):
        load(path)
