"""The audit truth: what a careful reviewer would find on a simulated history (issue 12).

The rule truth (``Simulation.truth``, ``cdi simulate --truth``) lists what the rules must find;
it is derived from the rules' own definitions, so a backtest against it measures conformance.
The audit truth says, from the simulator's own decisions and independently of the rules, what
should have happened and whether the rules' findings are right, so that estimates from a review
sample and the rules' blind spot can be tested. One JSON line per unit:

- every incident in the history::

    {"kind": "incident", "id": INC, "division": D, "offence_group": G | null,
     "hocr_code": C | null, "should_record": "crime" | "no_crime" | "n100",
     "recorded": bool, "due_in_history": bool | null, "hidden": null | "narrative_only" |
     "unlinked_record" | "wrong_rationale" | "mistyped_code" | "late_code"}

  ``should_record``: ``crime`` where the incident disclosed a crime (in a code or only in its
  narrative); ``n100`` for a rape report the simulator holds (or should have held) under N100
  rather than as a crime; else ``no_crime`` (no offence disclosed, or a closure whose rationale is
  right). ``recorded``: a record (crime, or N100 record for ``n100``), linked or not, made (its
  event time) no later than the deadline (``deadline_hours``, 24) after the disclosure: when the
  offence really came to light, whatever the codes show. It is what the force did, so a record made
  in time but after the extract counts. ``offence_group`` and ``hocr_code``: the offence's
  (``N100`` for an N100 record); for ``no_crime`` the opening code's group (null for a non-crime
  code) and no code. ``due_in_history``: whether that deadline passed by the history's last event
  (so the rules could have judged it, and a reviewer of the extract can); null for ``no_crime``.
- every finding the rules raise (the rule truth's ``finding.raised`` rows)::

    {"kind": "finding", "id": FINDING_ID, "rule": R, "division": D, "incident_id": INC | null,
     "breach": bool, "reason": null | REASON}

  ``incident_id``: the incident the finding is about (an incident rule's subject, or the incident
  a CRD_LATE record is linked to); null for a finding on a crime's casework. ``breach``: whether a
  careful reviewer confirms it; ``reason``: null for a breach, else why not (REASONS: names from
  the ``audit.verdict`` contract's ``finding_reason``).
- every out-of-court disposal (outcomes 3, 6, 7, 8) in the history::

    {"kind": "disposal", "id": OUTCOME_EVENT_ID, "crime_id": C, "division": D,
     "offence_group": G, "appropriate": bool}

  ``appropriate``: the decision was lawful (no outcome rule's finding on it: the simulator models
  no unlawful disposal the rules cannot see, and no lawful one they flag).

Units come in that order: incidents in report order, findings in the rule truth's order, disposals
by outcome time. ``true_rates`` summarises them.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cdi.history import write_events
from cdi.simulation.breaches import Guidance
from cdi.simulation.codes import OffenceCode, ReferenceData
from cdi.simulation.crimes import choose_hocr
from cdi.simulation.decisions import CrimeCase
from cdi.simulation.hidden import NARRATIVE, UNLINKED, offence_of
from cdi.simulation.incidents import N100_CODE, Fate, IncidentPlan
from cdi.simulation.options import SimulationOptions
from cdi.simulation.truth import CRD_LATE, NOT_CRIMED, RAISED

INCIDENT, FINDING, DISPOSAL = "incident", "finding", "disposal"
CRIME, NO_CRIME, N100 = "crime", "no_crime", "n100"
DISPOSAL_TYPES = frozenset({3, 6, 7, 8})  # adult caution, PND, cannabis/khat warning, community resolution
# Why a finding is not a breach, and when the audit truth says so.
REASONS = {
    # NOT_CRIMED on an incident whose crime was recorded in time without a link to it
    "recorded_under_another_reference": "a crime record exists under another reference",
    # NOT_CRIMED raised for review on a closure with a right rationale (no crime to record)
    "rationale_sufficient": "the written rationale shows no notifiable crime",
    # CRD_LATE on a record decided within the deadline of the real disclosure, which no code showed
    # (the rules timed it from the report); NOT_CRIMED on an incident recorded in time by that clock
    "record_data_wrong": "the record's data (a code, a date, a link) is wrong and the practice was right",
}


def disclosure(plan: IncidentPlan) -> int | None:
    """When the offence really came to light (a narrative's disclosure, else the first crime code
    as planned, before any hidden mode moved or removed it)."""
    return plan.disclosed_at if plan.disclosed_at is not None else plan.indicative_at


def incident_units(
    incidents: list[IncidentPlan], options: SimulationOptions, reference: ReferenceData
) -> list[dict[str, Any]]:
    """One unit per incident, from the plans before the extract cut (records made after it count).

    The classification of an offence never recorded is drawn from a generator of its own (the
    audit truth's), so writing it changes nothing else.
    """
    rng = random.Random(f"{options.seed}:audit-truth")
    return [_incident(plan, rng, options.deadline_ms, reference) for plan in incidents]


def _incident(plan: IncidentPlan, rng: random.Random, deadline: int, reference: ReferenceData) -> dict[str, Any]:
    codes = reference.incident_codes
    offence: OffenceCode | None = None
    should = NO_CRIME
    if plan.hidden == NARRATIVE:
        offence = plan.offence
    elif plan.fate is Fate.EXPLAINED:  # the rationale is right, but a rape report ends as N100
        assert plan.crime_code is not None
        offence = N100_CODE if codes[plan.crime_code].rape else None
    elif plan.fate is not None:
        assert plan.crime_code is not None
        offence = offence_of(plan) or choose_hocr(rng, plan.crime_code, "hate" in plan.qualifiers, reference)
    recorded = False
    if offence is not None:
        should = N100 if offence.code == N100_CODE.code else CRIME
        disclosed = disclosure(plan)
        assert disclosed is not None
        recorded = any(crime.recorded_at <= disclosed + deadline for crime in plan.crimes)
    return {
        "kind": INCIDENT,
        "id": plan.incident_id,
        "division": plan.division,
        "offence_group": offence.offence_group if offence else (codes[plan.opening_code].offence_group or None),
        "hocr_code": offence.code if offence else None,
        "should_record": should,
        "recorded": recorded,
        "due_in_history": None,  # set once the history's end is known (set_due)
        "hidden": plan.hidden,
    }


def set_due(units: list[dict[str, Any]], incidents: list[IncidentPlan], deadline: int, t_end: int) -> None:
    """Whether each due record's deadline passed by ``t_end``, the history's last event time."""
    for unit, plan in zip(units, incidents, strict=True):
        if unit["should_record"] != NO_CRIME:
            disclosed = disclosure(plan)
            assert disclosed is not None
            unit["due_in_history"] = disclosed + deadline <= t_end


def finding_units(
    truth: list[dict[str, Any]], incidents: list[IncidentPlan], units: list[dict[str, Any]], deadline: int
) -> list[dict[str, Any]]:
    """A reviewer's verdict on every finding raised (plans after the extract cut, crime ids set)."""
    plans = {plan.incident_id: plan for plan in incidents}
    unit = {row["id"]: row for row in units}
    records = {crime.crime_id: (plan, crime) for plan in incidents for crime in plan.crimes}
    out = []
    for row in truth:
        if row["type"] != RAISED:
            continue
        rule, subject = row["rule"], row["subject"]
        incident_id: str | None = None
        breach, reason = True, None
        if subject["kind"] == "incident":
            incident_id = subject["id"]
            if rule == NOT_CRIMED:
                breach, reason = _not_crimed(unit[incident_id], plans[incident_id])
        elif rule == CRD_LATE:
            plan, crime = records[subject["id"]]
            incident_id = plan.incident_id
            decided = crime.crd_at if crime.crd_at is not None else crime.recorded_at
            disclosed = disclosure(plan)
            if disclosed is not None and decided - disclosed <= deadline:
                breach, reason = False, "record_data_wrong"
        out.append(
            {
                "kind": FINDING,
                "id": row["finding_id"],
                "rule": rule,
                "division": row["division"],
                "incident_id": incident_id,
                "breach": breach,
                "reason": reason,
            }
        )
    return out


def _not_crimed(unit: dict[str, Any], plan: IncidentPlan) -> tuple[bool, str | None]:
    if unit["hidden"] == UNLINKED:
        return False, "recorded_under_another_reference"
    if unit["should_record"] != NO_CRIME:
        return (False, "record_data_wrong") if unit["recorded"] else (True, None)
    # Raised for review on a closure whose rationale is right (a sink closure, or the victim not
    # told): the victim not told of the decision is a failing a reviewer confirms.
    if plan.victim_informed is False:
        return True, None
    return False, "rationale_sufficient"


def disposal_units(cases: list[CrimeCase], guidance: Guidance) -> list[dict[str, Any]]:
    """Every out-of-court disposal in the extract and whether it was lawful (cases already cut)."""
    outcomes = sorted(
        (case.outcome for case in cases if case.outcome is not None and case.outcome.type in DISPOSAL_TYPES),
        key=lambda o: (o.at, o.case.crime.crime_id),
    )
    out = []
    for o in outcomes:
        crime = o.case.crime
        code = guidance.reference.offence_codes[o.case.code_at(o.at)]
        out.append(
            {
                "kind": DISPOSAL,
                "id": o.event_id,
                "crime_id": crime.crime_id,
                "division": crime.division,
                "offence_group": code.offence_group,
                "appropriate": not guidance.outcome(o),
            }
        )
    return out


def write_audit_truth(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write the audit truth as JSON lines (gzip when the path ends in .gz); returns the count."""
    return write_events(path, rows)


# -- true rates -------------------------------------------------------------------------------------


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _incident_of(finding: Mapping[str, Any]) -> str | None:
    if finding.get("incident_id"):
        return str(finding["incident_id"])
    _, kind, subject = str(finding["id"]).split("/", 2)
    return subject if kind == "incident" else None


def _rates(
    incidents: list[Mapping[str, Any]],
    findings: list[Mapping[str, Any]],
    disposals: list[Mapping[str, Any]],
    seen: set[str],
) -> dict[str, Any]:
    # Crimes whose deadline passed in the history (one an extract's reviewer and the rules can judge).
    crimes = [unit for unit in incidents if unit["should_record"] == CRIME and unit.get("due_in_history") is not False]
    recorded = sum(bool(unit["recorded"]) for unit in crimes)
    unrecorded = [unit for unit in crimes if not unit["recorded"]]
    unseen = sum(unit["id"] not in seen for unit in unrecorded)
    by_rule: dict[str, dict[str, Any]] = {}
    for finding in findings:
        tally = by_rule.setdefault(finding["rule"], {"findings": 0, "breaches": 0})
        tally["findings"] += 1
        tally["breaches"] += bool(finding["breach"])
    for tally in by_rule.values():
        tally["precision"] = _ratio(tally["breaches"], tally["findings"])
    breaches = sum(bool(finding["breach"]) for finding in findings)
    appropriate = sum(bool(unit["appropriate"]) for unit in disposals)
    return {
        "incidents": len(incidents),
        "should_record": len(crimes),
        "recorded": recorded,
        "recording_accuracy": _ratio(recorded, len(crimes)),
        "unrecorded": len(unrecorded),
        "unrecorded_without_finding": unseen,
        "blind_spot_rate": _ratio(unseen, len(unrecorded)),
        "findings": len(findings),
        "breaches": breaches,
        "precision": _ratio(breaches, len(findings)),
        "by_rule": dict(sorted(by_rule.items())),
        "disposals": len(disposals),
        "appropriate": appropriate,
        "appropriate_rate": _ratio(appropriate, len(disposals)),
    }


def true_rates(audit_truth: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The population's true rates, overall and by division (``{"overall": R, "by_division":
    {division: R}}``), each R holding:

    - ``recording_accuracy`` = ``recorded`` / ``should_record`` over incidents whose
      ``should_record`` is ``crime`` and whose deadline passed in the history (``due_in_history``
      not false) (HMICFRS's measure: recorded in time / should have been);
    - ``blind_spot_rate`` = ``unrecorded_without_finding`` / ``unrecorded``: of those crimes not
      recorded in time, the share with no rule finding on the incident (any rule: the incident's
      own findings, and CRD_LATE on a record linked to it);
    - ``precision`` = ``breaches`` / ``findings``, and ``by_rule``: {rule: {findings, breaches,
      precision}};
    - ``appropriate_rate`` = ``appropriate`` / ``disposals``.

    A ratio over nothing is None.
    """
    rows = list(audit_truth)
    incidents = [row for row in rows if row["kind"] == INCIDENT]
    findings = [row for row in rows if row["kind"] == FINDING]
    disposals = [row for row in rows if row["kind"] == DISPOSAL]
    seen = {iid for iid in map(_incident_of, findings) if iid is not None}
    divisions = sorted({row["division"] for row in (*incidents, *findings, *disposals)})

    def part(division: str, items: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        return [item for item in items if item["division"] == division]

    return {
        "overall": _rates(incidents, findings, disposals, seen),
        "by_division": {
            division: _rates(part(division, incidents), part(division, findings), part(division, disposals), seen)
            for division in divisions
        },
    }
