"""Ground truth: the findings the monitor must raise and resolve on a simulated history.

``truth_from_plans`` derives them from the simulator's own decisions (fates, drawn times, codes,
flags, offenders' histories) by the definitions in docs/rules.md. For the two original
recording rules, ``findings_by_rule`` re-derives them from the emitted events (by the same
judgement, ``judge_recording``, over facts read from the file instead of the plans) and the
simulator refuses to return a history on which the two disagree; the tests recompute every rule
from the file independently.

The truth is what the rules must find, not what happened: where a hidden failure mode
(``cdi.simulation.hidden``) hides a crime from the codes or a record from its incident, the truth
follows the history as the rules read it (a record without ``incident_id`` is no incident's
record; an incident with no crime code is judged by no recording rule). What a careful reviewer
would find is the audit truth's (``cdi.simulation.audit_truth``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cdi import rules
from cdi.core.times import format_time, parse_time
from cdi.simulation.breaches import CANCEL_WITHOUT_AVI, CLOSE_DOWNGRADE, ONE_CRIME_PER_VICTIM, RECLASS_DOWN, Guidance
from cdi.simulation.codes import CRIME, EXPLAINING_CLASSES, ReferenceData
from cdi.simulation.crimes import CrimePlan
from cdi.simulation.decisions import CrimeCase
from cdi.simulation.incidents import IncidentPlan

NOT_CRIMED = "CRIME_INDICATIVE_INCIDENT_NOT_CRIMED"
CRD_LATE = "CRD_LATE"
RECORDING_RULES = (NOT_CRIMED, CRD_LATE)  # the rules ``findings_by_rule`` re-derives
DOWNGRADE_CLASSES = frozenset({"non_crime", "sink"})  # closing classes that hide a crime
RAISED = "finding.raised"
RESOLVED = "finding.resolved"

Expected = tuple[int, dict[str, Any]]  # (occurred_at ms, truth record)

# The recording rules' parameters in the default rules file (docs/rules.md, "Recording rules").
_RECORDING = rules.load()
CLOCK_START = _RECORDING.rule(NOT_CRIMED).params.get("clock_start", "disclosure")
LATE_CLOCK_START = _RECORDING.rule(CRD_LATE).params.get("clock_start", "disclosure")
SINK_REVIEW_GROUPS = frozenset(
    _RECORDING.rule(NOT_CRIMED).params.get("sink_review_groups", ("sexual_offences", "violence_against_the_person"))
)


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
    reference = guidance.reference
    facts = [incident_facts(plan, extract_at) for plan in incidents]
    out: list[Expected] = []
    raised: set[str] = set()  # incidents raised as unrecorded: their downgrade is part of that finding
    for fact in facts:
        found, unrecorded = judge_recording(fact, deadline_ms, t_end, reference)
        out += found
        if unrecorded and NOT_CRIMED in guidance.t.enabled:
            raised.add(fact.incident_id)
    out += incident_findings(incidents, facts, reference, deadline_ms, t_end, raised)
    out += casework_findings(cases, guidance)
    return ordered(item for item in out if item[1]["rule"] in guidance.t.enabled)


@dataclass(frozen=True)
class Closure:
    at: int
    code: str
    rationale: bool
    victim_informed: bool | None


@dataclass(frozen=True)
class Record:
    """A linked crime.recorded: a crime or an N100 record."""

    crime_id: str
    at: int
    division: str
    crd_at: int | None
    kind: str  # crime | n100

    @property
    def decided(self) -> int:
        return self.crd_at if self.crd_at is not None else self.at


@dataclass
class IncidentFacts:
    """What the history file shows of one incident and its linked records."""

    incident_id: str
    division: str
    reported: int
    codes: list[tuple[int, str, str]] = field(default_factory=list)  # (time, event type, code)
    closure: Closure | None = None  # the earliest closure
    records: list[Record] = field(default_factory=list)

    def clock(self, reference: ReferenceData) -> tuple[int | None, str | None, int | None, int | None]:
        """(disclosure time, its code, first rape code's time, first crime code of an opening or update)."""
        crime = sorted((at, code, kind) for at, kind, code in self.codes if is_crime(reference, code))
        if not crime:
            return None, None, None, None
        rape = [at for at, code, _ in crime if reference.incident_codes[code].rape]
        signalled = [at for at, _, kind in crime if kind != "incident.closed"]
        return crime[0][0], crime[0][1], min(rape, default=None), min(signalled, default=None)

    def check_at(self, reference: ReferenceData, deadline_ms: int) -> int | None:
        disclosed = self.clock(reference)[0]
        if disclosed is None:
            return None
        if CLOCK_START == "disclosure":
            return disclosed + deadline_ms
        return max(self.reported + deadline_ms, disclosed)


def is_crime(reference: ReferenceData, code: str) -> bool:
    return reference.incident_codes[code].code_class == CRIME


def incident_facts(plan: IncidentPlan, extract_at: int) -> IncidentFacts:
    """The plan as the file shows it: events after the extract are not in it (crimes already cut)."""
    facts = IncidentFacts(plan.incident_id, plan.division, plan.reported_at)
    facts.codes.append((plan.reported_at, "incident.opened", plan.opening_code))
    if plan.update is not None and plan.update.at <= extract_at:
        facts.codes.append((plan.update.at, "incident.updated", plan.update.to_code))
    if plan.closed_at <= extract_at:
        facts.codes.append((plan.closed_at, "incident.closed", plan.closing_code))
        facts.closure = Closure(plan.closed_at, plan.closing_code, plan.closing_rationale, plan.victim_informed)
    facts.records = [Record(c.crime_id, c.recorded_at, c.division, c.crd_at, c.kind) for c in linked(plan)]
    return facts


def linked(plan: IncidentPlan) -> list[CrimePlan]:
    """The plan's records that name the incident: a record made without the link (a hidden
    ``unlinked_record``) is, to the rules, a crime reported straight to the crime system."""
    return [crime for crime in plan.crimes if crime.incident_id == plan.incident_id]


def judge_recording(
    facts: IncidentFacts, deadline_ms: int, t_end: int, reference: ReferenceData
) -> tuple[list[Expected], bool]:
    """CRD_LATE and CRIME_INDICATIVE_INCIDENT_NOT_CRIMED of one incident, by docs/rules.md; and
    whether the incident was raised as unrecorded (a breach or for review)."""
    out: list[Expected] = []
    disclosed, code, rape_at, _ = facts.clock(reference)
    for record in facts.records:  # crimes and N100 records alike
        start = facts.reported
        if LATE_CLOCK_START == "disclosure" and disclosed is not None and disclosed <= record.decided:
            start = disclosed
        if record.decided - start > deadline_ms:
            out.append(expected(RAISED, CRD_LATE, "crime", record.crime_id, record.division, record.at))
    check_at = facts.check_at(reference, deadline_ms)
    if check_at is None or check_at > t_end or any(r.at <= check_at for r in facts.records):
        return out, False
    assert code is not None
    closure = facts.closure if facts.closure is not None and facts.closure.at <= check_at else None
    closing_class = reference.incident_codes[closure.code].code_class if closure is not None else None
    explained = closure is not None and closure.rationale and closing_class in EXPLAINING_CLASSES
    rape = rape_at is not None and rape_at <= check_at  # a rape report ends only as a crime or N100
    if explained and not rape:
        assert closure is not None
        group = reference.incident_codes[code].offence_group
        sink = closing_class == "sink" and group in SINK_REVIEW_GROUPS
        if not sink and closure.victim_informed is not False:
            return out, False  # explained; otherwise raised for review
    iid, division = facts.incident_id, facts.division
    out.append(expected(RAISED, NOT_CRIMED, "incident", iid, division, check_at))
    later = [r.at for r in facts.records if r.at > check_at]
    if later:  # a record made later resolves it
        out.append(expected(RESOLVED, NOT_CRIMED, "incident", iid, division, min(later)))
    return out, True


# Offences counted per household or business (the default rules' ONE_CRIME_PER_VICTIM parameter).
HOUSEHOLD_PROPERTY = frozenset(rules.load().rule("ONE_CRIME_PER_VICTIM").params.get("household_property_codes", ()))


def incident_findings(
    incidents: list[IncidentPlan],
    facts: list[IncidentFacts],
    reference: ReferenceData,
    deadline_ms: int,
    t_end: int,
    raised: set[str],
) -> list[Expected]:
    """CLOSE_CATEGORY_DOWNGRADE and ONE_CRIME_PER_VICTIM, from each incident's codes and crimes.

    Whatever made the simulator close an incident so (a never-recorded or late fate, or a
    deliberate downgrade of one crimed in time), the definition alone decides. A downgrade by the
    check time is judged then (it needs the check time in the file), and not raised where the
    incident was raised as unrecorded (``raised``): that finding names it.
    """
    out: list[Expected] = []
    for plan, fact in zip(incidents, facts, strict=True):
        iid, division, closure = plan.incident_id, plan.division, fact.closure
        _, _, _, signalled = fact.clock(reference)
        check_at = fact.check_at(reference, deadline_ms)
        if (
            closure is not None  # the closure is in the file
            and reference.incident_codes[closure.code].code_class in DOWNGRADE_CLASSES
            and not closure.rationale
            and signalled is not None
            and signalled <= closure.at
            and all(record.at > closure.at for record in fact.records)
            and iid not in raised
            and (check_at is None or closure.at > check_at or check_at <= t_end)
        ):
            out.append(expected(RAISED, CLOSE_DOWNGRADE, "incident", iid, division, closure.at))
        if plan.victims is not None and plan.victims >= 2 and check_at is not None:
            victim_crimes = [
                c for c in linked(plan) if c.kind == "crime" and c.recorded_at <= check_at and c.hocr.victim_based
            ]
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
    """The recording rule definitions applied to an event history in event time (self-check)."""
    seen: set[str] = set()
    incidents: dict[str, IncidentFacts] = {}
    codes: dict[str, list[tuple[int, str, str]]] = {}
    closures: dict[str, tuple[int, str, Closure]] = {}  # incident -> (time, event id, closure)
    records: dict[str, list[Record]] = {}
    t_end = None
    for event in events:
        if event["event_id"] in seen:
            continue
        seen.add(event["event_id"])
        at = parse_time(event["occurred_at"])
        t_end = at if t_end is None else max(t_end, at)
        payload, kind = event["payload"], event["type"]
        if kind == "incident.opened":
            incidents[payload["incident_id"]] = IncidentFacts(payload["incident_id"], event["division"], at)
        if kind.startswith("incident."):
            code = payload.get("opening_code") or payload.get("to_code") or payload["closing_code"]
            codes.setdefault(payload["incident_id"], []).append((at, kind, code))
        if kind == "incident.closed":
            iid = payload["incident_id"]
            closure = Closure(
                at, payload["closing_code"], payload["rationale_recorded"], payload.get("victim_informed")
            )
            if iid not in closures or (at, event["event_id"]) < closures[iid][:2]:
                closures[iid] = (at, event["event_id"], closure)
        elif kind == "crime.recorded" and payload["incident_id"] is not None:
            n100 = payload.get("record_kind") == "n100" or (
                payload.get("record_kind") is None and payload["hocr_code"] == "N100"
            )
            crd = parse_time(payload["crd_at"]) if payload.get("crd_at") else None
            record = Record(payload["crime_id"], at, event["division"], crd, "n100" if n100 else "crime")
            records.setdefault(payload["incident_id"], []).append(record)
    if t_end is None:
        return []
    out: list[Expected] = []
    for iid, facts in incidents.items():
        facts.codes = codes.get(iid, [])
        facts.closure = closures[iid][2] if iid in closures else None
        facts.records = records.get(iid, [])
        out += judge_recording(facts, deadline_ms, t_end, reference)[0]
    return ordered(out)
