"""Ground truth: the findings the monitor must raise and resolve on a simulated history.

``truth_from_plans`` derives them from the simulator's own decisions (fates, drawn times, codes,
flags, offenders' histories) by the definitions in docs/rules.md. For the two original
recording rules, ``findings_by_rule`` re-derives them from the emitted events and the simulator
refuses to return a history on which the two disagree; the tests recompute every rule from the
file independently.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cdi import rules
from cdi.core.times import format_time, parse_time
from cdi.simulation.breaches import CANCEL_WITHOUT_AVI, CLOSE_DOWNGRADE, ONE_CRIME_PER_VICTIM, RECLASS_DOWN, Guidance
from cdi.simulation.codes import CRIME, EXPLAINING_CLASSES, ReferenceData
from cdi.simulation.decisions import CrimeCase
from cdi.simulation.incidents import Fate, IncidentPlan

NOT_CRIMED = "CRIME_INDICATIVE_INCIDENT_NOT_CRIMED"
CRD_LATE = "CRD_LATE"
RECORDING_RULES = (NOT_CRIMED, CRD_LATE)  # the rules ``findings_by_rule`` re-derives
DOWNGRADE_CLASSES = frozenset({"non_crime", "sink"})  # closing classes that hide a crime
RAISED = "finding.raised"
RESOLVED = "finding.resolved"

Expected = tuple[int, dict[str, Any]]  # (occurred_at ms, truth record)


def expected(kind: str, rule: str, subject_kind: str, subject_id: str, division: str, at_ms: int) -> Expected:
    record = {
        "type": kind,
        "finding_id": f"{rule}/{subject_kind}/{subject_id}",
        "rule": rule,
        "subject": {"kind": subject_kind, "id": subject_id},
        "division": division,
        "occurred_at": format_time(at_ms),
    }
    return at_ms, record


def ordered(items: Iterable[Expected]) -> list[dict[str, Any]]:
    """Truth file order: (occurred_at, finding_id, type), by instant rather than by text."""
    rows = sorted(items, key=lambda item: (item[0], item[1]["finding_id"], item[1]["type"]))
    return [record for _, record in rows]


def truth_from_plans(
    incidents: list[IncidentPlan],
    cases: list[CrimeCase],
    guidance: Guidance,
    deadline_ms: int,
    t_end: int,
    extract_at: int,
) -> list[dict[str, Any]]:
    """Every expected finding (incidents, crimes and cases already cut to the extract)."""
    classes = {code: info.code_class for code, info in guidance.reference.incident_codes.items()}
    out = recording_findings(incidents, deadline_ms, t_end)
    out += incident_findings(incidents, classes, deadline_ms, t_end, extract_at)
    out += casework_findings(cases, guidance)
    return ordered(item for item in out if item[1]["rule"] in guidance.t.enabled)


def recording_findings(incidents: list[IncidentPlan], deadline_ms: int, t_end: int) -> list[Expected]:
    """Unrecorded and late crimes, from the incidents' fates.

    By construction every incident turns crime-indicative before its deadline, so check_at is
    report + deadline; in-time crimes fall at or before it and explained incidents close with a
    rationale before it, so only the NOT_RECORDED and LATE fates can raise the incident finding.
    """
    out: list[Expected] = []
    for plan in incidents:
        if plan.fate not in (Fate.NOT_RECORDED, Fate.LATE):
            continue
        check_at = plan.reported_at + deadline_ms
        assert plan.indicative_at is not None and plan.indicative_at < check_at
        iid, division = plan.incident_id, plan.division
        if check_at <= t_end:
            out.append(expected(RAISED, NOT_CRIMED, "incident", iid, division, check_at))
            if plan.crimes:  # late crimes in the extract resolve it
                first = min(crime.recorded_at for crime in plan.crimes)
                out.append(expected(RESOLVED, NOT_CRIMED, "incident", iid, division, first))
        if plan.fate is Fate.LATE:
            for crime in plan.crimes:
                cid, at = crime.crime_id, crime.recorded_at
                out.append(expected(RAISED, CRD_LATE, "crime", cid, crime.division, at))
    return out


# Offences counted per household or business (the default rules' ONE_CRIME_PER_VICTIM parameter).
HOUSEHOLD_PROPERTY = frozenset(rules.load().rule("ONE_CRIME_PER_VICTIM").params.get("household_property_codes", ()))


def incident_findings(
    incidents: list[IncidentPlan], classes: dict[str, str], deadline_ms: int, t_end: int, extract_at: int
) -> list[Expected]:
    """CLOSE_CATEGORY_DOWNGRADE and ONE_CRIME_PER_VICTIM, from each incident's codes and crimes.

    Whatever made the simulator close an incident so (a never-recorded or late fate, or a
    deliberate downgrade of one crimed in time), the definition alone decides.
    """
    out: list[Expected] = []
    for plan in incidents:
        iid, division, closed = plan.incident_id, plan.division, plan.closed_at
        opened_crime = classes[plan.opening_code] == CRIME
        updated_crime = plan.update is not None and plan.update.at <= closed and classes[plan.update.to_code] == CRIME
        if (
            closed <= extract_at  # the closure is in the file
            and classes[plan.closing_code] in DOWNGRADE_CLASSES
            and not plan.closing_rationale
            and (opened_crime or updated_crime)
            and all(crime.recorded_at > closed for crime in plan.crimes)
        ):
            out.append(expected(RAISED, CLOSE_DOWNGRADE, "incident", iid, division, closed))
        if plan.victims is not None and plan.victims >= 2 and plan.indicative_at is not None:
            check_at = max(plan.reported_at + deadline_ms, plan.indicative_at)
            victim_crimes = [c for c in plan.crimes if c.recorded_at <= check_at and c.hocr.victim_based]
            per_household = any(c.hocr.code in HOUSEHOLD_PROPERTY for c in victim_crimes)
            # Distinct victims on the records (a record without a reference is a victim of its own).
            covered = len({c.victim_ref or f"record:{n}" for n, c in enumerate(victim_crimes)})
            if check_at <= t_end and not per_household and 1 <= covered < plan.victims:
                out.append(expected(RAISED, ONE_CRIME_PER_VICTIM, "incident", iid, division, check_at))
    return out


def casework_findings(cases: list[CrimeCase], guidance: Guidance) -> list[Expected]:
    """Outcome, cancellation and reclassification findings: one per rule and crime, the earliest."""
    first: dict[tuple[str, str], tuple[int, str]] = {}

    def breach(rule: str, case: CrimeCase, at: int) -> None:
        key = (rule, case.crime.crime_id)
        if key not in first or at < first[key][0]:
            first[key] = (at, case.crime.division)

    for case in cases:
        for move in case.reclassifications:
            if guidance.reclassification(move):
                breach(RECLASS_DOWN, case, move.at)
        if case.cancellation is not None and guidance.cancellation(case, case.cancellation):
            breach(CANCEL_WITHOUT_AVI, case, case.cancellation.at)
        if case.outcome is not None:
            for rule in sorted(guidance.outcome(case.outcome)):
                breach(rule, case, case.outcome.at)
    return [
        expected(RAISED, rule, "crime", crime_id, division, at) for (rule, crime_id), (at, division) in first.items()
    ]


def findings_by_rule(
    events: Iterable[dict[str, Any]], deadline_ms: int, reference: ReferenceData
) -> list[dict[str, Any]]:
    """The rule definitions applied to an event history in event time (self-check)."""
    classes = {code: info.code_class for code, info in reference.incident_codes.items()}
    seen: set[str] = set()
    opened: dict[str, tuple[int, str]] = {}  # incident -> (report time, division)
    indicative: dict[str, int] = {}  # incident -> earliest time of a crime-class code
    explained: dict[str, int] = {}  # incident -> earliest rationale close to a non-crime class
    crimes: dict[str, list[tuple[int, str, str]]] = {}  # incident -> (time, crime_id, division)
    t_end = None
    for event in events:
        if event["event_id"] in seen:
            continue
        seen.add(event["event_id"])
        at = parse_time(event["occurred_at"])
        t_end = at if t_end is None else max(t_end, at)
        payload, kind = event["payload"], event["type"]
        code = None
        if kind == "incident.opened":
            opened[payload["incident_id"]] = (at, event["division"])
            code = payload["opening_code"]
        elif kind == "incident.updated":
            code = payload["to_code"]
        elif kind == "incident.closed":
            code = payload["closing_code"]
            if payload["rationale_recorded"] and classes[code] in EXPLAINING_CLASSES:
                iid = payload["incident_id"]
                explained[iid] = min(at, explained.get(iid, at))
        elif kind == "crime.recorded" and payload["incident_id"] is not None:
            crimes.setdefault(payload["incident_id"], []).append((at, payload["crime_id"], event["division"]))
        if code is not None and classes[code] == CRIME:
            iid = payload["incident_id"]
            indicative[iid] = min(at, indicative.get(iid, at))
    out: list[Expected] = []
    if t_end is None:
        return []
    for iid, (reported, division) in opened.items():
        linked = crimes.get(iid, [])
        for at, crime_id, crime_division in linked:
            if at - reported > deadline_ms:
                out.append(expected(RAISED, CRD_LATE, "crime", crime_id, crime_division, at))
        if iid not in indicative:
            continue
        check_at = max(reported + deadline_ms, indicative[iid])
        if check_at > t_end or any(at <= check_at for at, _, _ in linked):
            continue
        if explained.get(iid, check_at + 1) <= check_at:
            continue
        out.append(expected(RAISED, NOT_CRIMED, "incident", iid, division, check_at))
        late = [at for at, _, _ in linked if at > check_at]
        if late:
            out.append(expected(RESOLVED, NOT_CRIMED, "incident", iid, division, min(late)))
    return ordered(out)
