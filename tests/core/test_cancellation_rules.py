"""CANCEL_WITHOUT_AVI and RECLASS_DOWN_NO_REASON after the legal review (shared/rules-review.md 1.12,
1.13; docs/rules.md "Decisions on the record"): who may authorise a cancellation by code, gravity
and rules edition; the victim told; reason phrases as review findings; editions chosen by the
event's time; the role test of serious downgrades and N100.

The expected authority is written out here from docs/rules.md, not read from the CSV under test.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from cdi import rules
from cdi.core.events import Event
from cdi.core.pipeline import Monitor, OfflineRun
from cdi.core.rules import RulesConfig
from cdi.core.times import MS_PER_HOUR
from tests.core.scenario import BASE, CONFIG, CONTRACTS, REFERENCE, Scenario, of_rule, run

RULE = "CANCEL_WITHOUT_AVI"
RECLASS = "RECLASS_DOWN_NO_REASON"
ROLES = (
    "force_crime_registrar",
    "designated_decision_maker",
    "supervisor",
    "investigator",
    "call_handler",
    "crime_management",
    "other",
)
REGISTRARS = {"force_crime_registrar", "designated_decision_maker"}
CODES = ("C1", "C2", "C3", "C4", "C5")
# A Home Office code of each gravity: rape; serious (indictable-only robbery); other (theft).
GRAVITY_CODES = {"rape": ("19C", "sexual_offences"), "serious": ("34B", "robbery"), "other": ("49", "theft")}
EDITION_2023 = "2023-05-15"  # start of the Crime Recording Rules 2023 in the table: mid-May 2023 [U]
DAY_BEFORE, DAY_OF = "2023-05-14T23:59:59+00:00", "2023-05-15T00:00:00+00:00"
PRESS = "https://www.sott.net/article/479428-UK-Police-to-stop-recording-neighbour-rows-and-Twitter-spats-as-offences"


def expected_roles(day: str, code: str, gravity: str) -> set[str]:
    """docs/rules.md's table: the registrar or decision maker for everything before the 2023
    edition; from it, supervisors for lower-gravity crimes and crime-management staff
    (crime_management) for administrative C1, C3 and C4 on anything but rape."""
    if day < EDITION_2023 or gravity == "rape":
        return set(REGISTRARS)
    allowed = set(REGISTRARS)
    if gravity == "other":
        allowed.add("supervisor")
    if code in ("C1", "C3", "C4"):
        allowed.add("crime_management")
    return allowed


def hours(moment: str) -> float:
    """Scenario hours (after BASE) of an ISO time."""
    return (round(datetime.fromisoformat(moment).timestamp() * 1000) - BASE) / MS_PER_HOUR


def cancel(
    moment: str,
    hocr: str = "49",
    group: str = "theft",
    code: str = "C3",
    role: str = "designated_decision_maker",
    **kw: Any,
) -> list[Event]:
    """Findings of CANCEL_WITHOUT_AVI for one crime recorded an hour before its cancellation."""
    s = Scenario()
    s.crime("C1", None, hours(moment) - 1, hocr, group)
    kw.setdefault("reason", "Recorded in error")
    s.cancelled("C1", hours(moment), code=code, role=role, **kw)
    return of_rule(run(s.records)[0], RULE)


def run_with(config: RulesConfig, records: list[dict[str, Any]]) -> list[Event]:
    offline = OfflineRun.start(Monitor(config, REFERENCE))
    steps = [offline.process(CONTRACTS.parse(r)) for r in records] + [offline.finish()]
    return [f for step in steps for f in step.findings]


def config_with(**params: Any) -> RulesConfig:
    """The default rules with CANCEL_WITHOUT_AVI parameters changed (None removes one)."""
    data = tomllib.loads(rules.DEFAULT.read_text(encoding="utf-8"))
    spec = data["rules"][RULE]
    for name, value in params.items():
        if value is None:
            spec.pop(name, None)
        else:
            spec[name] = value
    assert not CONTRACTS.check_config("rules-config", data)
    return RulesConfig.from_dict(data)


# -- point 1: who may authorise, by code, gravity and edition -------------------------------------


@pytest.mark.parametrize("moment", [DAY_BEFORE, DAY_OF], ids=["day-before-2023-edition", "day-of-2023-edition"])
@pytest.mark.parametrize("gravity", list(GRAVITY_CODES))
@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("role", ROLES)
def test_cancellation_authority_by_code_gravity_and_edition(role: str, code: str, gravity: str, moment: str) -> None:
    """rules-review 1.12 point 1: the 2023 review ("Crime Recording Rules for frontline officers and
    staff") made sign-off vary with the gravity of the offence [V for the change, press report:
    https://www.sott.net/article/479428-UK-Police-to-stop-recording-neighbour-rows-and-Twitter-spats-as-offences];
    supervisors for lower-gravity crimes and crime-management staff for administrative C1/C3/C4
    are [U], the registrar or decision maker before it [K], rape with them throughout [K]; the
    edition starts mid-May 2023 [U: https://touch.policeoracle.com/news/article.cfm?id=110867].
    Every role, code and gravity, the second before and the first second of the edition. A role
    recorded as other where only crime-management staff would be allowed is a review (below)."""
    hocr, group = GRAVITY_CODES[gravity]
    got = cancel(moment, hocr, group, code=code, role=role)
    lawful = role in expected_roles(moment[:10], code, gravity)
    assert bool(got) is not lawful
    legacy = role == "other" and "crime_management" in expected_roles(moment[:10], code, gravity)
    if got and legacy:
        [finding] = got
        assert (finding.payload.assessment, finding.payload.severity) == ("review", "medium")
    elif got:
        [finding] = got
        assert finding.payload.assessment == "breach"
        assert finding.payload.severity == ("critical" if gravity == "rape" else "high")
        if gravity != "rape" or role in REGISTRARS:
            assert f"authorised by the {role.replace('_', ' ')}, who may not authorise a {code}" in (
                finding.payload.explanation
            )


def test_cancellation_authority_names_the_edition_and_who_may() -> None:
    """rules-review 1.12 point 1 [V for the change, details U]: the finding says which edition
    judged it and which roles it allows, so a registrar can check it against the force's rules."""
    [before] = cancel(DAY_BEFORE, code="C2", role="supervisor")
    assert (
        "authorised by the supervisor, who may not authorise a C2 cancellation of this offence under the Home "
        "Office Counting Rules 2022/23 (in force from 2022-04-01): that is for the designated decision maker or "
        "force crime registrar" in before.payload.explanation
    )
    [serious] = cancel(DAY_OF, "34B", "robbery", code="C2", role="supervisor")
    assert (
        "of a serious offence under the Crime Recording Rules for frontline officers and staff (2023 review) "
        "(in force from 2023-05-15)" in serious.payload.explanation
    )
    assert cancel(DAY_OF, code="C2", role="supervisor") == []


@pytest.mark.parametrize(
    ("hocr", "group"), [("20A", "sexual_offences"), ("28E", "burglary"), ("5D", "violence_against_the_person")]
)
def test_cancellation_authority_serious_gravity_is_sexual_high_harm_or_indictable_only(hocr: str, group: str) -> None:
    """rules-review 1.12 point 1 [U]: serious = indictable-only, a sexual offence or high-harm
    (the serious downgrades of 1.13), so a supervisor may not cancel it under the 2023 edition
    and crime-management staff (crime_management) may make an administrative C3."""
    assert cancel(DAY_OF, hocr, group, code="C2", role="supervisor")
    assert cancel(DAY_OF, hocr, group, code="C3", role="crime_management") == []


def test_cancellation_authority_rape_stays_with_the_decision_maker_and_registrar() -> None:
    """rules-review 1.12 point 2 [U → likely wrong to reserve it to the registrar]: rape_roles
    stays consistent with the table: the decision maker or registrar in every edition; a supervisor
    or crime-management staff is a critical finding."""
    for moment in (DAY_BEFORE, DAY_OF):
        for role in REGISTRARS:
            assert cancel(moment, "19C", "sexual_offences", code="C3", role=role) == []
        for role in ("crime_management", "other"):
            [finding] = cancel(moment, "19C", "sexual_offences", code="C3", role=role)
            assert (finding.payload.severity, finding.payload.assessment) == ("critical", "breach")
        [finding] = cancel(moment, "19C", "sexual_offences", code="C3", role="other")
        assert (
            "a rape record cancelled by a role other than the designated decision maker or force crime registrar"
            in (finding.payload.explanation)
        )
    for edition in REFERENCE.cancellation_authority.editions:
        for code in CODES:
            assert edition.roles[(code, "rape")] == set(CONFIG.rule(RULE).params["rape_roles"])


def test_cancellation_authority_without_a_code_is_not_judged_on_a_guess() -> None:
    """rules-review 1.12 point 1 with docs/rules.md "Facts the source does not record": without a
    Home Office code the gravity is unknown; a role lawful for some gravity the offence group allows
    is not a finding, and a finding raised for another reason says the role was not checked; a role
    lawful for none is a finding."""
    assert cancel(DAY_OF, None, "theft", code="C2", role="supervisor") == []  # serious or other
    [finding] = cancel(DAY_OF, None, "theft", code="C2", role="supervisor", avi=False)
    assert "The source gives no Home Office code, so whether the supervisor may authorise a C2 cancellation" in (
        finding.payload.explanation
    )
    assert "authorised by the supervisor" not in finding.payload.explanation
    [investigator] = cancel(DAY_OF, None, "theft", code="C2", role="investigator")
    assert "authorised by the investigator" in investigator.payload.explanation
    # A sexual offence may be rape: the decision maker or registrar only, for any code.
    assert cancel(DAY_OF, None, "sexual_offences", code="C3", role="crime_management") == []
    assert cancel(DAY_OF, None, "sexual_offences", code="C2", role="supervisor")


def test_cancellation_authority_a_force_changes_the_table_in_its_rules_file(tmp_path: Path) -> None:
    """rules-review 1.12 point 1 [U details]: a force registrar changes who may authorise in the
    rules file (CANCEL_WITHOUT_AVI `authority` rows and `edition_from` dates), validated by the
    rules schema; a new edition of its own starts as a copy of the one in force before it."""
    text = rules.DEFAULT.read_text(encoding="utf-8")
    section = "[rules.CANCEL_WITHOUT_AVI]\n"
    extra = (
        'edition_from = { "crr-2023" = "2023-06-01", "kent-2025" = "2025-01-01" }\n'
        "[[rules.CANCEL_WITHOUT_AVI.authority]]\n"
        'edition = "kent-2025"\ncodes = ["C2"]\ngravities = ["other", "serious"]\nroles = ["force_crime_registrar"]\n'
    )
    start = text.index(section)
    end = text.index("\n[", start + len(section))
    path = tmp_path / "force.toml"
    path.write_text(text[: end + 1] + extra + text[end + 1 :], encoding="utf-8")
    config = rules.load(path)

    def found(moment: str, code: str, role: str) -> bool:
        s = Scenario()
        s.crime("C1", None, hours(moment) - 1, "49", "theft")
        s.cancelled("C1", hours(moment), code=code, role=role)
        return bool(of_rule(run_with(config, s.records), RULE))

    assert found("2023-05-20T12:00:00+00:00", "C2", "supervisor")  # the force adopted it on 1 June
    assert not found("2023-06-01T00:00:00+00:00", "C2", "supervisor")
    assert not found("2024-12-31T23:59:59+00:00", "C2", "designated_decision_maker")
    assert found("2025-01-01T00:00:00+00:00", "C2", "designated_decision_maker")  # its own edition
    assert not found("2025-01-01T00:00:00+00:00", "C2", "force_crime_registrar")
    assert not found("2025-01-01T00:00:00+00:00", "C3", "supervisor")  # copied from crr-2023

    bad = config_with(authority=[{"edition": "nope", "codes": ["C2"], "gravities": ["other"], "roles": ["other"]}])
    with pytest.raises(ValueError, match="edition 'nope' is neither in the reference table"):
        Monitor(bad, REFERENCE)


def test_cancellation_authority_allowed_roles_of_older_rules_files_still_apply() -> None:
    """Rules files before 2026.12.2 carry allowed_roles: those roles authorise every cancellation in
    every edition, as they did, until the force removes the line to use the table."""
    legacy = config_with(allowed_roles=["force_crime_registrar", "designated_decision_maker"])
    s = Scenario()
    s.crime("C1", None, 1, "49", "theft")
    s.cancelled("C1", 30, code="C2", role="supervisor")
    assert of_rule(run_with(legacy, s.records), RULE)
    assert of_rule(run(s.records)[0], RULE) == []


# -- point 4 (review 1.12 point 4): the victim told -------------------------------------------------


@pytest.mark.parametrize(
    ("hocr", "group", "severity"),
    [
        ("19C", "sexual_offences", "critical"),
        ("20A", "sexual_offences", "medium"),
        ("8N", "violence_against_the_person", "medium"),
        ("34B", "robbery", "medium"),
        ("49", "theft", None),
        ("58A", "criminal_damage_and_arson", None),
    ],
)
def test_victim_not_informed(hocr: str, group: str, severity: str | None) -> None:
    """rules-review 1.12 point 4: HMIC found 22% of rape no-crimes with no evidence the victim was
    told [S44: https://www.parallelparliament.co.uk/question/218760/rape]; CDI inspections check it
    for rape, sexual offences, violence and robbery [V: https://github.com/BBC-Data-Unit/cancelled_crimes].
    victim_informed false on those groups is a breach: critical on rape (severity_rape), medium
    alone otherwise (severity_victim_not_informed); other groups are not judged."""
    got = cancel(DAY_OF, hocr, group, victim_informed=False)
    assert [f.payload.severity for f in got] == ([severity] if severity else [])
    if got:
        assert got[0].payload.assessment == "breach"
        assert "the record shows the victim was not told of the cancellation" in got[0].payload.explanation
    assert cancel(DAY_OF, hocr, group, victim_informed=True) == []


def test_victim_not_informed_unknown_is_named_never_judged() -> None:
    """rules-review 1.12 point 4 with docs/rules.md "Facts the source does not record": null is not
    checked; a finding raised for another reason says it is not known (a watched group only)."""
    assert cancel(DAY_OF, "8N", "violence_against_the_person") == []
    [finding] = cancel(DAY_OF, "8N", "violence_against_the_person", code="C2", avi=False)
    assert finding.payload.severity == "high"
    assert finding.payload.explanation.endswith("The source does not record whether the victim was told.")
    [theft] = cancel(DAY_OF, "49", "theft", code="C2", avi=False)
    assert "victim was told" not in theft.payload.explanation
    [both] = cancel(DAY_OF, "8N", "violence_against_the_person", code="C2", avi=False, victim_informed=False)
    assert both.payload.severity == "high"  # a breach beyond the victim alone keeps the rule's severity


def test_victim_not_informed_groups_and_severity_are_parameters() -> None:
    """rules-review 1.12 point 4: the offence groups and the severity are parameters
    (victim_informed_groups, severity_victim_not_informed)."""
    s = Scenario()
    s.crime("C1", None, 1, "8N", "violence_against_the_person")
    s.crime("C2", None, 1, "34B", "robbery")
    s.cancelled("C1", 30, code="C3", victim_informed=False)
    s.cancelled("C2", 30, code="C3", victim_informed=False)
    config = config_with(victim_informed_groups=["robbery"], severity_victim_not_informed="low")
    [finding] = of_rule(run_with(config, s.records), RULE)
    assert (finding.payload.subject.id, finding.payload.severity) == ("C2", "low")


# -- point 6 (review 1.12 point 6): a reason phrase alone asks for a review --------------------------


def test_reason_phrase_alone_is_a_medium_review() -> None:
    """rules-review 1.12 point 6 [K]: phrase matching ("does not wish") also hits compliant texts
    ("victim does not wish to support, but CCTV shows no offence"): alone it is a medium review
    finding (one step below severity_rape on rape, high), never a sole critical trigger; with a
    breach the finding is the breach's."""
    lawful = "Victim does not wish to support, but CCTV shows no offence"
    [finding] = cancel(DAY_OF, "8N", "violence_against_the_person", code="C2", reason=lawful)
    assert (finding.payload.severity, finding.payload.assessment) == ("medium", "review")
    assert 'the reason given contains "does not wish", which is not a cancellation ground by itself.' in (
        finding.payload.explanation
    )
    assert "A phrase alone does not settle it" in finding.payload.explanation
    [rape] = cancel(DAY_OF, "19C", "sexual_offences", code="C2", reason=lawful)
    assert (rape.payload.severity, rape.payload.assessment) == ("high", "review")
    [breach] = cancel(DAY_OF, "8N", "violence_against_the_person", code="C2", avi=False, reason="No complaint")
    assert (breach.payload.severity, breach.payload.assessment) == ("high", "breach")
    assert "without additional verifiable information; the reason given contains" in breach.payload.explanation
    [rape_breach] = cancel(DAY_OF, "19C", "sexual_offences", code="C2", role="supervisor", reason="No complaint")
    assert (rape_breach.payload.severity, rape_breach.payload.assessment) == ("critical", "breach")
    assert cancel(DAY_OF, "8N", "violence_against_the_person", code="C2", reason="CCTV shows no offence") == []


# -- review 1.12 point 5: a C3 names the surviving record, a C1 the receiving force -------------------


def refs(
    moment: str, code: str, config: RulesConfig | None = None, hocr: str = "49", group: str = "theft", **fields: Any
) -> list[Event]:
    """CANCEL_WITHOUT_AVI findings for a cancellation carrying the optional reference ``fields``
    (surviving_crime_id, receiving_force); ``config`` None: the packaged rules."""
    s = Scenario()
    s.crime("C1", None, hours(moment) - 1, hocr, group)
    role = fields.pop("role", "designated_decision_maker")
    record = s.cancelled("C1", hours(moment), code=code, role=role, reason=None)
    record["payload"].update(fields)
    return of_rule(run_with(config or CONFIG, s.records), RULE)


REQUIRED = config_with(require_c1_c3_references=True)


def test_review_1_12_point_5_references_not_judged_unless_the_source_sends_them() -> None:
    """rules-review 1.12 point 5 [K]: a C3 should name the surviving record and a C1 the receiving
    force. crime.cancelled carries both as optional fields; a source that never sends them cannot
    be judged on them, so by default (require_c1_c3_references false) their absence raises nothing
    and a C3 or C1 is judged on its authoriser, as before."""
    fields = CONTRACTS.schemas["urn:cdi:schema:crime.cancelled:1"]["properties"]["payload"]["properties"]
    assert {"surviving_crime_id", "receiving_force"} <= fields.keys()
    assert CONFIG.rule(RULE).params["require_c1_c3_references"] is False
    for code in ("C1", "C3"):
        assert refs(DAY_OF, code) == []
        assert refs(DAY_OF, code, role="crime_management") == []
        assert refs(DAY_OF, code, role="call_handler")


@pytest.mark.parametrize(
    ("code", "field", "value", "words", "confirm"),
    [
        (
            "C3",
            "surviving_crime_id",
            "CR-26-000001",
            "a C3 (duplicate) that names no surviving record",
            "which record it duplicates",
        ),
        (
            "C1",
            "receiving_force",
            "MET",
            "a C1 (transfer) that names no receiving force or agency",
            "where it was transferred",
        ),
    ],
)
def test_review_1_12_point_5_missing_reference_is_a_medium_review_when_required(
    code: str, field: str, value: str, words: str, confirm: str
) -> None:
    """rules-review 1.12 point 5 [K]: with require_c1_c3_references true (the force's source sends
    them), a C3 without its surviving record or a C1 without its receiving force is a review
    finding at severity_missing_reference (medium); one step below severity_rape (high) on a rape
    record; one more reason on a breach. A null is the same as absent; other codes are not judged."""
    [finding] = refs(DAY_OF, code, REQUIRED)
    assert (finding.payload.severity, finding.payload.assessment) == ("medium", "review")
    assert f"was cancelled ({code}) at 2023-05-15T00:00:00+00:00: {words}." in finding.payload.explanation
    assert f"Confirm on the crime record {confirm}" in finding.payload.explanation
    assert refs(DAY_OF, code, REQUIRED, **{field: None})
    assert refs(DAY_OF, code, REQUIRED, **{field: value}) == []
    assert refs(DAY_OF, "C2", REQUIRED) == refs(DAY_OF, "C4", REQUIRED) == []
    [rape] = refs(DAY_OF, code, REQUIRED, "19C", "sexual_offences", victim_informed=True)
    assert (rape.payload.severity, rape.payload.assessment) == ("high", "review")
    [breach] = refs(DAY_OF, code, REQUIRED, role="call_handler")
    assert (breach.payload.severity, breach.payload.assessment) == ("high", "breach")
    assert f"; {words}." in breach.payload.explanation
    low = config_with(require_c1_c3_references=True, severity_missing_reference="low")
    assert [f.payload.severity for f in refs(DAY_OF, code, low)] == ["low"]


# -- crime-management staff: a role of their own (crime_management) ---------------------------------------


def test_crime_management_role_in_the_contracts_and_the_authority_table() -> None:
    """rules-review 1.12 point 1 [U]: crime-management (administrative) staff make administrative
    C1, C3 and C4 cancellations under the 2023 edition. The contracts' role enum names them
    (crime_management); every role the packaged table lists is a contract role, and `other` is
    no longer one of them."""
    enum = CONTRACTS.schemas["urn:cdi:schema:common:1"]["$defs"]["role"]["enum"]
    assert "crime_management" in enum and "other" in enum  # older records with other stay valid
    listed = {
        role
        for edition in REFERENCE.cancellation_authority.editions
        for roles in edition.roles.values()
        for role in roles
    }
    assert listed <= set(enum) and "other" not in listed
    edition = REFERENCE.cancellation_authority.edition_at("2023-05-15")
    assert {key for key, roles in edition.roles.items() if "crime_management" in roles} == {
        (code, gravity) for code in ("C1", "C3", "C4") for gravity in ("serious", "other")
    }


def test_role_recorded_as_other_where_crime_management_may_cancel_is_a_review() -> None:
    """Records written before the contracts named crime-management staff called them `other`: where
    the edition lets crime-management staff cancel (administrative C1, C3, C4 from 2023), `other` is
    a review one step below the rule's severity (medium) asking who authorised it, not a breach;
    where they may not (a C2, a rape record, before 2023), it is a breach as before."""
    [finding] = cancel(DAY_OF, code="C3", role="other")
    assert (finding.payload.severity, finding.payload.assessment) == ("medium", "review")
    assert (
        "authorised by a role recorded only as other, where crime-management staff may authorise a C3 "
        "cancellation under the Crime Recording Rules for frontline officers and staff (2023 review) "
        "(in force from 2023-05-15)" in finding.payload.explanation
    )
    assert "Confirm on the crime record who authorised it." in finding.payload.explanation
    for moment, code in ((DAY_BEFORE, "C3"), (DAY_OF, "C2")):
        [breach] = cancel(moment, code=code, role="other")
        assert (breach.payload.severity, breach.payload.assessment) == ("high", "breach")
    [both] = cancel(DAY_OF, code="C3", role="other", reason="No complaint")
    assert (both.payload.severity, both.payload.assessment) == ("medium", "review")
    assert "A phrase alone does not settle it" in both.payload.explanation
    # Without a code: lawful for crime-management staff of some gravity the group allows.
    [unknown] = cancel(DAY_OF, None, "sexual_offences", code="C3", role="other")
    assert unknown.payload.assessment == "review"


# -- point 5: rules editions by the event's time ---------------------------------------------------------


def test_rules_editions_by_the_event_time() -> None:
    """rules-review 1.12 point 1 and section 6 point 4: a cancellation is judged by the edition in
    force on its own UTC date, whenever the history is replayed (a replay never reads the wall
    clock): a 2022 supervisor sign-off breaks the 2022 rules, one in 2026 does not; a date before
    every edition takes the oldest the monitor holds."""
    for moment, edition in (
        ("2019-06-01T12:00:00+00:00", "the Home Office Counting Rules 2022/23"),
        ("2022-06-01T12:00:00+00:00", "the Home Office Counting Rules 2022/23"),
        ("2026-03-02T12:00:00+00:00", None),
    ):
        got = cancel(moment, code="C2", role="supervisor")
        assert [edition in f.payload.explanation for f in got] == ([True] if edition else [])
        if got:
            assert got[0].occurred_at == moment


# -- review 1.13: RECLASS_DOWN_NO_REASON -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "group", "after", "fires"),
    [
        ("19C", "sexual_offences", "20A", True),  # rape -> other sexual
        ("5D", "violence_against_the_person", "8N", True),
        ("5D", "violence_against_the_person", "8F", True),
        ("34B", "robbery", "49", True),  # robbery -> theft
        ("28E", "burglary", "49", True),  # dwelling burglary -> theft
        ("28E", "burglary", "58A", True),  # dwelling burglary -> damage
        ("8F", "violence_against_the_person", "8N", False),
        ("8N", "violence_against_the_person", "105A", False),
        ("39", "theft", "49", False),
    ],
)
def test_reclassification_role_test_for_serious_downgrades_only(
    before: str, group: str, after: str, fires: bool
) -> None:
    """rules-review 1.13 [K]: investigators and supervisors routinely reclassify with a reason; the
    role test applies only to serious downgrades (rape -> other sexual, 5D -> 8N/8F, robbery ->
    theft, dwelling burglary -> damage or theft); HOCR section B [V: section list in the HOCR
    General Rules, https://docslib.org/doc/8138175/crime-recording-general-rules]."""
    s = Scenario()
    s.crime("C1", None, 1, before, group)
    s.reclassified("C1", 30, before, after, reason="Further evidence", role="investigator")
    got = of_rule(run(s.records)[0], RECLASS)
    assert bool(got) is fires
    if got:
        assert got[0].payload.severity == "high" and "made by the investigator" in got[0].payload.explanation


@pytest.mark.parametrize(
    ("before", "group", "after", "severity"),
    [("28E", "burglary", "49", "high"), ("8F", "violence_against_the_person", "8N", "medium")],
)
def test_reclassification_without_reason_severity_follows_serious_gravity(
    before: str, group: str, after: str, severity: str
) -> None:
    """rules-review 1.13: every downgrade needs a reason (HOCR section B [V]); high for a serious
    original offence (indictable-only, sexual or high-harm: 28E is high-harm), medium otherwise;
    the seriousness ranking is the monitor's own, and the explanation says so."""
    s = Scenario()
    s.crime("C1", None, 1, before, group)
    s.reclassified("C1", 30, before, after, reason=None)
    [finding] = of_rule(run(s.records)[0], RECLASS)
    assert finding.payload.severity == severity
    assert "the monitor's own seriousness ranking of Home Office codes, not a Home Office scale" in (
        finding.payload.explanation
    )


def test_reclassification_of_rape_to_n100_is_a_downgrade_out_of_the_count() -> None:
    """rules-review 1.13: rape -> N100 (removal from rape, not a reclassification) was not
    representable; the contracts' code pattern now admits N100, so it is judged as the lowest
    downgrade (reason, and the role test of a serious one), and the finding says a recorded crime
    leaves the count by a section C cancellation [K]."""
    s = Scenario()
    s.crime("C1", None, 1, "19C", "sexual_offences")
    s.reclassified("C1", 30, "19C", "N100", reason="No offence disclosed in interview", role="investigator")
    [finding] = of_rule(run(s.records)[0], RECLASS)
    assert finding.payload.severity == "high"
    assert "to N100 (a report of rape not recorded as a crime): made by the investigator" in finding.payload.explanation
    assert "removed by a section C cancellation" in finding.payload.explanation
    lawful = Scenario()
    lawful.crime("C1", None, 1, "19C", "sexual_offences")
    lawful.reclassified("C1", 30, "19C", "N100", reason="No offence disclosed in interview")
    assert of_rule(run(lawful.records)[0], RECLASS) == []
