"""The recording points of the legal review (shared/rules-review.md, issue 11): the clock from the
disclosure, the Crime Recording Decision time, rape reports and N100 records, sink closures and
victims not told, and one finding for one problem. Each test names its source in its docstring."""

from __future__ import annotations

import dataclasses
import tomllib
from typing import Any

import pytest

from cdi import rules as rules_files
from cdi.core.cases import IncidentCase
from cdi.core.events import Event
from cdi.core.findings import BREACH, REVIEW
from cdi.core.observations import RecordingDecision
from cdi.core.pipeline import Monitor, OfflineRun
from cdi.core.rules import CRD_LATE, NOT_CRIMED
from tests.core.scenario import CONFIG, CONTRACTS, MONITOR, REFERENCE, Scenario, at, ids, of_rule, run

DOWN = "CLOSE_CATEGORY_DOWNGRADE"
PER_VICTIM = "ONE_CRIME_PER_VICTIM"
MS = 1 / 3_600_000  # one millisecond, in hours


def configured(**rules: dict[str, Any]) -> Monitor:
    """The default rules with some rules' parameters replaced (``enabled`` is a field, not a param)."""
    changed = dict(CONFIG.rules)
    for name, params in rules.items():
        rule = changed[name]
        enabled = params.pop("enabled", rule.enabled)
        changed[name] = dataclasses.replace(rule, enabled=enabled, params={**rule.params, **params})
    return Monitor(dataclasses.replace(CONFIG, rules=changed), REFERENCE)


FIRST_CONTACT = configured(**{NOT_CRIMED: {"clock_start": "first_contact"}, CRD_LATE: {"clock_start": "first_contact"}})


def run_with(monitor: Monitor, records: list[dict[str, Any]]) -> tuple[list[Event], list[Any]]:
    offline = OfflineRun.start(monitor)
    steps = [offline.process(CONTRACTS.parse(r)) for r in records]
    steps.append(offline.finish())
    return [f for s in steps for f in s.findings], [o for s in steps for o in s.observations]


def decisions(observations: list[Any]) -> list[str]:
    return [o.result for o in observations if isinstance(o, RecordingDecision)]


# -- 1. the recording clock runs from the disclosure ------------------------------------------------


def late_disclosure(crime_hours: float | None) -> Scenario:
    """A welfare call that discloses an assault 30 h after the report."""
    s = Scenario()
    s.opened("I1", 0, "CONCERN_FOR_WELFARE")
    s.updated("I1", 30, "CONCERN_FOR_WELFARE", "ASSAULT")
    if crime_hours is not None:
        s.crime("C1", "I1", crime_hours)
    s.opened("I9", 80, "ADMIN")  # moves event time past every deadline
    return s


def test_clock_start_disclosure_a_crime_exactly_24_hours_after_a_disclosure_at_report_plus_30_hours_is_in_time():
    """rules-review 1.1 point 1 [K] and 1.2 [K]: FCRs and HMICFRS auditors run the 24 h from when
    the police receive the information that a crime occurred; a disclosure 30 h after the call
    gets its own 24 h (HMICFRS "Crime recording process",
    https://hmicfrs.justiceinspectorates.gov.uk/our-work/article/crime-recording-process/)."""
    found, observations = run_with(MONITOR, late_disclosure(30 + 24).records)
    assert found == []
    assert decisions(observations) == ["recorded"]


def test_clock_start_disclosure_one_millisecond_past_24_hours_from_the_disclosure_is_late():
    """rules-review 1.1 point 1 [K], 1.2 [K]: 24 h + 1 ms after the disclosure is late for both rules."""
    found, _ = run_with(MONITOR, late_disclosure(30 + 24 + MS).records)
    late = at(30 + 24 + MS)
    assert ids(found) == [
        ("finding.raised", f"{NOT_CRIMED}/incident/I1", at(54)),
        ("finding.raised", f"{CRD_LATE}/crime/C1", late),
        ("finding.resolved", f"{NOT_CRIMED}/incident/I1", late),
    ]
    unrecorded, crd = found[0].payload, found[1].payload
    assert unrecorded.explanation.endswith(
        "Deadline: 24 h from the disclosure (the first crime-indicative code, at 2026-03-03T06:00:00+00:00)."
    )
    assert "disclosed a crime (ASSAULT at 2026-03-03T06:00:00+00:00)" in crd.explanation
    assert crd.explanation.endswith("the limit is 24 h from the disclosure.")
    assert list(crd.evidence) == ["ev-0002", "ev-0003"]  # the disclosing update, the crime record


def test_clock_start_disclosure_never_recorded_is_raised_24_hours_after_the_disclosure():
    """rules-review 1.1 point 1 [K]: check = disclosure + 24 h, not max(report + 24 h, disclosure)."""
    found, _ = run_with(MONITOR, late_disclosure(None).records)
    assert ids(found) == [("finding.raised", f"{NOT_CRIMED}/incident/I1", at(54))]


def test_clock_start_first_contact_keeps_the_earlier_rule_and_says_so():
    """rules-review 1.1 point 1 (parameterised as clock_start = disclosure | first_contact): with
    first_contact the check is max(report + 24 h, disclosure), here the disclosure itself (30 h),
    and CRD_LATE counts from the report."""
    found, _ = run_with(FIRST_CONTACT, late_disclosure(30 + 24).records)
    assert ids(found) == [
        ("finding.raised", f"{NOT_CRIMED}/incident/I1", at(30)),
        ("finding.raised", f"{CRD_LATE}/crime/C1", at(54)),
        ("finding.resolved", f"{NOT_CRIMED}/incident/I1", at(54)),
    ]
    assert found[0].payload.explanation.endswith(
        "Deadline: 24 h from the report (clock from first contact), and no earlier than the disclosure."
    )
    assert "54 h after incident I1 was reported at 2026-03-02T00:00:00+00:00" in found[1].payload.explanation
    assert found[1].payload.explanation.endswith("the limit is 24 h from the report.")


def test_clock_start_disclosure_crd_late_counts_from_an_update_within_the_first_day():
    """rules-review 1.2 [K]: an assault disclosed 10 h into a welfare call and recorded 33 h after
    the call is 23 h after the disclosure: in time; from first contact it is late."""
    s = Scenario()
    s.opened("I1", 0, "CONCERN_FOR_WELFARE")
    s.updated("I1", 10, "CONCERN_FOR_WELFARE", "ASSAULT")
    s.crime("C1", "I1", 33)
    s.opened("I9", 60, "ADMIN")
    assert run_with(MONITOR, s.records)[0] == []
    assert {f.payload.rule for f in run_with(FIRST_CONTACT, s.records)[0]} == {CRD_LATE, NOT_CRIMED}


def test_clock_start_both_recording_rules_default_to_the_disclosure():
    """rules-review 1.1 point 1, 1.2: one value for both rules in default.toml."""
    assert CONFIG.rule(NOT_CRIMED).params["clock_start"] == "disclosure"
    assert CONFIG.rule(CRD_LATE).params["clock_start"] == "disclosure"


def test_clock_start_disclosure_a_record_before_any_crime_indicative_code_counts_from_the_report():
    """rules-review 1.2: with no crime-indicative code before the record the incident log shows no
    disclosure, so the report stands in for it, and the explanation says so."""
    s = Scenario()
    s.opened("I1", 0, "CONCERN_FOR_WELFARE")
    s.crime("C1", "I1", 30)
    s.opened("I9", 60, "ADMIN")
    [crd] = of_rule(run_with(MONITOR, s.records)[0], CRD_LATE)
    assert "30 h after incident I1 was reported at" in crd.payload.explanation
    assert "the report stands in for the disclosure" in crd.payload.explanation


# -- 2. the Crime Recording Decision time -------------------------------------------------------------


def test_crd_at_a_decision_exactly_24_hours_after_the_disclosure_is_in_time_though_the_record_is_later():
    """rules-review 1.2 [K]: the HOCR time limit applies to the Crime Recording Decision; CRD_LATE
    measures to crd_at where the record carries it. The record itself came after the check
    time, so the incident was unrecorded at 24 h and the record resolves that finding."""
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.crime("C1", "I1", 30, crd_hours=24)
    s.opened("I9", 60, "ADMIN")
    found, _ = run_with(MONITOR, s.records)
    assert ids(found) == [
        ("finding.raised", f"{NOT_CRIMED}/incident/I1", at(24)),
        ("finding.resolved", f"{NOT_CRIMED}/incident/I1", at(30)),
    ]


def test_crd_at_one_millisecond_past_24_hours_is_late_and_named():
    """rules-review 1.2 [K]: a decision 24 h + 1 ms after the disclosure is late; the finding is
    dated at the record and names both times."""
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.crime("C1", "I1", 30, crd_hours=24 + MS)
    s.opened("I9", 60, "ADMIN")
    [crd] = of_rule(run_with(MONITOR, s.records)[0], CRD_LATE)
    assert crd.occurred_at == at(30)
    assert crd.payload.explanation.startswith(
        "Crime C1 (105A, assault without injury) had its Crime Recording Decision at "
        "2026-03-03T00:00:00.001+00:00, more than 24 h after incident I1 disclosed a crime (ASSAULT at "
        "2026-03-02T00:00:00+00:00); the record was created at 2026-03-03T06:00:00+00:00"
    )


def test_crd_at_missing_the_creation_time_stands_in_and_the_explanation_says_so():
    """rules-review 1.2 [K]: "otherwise say in the explanation that creation time is used as a proxy"."""
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.crime("C1", "I1", 24 + MS)
    s.opened("I9", 60, "ADMIN")
    [crd] = of_rule(run_with(MONITOR, s.records)[0], CRD_LATE)
    assert "the record carries no Crime Recording Decision time, so the time it was created stands in" in (
        crd.payload.explanation
    )


def test_crd_at_after_the_record_is_measured_once_the_decision_time_has_passed():
    """rules-review 1.2: a decision dated after the record's creation is measured to that decision,
    once every incident event up to it is known; the finding is dated at the record."""
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.crime("C1", "I1", 20, crd_hours=25)
    s.opened("I8", 25, "ADMIN")  # the watermark is not past 25 h yet
    s.opened("I9", 60, "ADMIN")
    offline = OfflineRun.start(MONITOR)
    steps = [offline.process(CONTRACTS.parse(r)) for r in s.records]
    assert [f for st in steps[:3] for f in st.findings] == []
    assert ids(steps[3].findings) == [("finding.raised", f"{CRD_LATE}/crime/C1", at(20))]
    assert (
        "Crime Recording Decision at 2026-03-03T01:00:00+00:00, 25 h after" in steps[3].findings[0].payload.explanation
    )


# -- 3. rape reports end only as a crime or an N100 record -------------------------------------------


def test_rape_report_closed_with_a_rationale_is_still_not_crimed():
    """rules-review 1.1 point 2 [V]: a rape report may only end as a crime or an N100 record; a
    rationale on the incident is not enough (HMICFRS glossary, Home Office classification N100,
    https://hmicfrs.justiceinspectorates.gov.uk/glossary/home-office-classification-n100/)."""
    s = Scenario()
    s.opened("I1", 0, "RAPE")
    s.closed("I1", 2, "NO_OFFENCE_DISCLOSED", rationale=True)
    s.opened("I9", 30, "ADMIN")
    found, observations = run_with(MONITOR, s.records)
    [finding] = found
    assert (finding.payload.rule, finding.occurred_at) == (NOT_CRIMED, at(24))
    assert (finding.payload.severity, finding.payload.assessment) == ("high", BREACH)
    assert "no crime record or N100 record was linked to it" in finding.payload.explanation
    assert "it was closed as NO_OFFENCE_DISCLOSED with a recorded rationale at 2026-03-02T02:00:00+00:00" in (
        finding.payload.explanation
    )
    assert "a rape report ends only as a crime or an N100 record" in finding.payload.explanation
    assert decisions(observations) == ["not_recorded"]


def test_rape_disclosed_by_a_later_update_is_a_rape_report_from_then():
    """rules-review 1.1 point 2 [V]: the disclosed offence decides, opening or update."""
    s = Scenario()
    s.opened("I1", 0, "CONCERN_FOR_WELFARE")
    s.updated("I1", 3, "CONCERN_FOR_WELFARE", "RAPE")
    s.closed("I1", 5, "ADVICE_GIVEN", rationale=True)
    s.opened("I9", 40, "ADMIN")
    [finding] = run_with(MONITOR, s.records)[0]
    assert finding.occurred_at == at(27)
    assert "a rape report ends only as a crime or an N100 record" in finding.payload.explanation


def test_rape_report_incident_codes_come_from_the_reference_table():
    """rules-review 1.1 point 2: versioned data (incident_codes.csv column `rape`), not a constant."""
    rape = {code for code, info in REFERENCE.incident_codes.items() if info.rape}
    assert rape == {"RAPE"}
    assert all(REFERENCE.incident_codes[code].crime_indicative for code in rape)


def test_rape_report_other_sexual_offence_with_a_rationale_stays_explained():
    """Only a rape report needs a crime or an N100 record; another sexual offence closed to a
    non-crime code with a rationale is explained (review 1.1 point 2)."""
    s = Scenario()
    s.opened("I1", 0, "SEXUAL_OFFENCE")
    s.closed("I1", 2, "NO_OFFENCE_DISCLOSED", rationale=True)
    s.opened("I9", 30, "ADMIN")
    found, observations = run_with(MONITOR, s.records)
    assert found == [] and decisions(observations) == ["explained"]


@pytest.mark.parametrize("how", ["record_kind", "hocr_code_only"])
def test_rape_report_n100_record_in_time_ends_the_report(how):
    """rules-review 1.1 point 2 [V] (HMICFRS glossary N100): an N100 record is the recording
    decision of a rape report; a source without record_kind may give the code N100 alone."""
    s = Scenario()
    s.opened("I1", 0, "RAPE")
    kind = "n100" if how == "record_kind" else None
    s.crime("N1", "I1", 5, "N100", "sexual_offences", record_kind=kind)
    s.closed("I1", 6, "NO_OFFENCE_DISCLOSED", rationale=True)
    s.opened("I9", 30, "ADMIN")
    found, observations = run_with(MONITOR, s.records)
    assert found == []
    assert decisions(observations) == ["recorded"]


def test_rape_report_n100_record_is_timed_like_a_crime_and_resolves_the_finding():
    """HOCR: an N100 record is made within the same limits as a crime (review 1.1 point 2, the
    lead's choice): CRD_LATE applies to it, and a late one resolves the unrecorded finding."""
    s = Scenario()
    s.opened("I1", 0, "RAPE")
    s.crime("N1", "I1", 30, "N100", "sexual_offences", record_kind="n100")
    s.opened("I9", 60, "ADMIN")
    found, _ = run_with(MONITOR, s.records)
    assert ids(found) == [
        ("finding.raised", f"{NOT_CRIMED}/incident/I1", at(24)),
        ("finding.raised", f"{CRD_LATE}/crime/N1", at(30)),
        ("finding.resolved", f"{NOT_CRIMED}/incident/I1", at(30)),
    ]
    assert found[1].payload.explanation.startswith("N100 record N1 (a rape report held under N100")
    assert found[2].payload.explanation.startswith("N100 record N1 was recorded for incident I1")


def test_rape_report_n100_record_is_no_crime_for_one_crime_per_victim():
    """An N100 record is not a crime (HMICFRS glossary N100): it covers no victim for the
    one-crime-per-victim count, and gives no recording-delay observation of a crime."""
    s = Scenario()
    s.opened("I1", 0, "RAPE", victims=2)
    s.crime("C1", "I1", 2, "19C", "sexual_offences", victim_ref="PR-00000001")
    s.crime("N1", "I1", 3, "N100", "sexual_offences", record_kind="n100")
    s.opened("I9", 30, "ADMIN")
    found, observations = run_with(MONITOR, s.records)
    [finding] = of_rule(found, PER_VICTIM)
    assert "only 1 victim-based crime record was linked" in finding.payload.explanation
    assert [o.offence_group for o in observations if type(o).__name__ == "RecordingDelay"] == ["sexual_offences"]


def test_rape_report_n100_record_counts_for_any_incident():
    """The lead's reading of review 1.1 point 2: an N100 record linked to any incident is that
    incident's recording decision."""
    s = Scenario()
    s.opened("I1", 0, "SEXUAL_OFFENCE")
    s.crime("N1", "I1", 5, "N100", "sexual_offences", record_kind="n100")
    s.opened("I9", 30, "ADMIN")
    assert run_with(MONITOR, s.records)[0] == []


@pytest.mark.parametrize(
    ("opening", "closing", "review"),
    [
        ("ASSAULT", "CRIME_RELATED_INCIDENT", True),
        ("SEXUAL_OFFENCE", "MISC", True),
        ("THEFT", "MISC", False),  # not in sink_review_groups
        ("ASSAULT", "NO_OFFENCE_DISCLOSED", False),  # a non-crime code, not a sink
    ],
)
def test_sink_closure_with_a_rationale_of_sexual_offences_and_violence_is_queued_for_review(opening, closing, review):
    """rules-review 1.1 point 2, second bullet [K]: sexual offences and violence closed to a sink
    code (crime-related incident, miscellaneous) with a rationale are still queued for review
    (medium), not silently explained."""
    s = Scenario()
    s.opened("I1", 0, opening)
    s.closed("I1", 2, closing, rationale=True)
    s.opened("I9", 30, "ADMIN")
    found, observations = run_with(MONITOR, s.records)
    assert decisions(observations) == ["explained"]
    if not review:
        assert found == []
        return
    [finding] = found
    assert (finding.payload.rule, finding.occurred_at) == (NOT_CRIMED, at(24))
    assert (finding.payload.severity, finding.payload.assessment) == ("medium", REVIEW)
    assert f"{closing} is a catch-all code outside the count" in finding.payload.explanation


def test_sink_closure_review_groups_are_a_parameter():
    """rules-review 1.1 point 2: the groups are the rules file's (sink_review_groups); empty: none."""
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.closed("I1", 2, "CRIME_RELATED_INCIDENT", rationale=True)
    s.opened("I9", 30, "ADMIN")
    assert run_with(configured(**{NOT_CRIMED: {"sink_review_groups": []}}), s.records)[0] == []


def test_closed_crimed_unlinked_review_case_stays():
    """rules-review 1.1 point 4: closed as crime recorded with no crime linked stays its own review
    case, one step lower, even for a rape report."""
    s = Scenario()
    s.opened("I1", 0, "RAPE")
    s.closed("I1", 2, "CRIME_RECORDED")
    s.opened("I9", 30, "ADMIN")
    [finding] = run_with(MONITOR, s.records)[0]
    assert (finding.payload.severity, finding.payload.assessment) == ("medium", REVIEW)
    assert "check for a crime under another reference" in finding.payload.explanation
    assert "a rape report ends only as a crime or an N100 record" in finding.payload.explanation


# -- 4. the victim told of a decision not to record --------------------------------------------------


@pytest.mark.parametrize(
    ("opening", "informed", "severity"),
    [("THEFT", False, "low"), ("ASSAULT", False, "medium"), ("ASSAULT", True, None), ("ASSAULT", None, None)],
)
def test_victim_not_informed_of_a_decision_not_to_record_is_queued_for_review(opening, informed, severity):
    """rules-review 1.1 point 3 [V: HOCR training material, secondary]: the victim must be told when
    a decision is taken not to record. victim_informed false on an explained closure: a review
    finding one step below the rule's severity; null (not known) or true: none."""
    s = Scenario()
    s.opened("I1", 0, opening)
    s.closed("I1", 2, "NO_OFFENCE_DISCLOSED", rationale=True, victim_informed=informed)
    s.opened("I9", 30, "ADMIN")
    found, observations = run_with(MONITOR, s.records)
    assert decisions(observations) == ["explained"]
    if severity is None:
        assert found == []
        return
    [finding] = found
    assert (finding.payload.severity, finding.payload.assessment) == (severity, REVIEW)
    assert "the victim was not told the report would not be recorded" in finding.payload.explanation


def test_victim_not_informed_and_a_sink_closure_give_one_finding_with_both_reasons():
    """rules-review 1.1 points 2 and 3: one review finding per incident, the higher severity."""
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.closed("I1", 2, "MISC", rationale=True, victim_informed=False)
    s.crime("C1", "I1", 30)  # recorded after all: resolves the review
    s.opened("I9", 40, "ADMIN")
    found, _ = run_with(MONITOR, s.records)
    assert [f.type for f in of_rule(found, NOT_CRIMED)] == ["finding.raised", "finding.resolved"]
    raised = found[0].payload
    assert raised.severity == "medium"
    assert "MISC is a catch-all code" in raised.explanation and "the victim was not told" in raised.explanation


def test_victim_not_informed_is_named_on_an_unrecorded_incident():
    """rules-review 1.1 point 3: on an incident raised as unrecorded, the victim not told is one
    more line of the same finding."""
    s = Scenario()
    s.opened("I1", 0, "THEFT")
    s.closed("I1", 2, "ADVICE_GIVEN", victim_informed=False)
    s.opened("I9", 30, "ADMIN")
    [finding] = run_with(MONITOR, s.records)[0]
    assert finding.payload.assessment == BREACH
    assert "the closure records that the victim was not told" in finding.payload.explanation


# -- 5. one problem, one finding -----------------------------------------------------------------------


def test_one_problem_one_finding_a_never_recorded_downgrade_is_one_unrecorded_finding():
    """rules-review 1.3 last bullet: a never-recorded incident raised both CLOSE_CATEGORY_DOWNGRADE
    and the not-crimed finding; for the control room that is one problem. The downgrade is judged
    at the check time and named in the unrecorded-incident finding."""
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    closure = s.closed("I1", 2, "ADVICE_GIVEN")
    s.opened("I9", 30, "ADMIN")
    [finding] = run_with(MONITOR, s.records)[0]
    assert (finding.payload.rule, finding.occurred_at) == (NOT_CRIMED, at(24))
    assert closure["event_id"] in finding.payload.evidence
    assert "it was closed as ADVICE_GIVEN (a non-crime code) without a recorded rationale at" in (
        finding.payload.explanation
    )
    assert "a crime-indicative call downgraded at closure, reported here" in finding.payload.explanation


def test_one_problem_one_finding_a_downgrade_crimed_in_time_is_raised_at_the_check_dated_at_the_closure():
    """rules-review 1.3: with its crime recorded in time the downgrade is a finding of its own,
    dated at the closure; it is emitted once the check time has passed."""
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.closed("I1", 2, "ADVICE_GIVEN")
    s.crime("C1", "I1", 5)
    s.opened("I8", 23, "ADMIN")  # before the check time: no finding yet
    s.opened("I9", 30, "ADMIN")
    offline = OfflineRun.start(MONITOR)
    steps = [offline.process(CONTRACTS.parse(r)) for r in s.records]
    assert [f for st in steps[:4] for f in st.findings] == []
    [finding] = steps[4].findings
    assert (finding.payload.rule, finding.occurred_at) == (DOWN, at(2))


def test_one_problem_one_finding_a_closure_after_the_raised_check_adds_no_downgrade():
    """rules-review 1.3: a closure after the check, when the unrecorded finding is already raised,
    adds no downgrade finding."""
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.closed("I1", 30, "ADVICE_GIVEN")
    s.opened("I9", 40, "ADMIN")
    found, _ = run_with(MONITOR, s.records)
    assert ids(found) == [("finding.raised", f"{NOT_CRIMED}/incident/I1", at(24))]


def test_one_problem_one_finding_with_the_unrecorded_rule_disabled_the_downgrade_stands():
    """rules-review 1.3: suppressed only where the unrecorded finding is raised."""
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.closed("I1", 2, "ADVICE_GIVEN")
    s.opened("I9", 30, "ADMIN")
    found, _ = run_with(configured(**{NOT_CRIMED: {"enabled": False}}), s.records)
    assert ids(found) == [("finding.raised", f"{DOWN}/incident/I1", at(2))]


def test_one_problem_one_finding_a_downgrade_whose_check_is_past_the_history_is_not_judged():
    """rules-review 1.3: the downgrade waits for the check time; a history that ends before it
    raises neither finding (the next run, with more history, judges it)."""
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.closed("I1", 2, "ADVICE_GIVEN")
    s.opened("I9", 23, "ADMIN")
    assert run(s.records)[0] == []


@pytest.mark.parametrize(
    ("section", "line", "fine"),
    [
        (CRD_LATE, 'clock_start = "first_contact"', True),
        (NOT_CRIMED, 'clock_start = "first_contact"', True),
        (CRD_LATE, 'clock_start = "the call"', False),
        (NOT_CRIMED, 'sink_review_groups = ["violence_against_the_person"]', True),
        (NOT_CRIMED, 'sink_review_groups = ["violence"]', False),
        (CRD_LATE, 'sink_review_groups = ["sexual_offences"]', False),  # a parameter of the unrecorded rule only
    ],
)
def test_recording_parameters_are_checked_by_the_rules_schema(tmp_path, section, line, fine):
    """clock_start (review 1.1 point 1, 1.2) and sink_review_groups (review 1.1 point 2) are
    validated against schemas/rules-config.v1.json like every other parameter."""
    text = rules_files.DEFAULT.read_text(encoding="utf-8")
    lines = text.split("\n")
    start = lines.index(f"[rules.{section}]")
    key = line.split(" ")[0]
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    lines = [x for n, x in enumerate(lines) if not (start < n < end and x.startswith(f"{key} "))]
    lines.insert(start + 1, line)
    path = tmp_path / "rules.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    if fine:
        loaded = rules_files.load(path)
        assert loaded.rule(section).params[key] == tomllib.loads(line)[key]
    else:
        with pytest.raises(rules_files.RulesFileError, match=f"rules/{section}"):
            rules_files.load(path)


def test_incident_case_state_round_trips_and_reads_older_rows():
    """The case's new state (disclosure event, rape time, victim told, record kind, decision time)
    survives the changelog round trip; a case stored before it reads with the defaults."""
    s = Scenario()
    s.opened("I1", 0, "CONCERN_FOR_WELFARE")
    s.updated("I1", 3, "CONCERN_FOR_WELFARE", "RAPE")
    s.closed("I1", 4, "MISC", rationale=True, victim_informed=False)
    s.crime("N1", "I1", 5, "N100", "sexual_offences", record_kind="n100", crd_hours=4.5)
    _, _, state = run(s.records, finish=False)
    case = state.cases["I1"]
    data = case.to_dict()
    assert IncidentCase.from_dict(data) == case
    assert (case.rape_at, case.indicative_event, case.closing_victim_informed) == (
        CONTRACTS.parse(s.records[1]).at,
        "ev-0002",
        False,
    )
    assert (case.crimes["N1"].kind, case.crimes["N1"].decision_time) == (
        "n100",
        CONTRACTS.parse(s.records[3]).at - 1_800_000,
    )
    older = {k: v for k, v in data.items() if k not in {"indicative_event", "rape_at", "closing_victim_informed"}}
    older["crimes"] = [row[:8] for row in data["crimes"]]
    restored = IncidentCase.from_dict(older)
    assert (restored.crimes["N1"].kind, restored.crimes["N1"].decided_at, restored.rape_at) == ("crime", None, None)
