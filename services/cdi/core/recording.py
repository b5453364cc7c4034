"""Incident-stage logic: the recording rules, on cases keyed by incident (see docs/rules.md).

- CRIME_INDICATIVE_INCIDENT_NOT_CRIMED: a crime-indicative incident with no linked crime (or N100)
  record at its check time and no written rationale for a non-crime closure by then. The check
  time runs from the disclosure (the first crime-indicative code) or, with ``clock_start =
  "first_contact"``, is max(report + deadline, disclosure). A rape report is not explained by a
  rationale: only a crime or an N100 record ends it. An explained incident is still raised for
  review when a sexual or violent offence was closed to a sink code, or the victim was not told.
  A record made later resolves the finding.
- CRD_LATE: a linked crime (or N100) record whose recording decision (``crd_at``, else the
  record's time) came more than the deadline after the disclosure (or the report).
- CLOSE_CATEGORY_DOWNGRADE: a crime-indicative incident closed to a non-crime or sink code with
  no record and no rationale. A closure at or before the check time is judged at the check time:
  if the incident is then raised as unrecorded, that finding names the closure and no downgrade
  finding is raised (one problem, one finding).
- ONE_CRIME_PER_VICTIM: at the check time, fewer victims on the crime records than victims.
"""

from __future__ import annotations

from typing import Any

from cdi.core import findings
from cdi.core.cases import IncidentCase, LinkedCrime
from cdi.core.events import CrimeRecorded, Event, IncidentClosed, IncidentOpened, IncidentUpdated, Subject
from cdi.core.observations import RecordingDecision, RecordingDelay
from cdi.core.reference import EXPLAINED_CLOSING_CLASSES, ReferenceData
from cdi.core.rules import CLOSE_DOWNGRADE, CRD_LATE, NOT_CRIMED, ONE_CRIME_PER_VICTIM, RulesConfig
from cdi.core.stage import Step
from cdi.core.times import format_duration, format_time, parse_time

UNKNOWN_GROUP = "miscellaneous"
INCIDENT_EVENTS = (IncidentOpened, IncidentUpdated, IncidentClosed)
DOWNGRADE_CLASSES = frozenset({"non_crime", "sink"})

# Where the recording deadline runs from (``clock_start`` of both recording rules).
DISCLOSURE = "disclosure"  # the first crime-indicative code (rules-review 1.1 point 1, 1.2)
FIRST_CONTACT = "first_contact"  # the report; the check no earlier than the disclosure
N100 = "n100"  # record_kind of a rape report held under Home Office classification N100
# Offence groups whose sink closure with a rationale is still reviewed (when the rules file is silent).
DEFAULT_SINK_REVIEW_GROUPS = ("sexual_offences", "violence_against_the_person")
SINK_REVIEW_SEVERITY = "medium"

# Agenda kinds; at one instant they fire in this order (the check before the closure it may report).
CHECK = 0  # the recording deadline of a crime-indicative incident
TIME = 1  # a linked record's recording decision, to measure against the deadline
RESOLVE = 2  # a late crime record clears a raised finding
CLOSE = 3  # a closure to judge for a downgrade (at the check time if it came by then)


class IncidentLogic:
    def __init__(self, config: RulesConfig, reference: ReferenceData) -> None:
        self.config = config
        self.reference = reference
        self.not_crimed = config.rule(NOT_CRIMED)
        self.crd_late = config.rule(CRD_LATE)
        self.downgrade = config.rule(CLOSE_DOWNGRADE)
        self.per_victim = config.rule(ONE_CRIME_PER_VICTIM)
        self.check_deadline = self.not_crimed.hours("deadline_hours")
        self.check_clock = self.not_crimed.params.get("clock_start", DISCLOSURE)
        self.sink_review_groups = frozenset(
            self.not_crimed.params.get("sink_review_groups", DEFAULT_SINK_REVIEW_GROUPS)
        )
        self.retention = config.case_retention_ms
        self.late_deadline = self.crd_late.hours("deadline_hours")
        self.late_clock = self.crd_late.params.get("clock_start", DISCLOSURE)

    # -- stage protocol --------------------------------------------------------------------------

    def key(self, event: Event) -> str | None:
        payload = event.payload
        if isinstance(payload, INCIDENT_EVENTS):
            return payload.incident_id
        if isinstance(payload, CrimeRecorded):
            return payload.incident_id if payload.incident_id is not None else f"crime:{payload.crime_id}"
        return None

    def new_case(self, key: str, event: Event) -> IncidentCase:
        return IncidentCase(key=key, force=event.force, division=event.division, first_at=event.at)

    def load(self, data: dict[str, Any]) -> IncidentCase:
        return IncidentCase.from_dict(data)

    def expires_at(self, case: IncidentCase) -> int:
        return case.first_at + self.retention

    def fits(self, case: IncidentCase, event: Event, watermark: int) -> bool:
        return True  # one row per event at most: the stage's event bound covers an incident

    def due(self, case: IncidentCase) -> tuple[tuple[int, int], ...]:
        due = []
        check = None if case.indicative_at is None else self.check_at(case)  # most incidents: no check
        if check is not None and not case.checked:
            due.append((check, CHECK))
        if case.not_crimed == "raised":  # only a raised finding is resolved (asked on every event)
            resolve = self.resolve_at(case)
            if resolve is not None:
                due.append((resolve, RESOLVE))
        if case.closed_at is not None and not case.close_checked:
            # A closure by the check time is judged with the check (one problem, one finding).
            due.append((check if check is not None and case.closed_at <= check else case.closed_at, CLOSE))
        # A record's delay is measured once every incident event up to its decision is known.
        if case.crimes:
            due += [(c.decision_time, TIME) for c in case.crimes.values() if not (c.timed or c.waited)]
        return tuple(due) if len(due) < 2 else tuple(dict.fromkeys(due))

    def fire(self, case: IncidentCase, at: int, kind: int, out: Step) -> None:
        if kind == CHECK:
            self.check(case, out)
        elif kind == RESOLVE:
            self.resolve(case, out)
        elif kind == CLOSE:
            self.judge_closure(case, out)
        elif kind == TIME:
            self.time_records(case, at, out)

    def is_open(self, case: IncidentCase) -> bool:
        """Crime-indicative, not yet recorded or explained, deadline not reached."""
        if case.indicative_at is None or case.checked or case.crimes:
            return False
        return not (case.rape_at is None and self._explained(case, None))

    # -- applying events -----------------------------------------------------------------------

    def apply(self, case: IncidentCase, event: Event, out: Step) -> None:
        case.first_at = min(case.first_at, event.at)  # the earliest, whatever arrived first: retention by event time
        payload = event.payload
        if isinstance(payload, CrimeRecorded):
            self._crime_recorded(case, event, payload)
            return
        case.incident_id = payload.incident_id
        case.incident_events.append((event.at, event.event_id))
        if isinstance(payload, IncidentOpened):
            case.reported_at, case.opened_event, case.opening_code = event.at, event.event_id, payload.opening_code
            case.division, case.force, case.division_at = event.division, event.force, None
            case.victims = payload.victims
            self._maybe_indicative(case, event, payload.opening_code, signalled=True)
            for crime in sorted(case.crimes.values(), key=lambda c: (c.decision_time, c.crime_id)):
                if crime.waited:  # its decision fell due before the report was known
                    self._time_crime(case, crime, out)
            return
        if case.opened_event is None and (case.division_at is None or event.at < case.division_at):
            case.division, case.force, case.division_at = event.division, event.force, event.at
        if isinstance(payload, IncidentUpdated):
            self._maybe_indicative(case, event, payload.to_code, signalled=True)
        elif isinstance(payload, IncidentClosed):
            # The earliest closure counts, so that a second closing event cannot reorder the story.
            if case.closed_at is None or (event.at, event.event_id) < (case.closed_at, case.closing_event or ""):
                case.closed_at, case.closing_code, case.closing_event = event.at, payload.closing_code, event.event_id
                case.closing_rationale = payload.rationale_recorded
                case.closing_victim_informed = payload.victim_informed
            self._maybe_indicative(case, event, payload.closing_code)

    def _maybe_indicative(self, case: IncidentCase, event: Event, code: str, *, signalled: bool = False) -> None:
        info = self.reference.incident_code(code)
        if info is None or not info.crime_indicative:
            return
        at = event.at
        if signalled and (case.signalled_at is None or at < case.signalled_at):
            case.signalled_at = at
        if info.rape and (case.rape_at is None or at < case.rape_at):
            case.rape_at = at
        first = (case.indicative_at, case.indicative_code or "", case.indicative_event or "")
        if case.indicative_at is None or (at, code, event.event_id) < first:
            case.indicative_at, case.indicative_code, case.indicative_event = at, code, event.event_id

    def _crime_recorded(self, case: IncidentCase, event: Event, payload: CrimeRecorded) -> None:
        # An N100 record: record_kind says so; a source without the field may give the code alone.
        n100 = payload.is_n100
        crime = LinkedCrime(
            payload.crime_id,
            event.at,
            event.event_id,
            payload.hocr_code,
            payload.offence_group,
            event.division,
            victim_ref=payload.victim_ref,
            kind=N100 if n100 else "crime",
            decided_at=parse_time(payload.crd_at) if payload.crd_at else None,
        )
        case.crimes[crime.crime_id] = crime
        if payload.incident_id is None:
            return
        if not case.incident_events:  # crime arrived first; the incident's own division wins later
            case.division, case.force = event.division, event.force

    # -- CRD_LATE --------------------------------------------------------------------------------

    def time_records(self, case: IncidentCase, at: int, out: Step) -> None:
        """The watermark has passed these records' decision times: every incident event up to
        them is known, so where the clock started is settled."""
        due = [c for c in case.crimes.values() if not (c.timed or c.waited) and c.decision_time <= at]
        for crime in sorted(due, key=lambda c: (c.decision_time, c.crime_id)):
            if case.reported_at is None:
                # No report yet: none at or before the decision (any later one times it on arrival;
                # a crime with no incident, or whose incident never arrives, is never timed).
                crime.waited = True
            else:
                self._time_crime(case, crime, out)

    def _clock_start(self, case: IncidentCase, crime: LinkedCrime) -> tuple[int, str | None, bool]:
        """(start, its event, whether it is the disclosure) of a record's recording clock."""
        disclosed_at = case.indicative_at
        if self.late_clock == DISCLOSURE and disclosed_at is not None and disclosed_at <= crime.decision_time:
            return disclosed_at, case.indicative_event, True
        assert case.reported_at is not None
        return case.reported_at, case.opened_event, False

    def _time_crime(self, case: IncidentCase, crime: LinkedCrime, out: Step) -> None:
        crime.timed, crime.waited = True, False
        start, start_event, disclosed = self._clock_start(case, crime)
        delay = crime.decision_time - start
        if crime.is_crime:  # the timeliness of crime records (an N100 record is not a crime)
            out.observations.append(RecordingDelay(crime.division, crime.offence_group, max(delay, 0) / 1000))
        if delay <= self.late_deadline or not self.crd_late.enabled or crime.crime_id in case.late_raised:
            return
        case.late_raised.add(crime.crime_id)
        out.findings.append(
            findings.raised(
                CRD_LATE,
                self.crd_late.severity_for(crime.offence_group),
                Subject("crime", crime.crime_id),
                findings.FindingContext(case.force, crime.division, crime.at, crime.offence_group, self.config.version),
                evidence=[start_event or crime.event_id, crime.event_id],
                explanation=self._late_story(case, crime, start, disclosed),
                guidance=self.crd_late.guidance,
            )
        )

    def _late_story(self, case: IncidentCase, crime: LinkedCrime, start: int, disclosed: bool) -> str:
        delay = format_duration(crime.decision_time - start)
        if delay == format_duration(self.late_deadline):  # late by less than a minute
            delay = f"more than {delay}"
        if crime.is_crime:
            offence = self.reference.offence_codes.get(crime.hocr_code) if crime.hocr_code else None
            what = (
                f"{crime.hocr_code}, {offence.offence.lower()}" if offence else crime.hocr_code or "no Home Office code"
            )
            record = f"Crime {crime.crime_id} ({what})"
        else:
            record = f"N100 record {crime.crime_id} (a rape report held under N100, not recorded as a crime)"
        if disclosed:
            since = f"incident {case.incident_id} disclosed a crime ({case.indicative_code} at {format_time(start)})"
        else:
            since = f"incident {case.incident_id} was reported at {format_time(start)}"
        if crime.decided_at is not None:
            story = [
                f"{record} had its Crime Recording Decision at {format_time(crime.decided_at)}, {delay} after {since}",
                f"the record was created at {format_time(crime.at)}",
            ]
        else:
            story = [
                f"{record} was recorded {delay} after {since}",
                "the record carries no Crime Recording Decision time, so the time it was created stands in for it",
            ]
        if self.late_clock == DISCLOSURE:
            if not disclosed:
                story.append(
                    "the incident log shows no crime-indicative code by then, "
                    "so the report stands in for the disclosure"
                )
            story.append(f"the limit is {format_duration(self.late_deadline)} from the disclosure.")
        else:
            story.append(f"the limit is {format_duration(self.late_deadline)} from the report.")
        return "; ".join(story)

    # -- CRIME_INDICATIVE_INCIDENT_NOT_CRIMED and ONE_CRIME_PER_VICTIM ---------------------------

    def check_at(self, case: IncidentCase) -> int | None:
        """When the recording decision falls due, or None if the case needs no decision."""
        if case.indicative_at is None:
            return None
        reported = case.report_time()
        if reported is None:
            return None
        if self.check_clock == DISCLOSURE:
            return case.indicative_at + self.check_deadline
        return max(reported + self.check_deadline, case.indicative_at)

    def _explained(self, case: IncidentCase, by: int | None) -> bool:
        if case.closed_at is None or not case.closing_rationale or case.closing_code is None:
            return False
        if by is not None and case.closed_at > by:
            return False
        code = self.reference.incident_code(case.closing_code)
        return code is not None and code.code_class in EXPLAINED_CLOSING_CLASSES

    def _is_downgrade(self, case: IncidentCase) -> bool:
        """The closure is a CLOSE_CATEGORY_DOWNGRADE: to a non-crime or sink code without a
        rationale, crime-indicative by then from an opening or update, no record by then."""
        closed_at = case.closed_at
        code = self.reference.incident_code(case.closing_code or "")
        if closed_at is None or code is None or code.code_class not in DOWNGRADE_CLASSES or case.closing_rationale:
            return False
        signalled = case.signalled_at is not None and case.signalled_at <= closed_at
        return signalled and not any(c.at <= closed_at for c in case.crimes.values())

    def group_of(self, case: IncidentCase) -> str:
        code = self.reference.incident_code(case.indicative_code or "")
        return (code.offence_group if code else None) or UNKNOWN_GROUP

    def _context(self, case: IncidentCase, at: int) -> findings.FindingContext:
        return findings.FindingContext(case.force, case.division, at, self.group_of(case), self.config.version)

    def _evidence(self, case: IncidentCase, by: int) -> list[str]:
        return [ev for at, ev in sorted(case.incident_events) if at <= by]

    def _deadline_note(self, case: IncidentCase) -> str:
        limit = format_duration(self.check_deadline)
        if self.check_clock == DISCLOSURE:
            disclosed = format_time(case.indicative_at or 0)
            return f"Deadline: {limit} from the disclosure (the first crime-indicative code, at {disclosed})."
        return f"Deadline: {limit} from the report (clock from first contact), and no earlier than the disclosure."

    def _opening_story(self, case: IncidentCase) -> list[str]:
        reported = case.report_time()
        assert reported is not None
        story = [
            f"Incident {case.incident_id} was reported at {format_time(reported)}"
            + (f" as {case.opening_code}" if case.opening_code else "")
        ]
        if case.indicative_code != case.opening_code:
            story.append(
                f"it became crime-indicative ({case.indicative_code}) at {format_time(case.indicative_at or 0)}"
            )
        return story

    def check(self, case: IncidentCase, out: Step) -> None:
        """The watermark has passed the check time: decide."""
        due = self.check_at(case)
        assert due is not None
        case.checked = True
        group = self.group_of(case)
        in_time = [c for c in case.crimes.values() if c.at <= due]
        if in_time:  # a crime record, or an N100 record: the recording decision HOCR asks for
            out.observations.append(RecordingDecision(case.division, group, "recorded"))
            crimes = [c for c in in_time if c.is_crime]
            if crimes:
                self._per_victim(case, due, crimes, out)
            return
        rape = case.rape_at is not None and case.rape_at <= due
        explained = self._explained(case, due)
        if explained and not rape:
            out.observations.append(RecordingDecision(case.division, group, "explained"))
            self._review_explained(case, due, group, out)
            return
        out.observations.append(RecordingDecision(case.division, group, "not_recorded"))
        if not self.not_crimed.enabled:
            return
        case.not_crimed = "raised"
        story = self._opening_story(case)
        story.append(f"no crime record{' or N100 record' if rape else ''} was linked to it by {format_time(due)}")
        severity = self.not_crimed.severity_for(group)
        assessment = findings.BREACH
        closing = self.reference.incident_code(case.closing_code or "")
        closed_in_time = case.closed_at is not None and case.closed_at <= due
        if closed_in_time and closing is not None and closing.code_class == "crimed":
            # Closed as crime recorded with no linked crime: a missing link is likelier than an
            # unrecorded crime (rules-review 1.1 point 4), so one step lower and it says where to look.
            story.append(
                f"it was closed as {case.closing_code} (crime recorded), but no crime record is linked to it: "
                "check for a crime under another reference before treating it as unrecorded"
            )
            severity = findings.one_step_lower(severity)
            assessment = findings.REVIEW
        elif closed_in_time and explained:  # a rape report: the rationale does not end it
            story.append(
                f"it was closed as {case.closing_code} with a recorded rationale at {format_time(case.closed_at or 0)}"
            )
        elif closed_in_time and closing is not None and self._is_downgrade(case):
            # One problem, one finding (rules-review 1.3): the downgrade is part of this finding.
            story.append(
                f"it was closed as {case.closing_code} (a {closing.code_class.replace('_', '-')} code) without a "
                "recorded rationale at "
                f"{format_time(case.closed_at or 0)}: a crime-indicative call downgraded at closure, reported here"
            )
        elif closed_in_time:
            story.append(
                f"it was closed as {case.closing_code}"
                + ("" if case.closing_rationale else " without a recorded rationale")
            )
        if rape:  # rules-review 1.1 point 2: a rationale on the incident is not enough
            story.append("a rape report ends only as a crime or an N100 record")
        if closed_in_time and case.closing_victim_informed is False:
            story.append("the closure records that the victim was not told")
        out.findings.append(
            findings.raised(
                NOT_CRIMED,
                severity,
                Subject("incident", case.incident_id or case.key),
                self._context(case, due),
                evidence=self._evidence(case, due),
                explanation="; ".join(story) + ". " + self._deadline_note(case),
                guidance=self.not_crimed.guidance,
                assessment=assessment,
            )
        )

    def _review_explained(self, case: IncidentCase, due: int, group: str, out: Step) -> None:
        """An incident explained by a rationale, still for a person to check: a sexual or violent
        offence closed to a sink code, or a victim not told (rules-review 1.1 points 2 and 3)."""
        if not self.not_crimed.enabled:
            return
        closing = self.reference.incident_code(case.closing_code or "")
        assert closing is not None
        reasons, severities = [], []
        if closing.code_class == "sink" and group in self.sink_review_groups:
            reasons.append(
                f"{case.closing_code} is a catch-all code outside the count: a call that disclosed "
                f"{group.replace('_', ' ')} and is closed so is checked by a person, since a rationale can "
                "exist and still be wrong"
            )
            severities.append(SINK_REVIEW_SEVERITY)
        if case.closing_victim_informed is False:
            reasons.append("the closure records that the victim was not told the report would not be recorded")
            severities.append(findings.one_step_lower(self.not_crimed.severity_for(group)))
        if not reasons:
            return
        case.not_crimed = "raised"
        story = self._opening_story(case)
        story.append(
            f"no crime record was linked to it by {format_time(due)}; it was closed as {case.closing_code} with a "
            "recorded rationale, so it is not counted as unrecorded, but"
        )
        explanation = "; ".join(story) + " " + "; and ".join(reasons) + ". " + self._deadline_note(case)
        out.findings.append(
            findings.raised(
                NOT_CRIMED,
                max(severities, key=findings.SEVERITIES.index),
                Subject("incident", case.incident_id or case.key),
                self._context(case, due),
                evidence=self._evidence(case, due),
                explanation=explanation,
                guidance=self.not_crimed.guidance,
                assessment=findings.REVIEW,
            )
        )

    def _per_victim(self, case: IncidentCase, due: int, in_time: list[LinkedCrime], out: Step) -> None:
        victims = case.victims or 0
        if victims < 2 or not self.per_victim.enabled:
            return
        codes = self.reference.offence_codes
        victim_based = sorted(
            (c for c in in_time if c.hocr_code in codes and codes[c.hocr_code].victim_based),
            key=lambda c: (c.at, c.crime_id),
        )
        household = self.per_victim.params.get("household_property_codes", ())
        if any(c.hocr_code in household for c in victim_based):
            return  # counted per household or business: the victims' count cannot settle it
        # Victims on the crime records, not records: two crimes for one victim cover one victim
        # (rules-review 1.4). A record without a victim reference counts as a victim of its own.
        covered = len({c.victim_ref or f"crime:{c.crime_id}" for c in victim_based})
        if not 1 <= covered < victims:
            return
        records = len(victim_based)
        by = format_time(due)
        if covered == records:
            found = (
                f"only {covered} victim-based crime record{'s were' if covered > 1 else ' was'} linked to it by {by}"
            )
        else:
            found = (
                f"the {records} victim-based crime records linked to it by {by} name only {covered} distinct "
                f"victim{'s' if covered > 1 else ''}"
            )
        out.findings.append(
            findings.raised(
                ONE_CRIME_PER_VICTIM,
                self.per_victim.severity_for(self.group_of(case)),
                Subject("incident", case.incident_id or case.key),
                self._context(case, due),
                evidence=[case.opened_event or case.key, *(c.event_id for c in victim_based)],
                explanation=(
                    f"Incident {case.incident_id} reported {victims} victims but {found}; the counting rules ask "
                    "for one crime per victim."
                ),
                guidance=self.per_victim.guidance,
            )
        )

    def resolve_at(self, case: IncidentCase) -> int | None:
        """When a raised finding is resolved: at the first record (crime or N100) made after its
        check time. Resolved only once the watermark passes that time, so that of two records made
        in the same millisecond the same one is named whatever their arrival order."""
        crime = self._first_late_crime(case)
        return crime.at if crime is not None else None

    def _first_late_crime(self, case: IncidentCase) -> LinkedCrime | None:
        if case.not_crimed != "raised":
            return None
        due = self.check_at(case)
        later = [c for c in case.crimes.values() if due is not None and c.at > due]
        return min(later, key=lambda c: (c.at, c.crime_id)) if later else None

    def resolve(self, case: IncidentCase, out: Step) -> None:
        crime = self._first_late_crime(case)
        assert crime is not None
        case.not_crimed = "resolved"
        deadline = self.check_at(case)
        record = f"Crime {crime.crime_id}" if crime.is_crime else f"N100 record {crime.crime_id}"
        out.findings.append(
            findings.resolved(
                NOT_CRIMED,
                "recorded_late",
                Subject("incident", case.incident_id or case.key),
                self._context(case, crime.at),
                evidence=[crime.event_id],
                explanation=(
                    f"{record} was recorded for incident {case.incident_id} at {format_time(crime.at)}, after its "
                    f"recording deadline of {format_time(deadline if deadline is not None else crime.at)}."
                ),
            )
        )

    # -- CLOSE_CATEGORY_DOWNGRADE ------------------------------------------------------------------

    def judge_closure(self, case: IncidentCase, out: Step) -> None:
        """At the closure, or at the check time for a closure by then (after the check)."""
        case.close_checked = True
        closed_at = case.closed_at
        assert closed_at is not None
        if case.not_crimed is not None:
            # The incident was raised as unrecorded: that finding names the closure (one problem,
            # one finding, rules-review 1.3); a closure after it adds nothing the finding lacks.
            return
        if not self._is_downgrade(case) or not self.downgrade.enabled:
            return
        code = self.reference.incident_code(case.closing_code or "")
        assert code is not None
        severity = self.downgrade.severity_for(self.group_of(case))
        if code.code_class == "sink" and self.downgrade.params.get("sink_raises_severity", True):
            # At most high: critical is kept for unlawful disposals and rape cancellations, which
            # page the control room.
            severity = findings.one_step_higher(severity, cap="high")
        out.findings.append(
            findings.raised(
                CLOSE_DOWNGRADE,
                severity,
                Subject("incident", case.incident_id or case.key),
                self._context(case, closed_at),
                evidence=self._evidence(case, closed_at),
                explanation=(
                    f"Incident {case.incident_id}, crime-indicative as {case.indicative_code}, was closed at "
                    f"{format_time(closed_at)} as {case.closing_code} ({code.code_class.replace('_', '-')} code) "
                    f"with no crime record and no recorded rationale."
                ),
                guidance=self.downgrade.guidance,
            )
        )
