"""Incident-stage logic: the recording rules, on cases keyed by incident (see docs/rules.md).

- CRIME_INDICATIVE_INCIDENT_NOT_CRIMED: a crime-indicative incident with no linked crime record
  at its check time, max(report + deadline, time it became indicative), and no written
  rationale for a non-crime closure by then. A crime recorded later resolves the finding.
- CRD_LATE: a linked crime recorded more than the deadline after the incident report.
- CLOSE_CATEGORY_DOWNGRADE: a crime-indicative incident closed to a non-crime or sink code with
  no crime and no rationale, judged at the closure.
- ONE_CRIME_PER_VICTIM: at the check time, fewer victim-based crime records than victims.
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
from cdi.core.times import format_duration, format_time

UNKNOWN_GROUP = "miscellaneous"
DOWNGRADE_CLASSES = frozenset({"non_crime", "sink"})

CHECK = 0  # the recording deadline of a crime-indicative incident
RESOLVE = 1  # a late crime record clears a raised finding
CLOSE = 2  # a closure to judge for a downgrade


class IncidentLogic:
    def __init__(self, config: RulesConfig, reference: ReferenceData) -> None:
        self.config = config
        self.reference = reference
        self.not_crimed = config.rule(NOT_CRIMED)
        self.crd_late = config.rule(CRD_LATE)
        self.downgrade = config.rule(CLOSE_DOWNGRADE)
        self.per_victim = config.rule(ONE_CRIME_PER_VICTIM)
        self.check_deadline = self.not_crimed.hours("deadline_hours")
        self.retention = config.case_retention_ms
        self.late_deadline = self.crd_late.hours("deadline_hours")

    # -- stage protocol --------------------------------------------------------------------------

    def key(self, event: Event) -> str | None:
        payload = event.payload
        if isinstance(payload, IncidentOpened | IncidentUpdated | IncidentClosed):
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
        check = self.check_at(case)
        if check is not None and not case.checked:
            due.append((check, CHECK))
        resolve = self.resolve_at(case)
        if resolve is not None:
            due.append((resolve, RESOLVE))
        if case.closed_at is not None and not case.close_checked:
            due.append((case.closed_at, CLOSE))
        return tuple(due)

    def fire(self, case: IncidentCase, at: int, kind: int, out: Step) -> None:
        if kind == CHECK:
            self.check(case, out)
        elif kind == RESOLVE:
            self.resolve(case, out)
        elif kind == CLOSE:
            self.judge_closure(case, out)

    def is_open(self, case: IncidentCase) -> bool:
        """Crime-indicative, not yet recorded or explained, deadline not reached."""
        return (
            case.indicative_at is not None and not case.checked and not case.crimes and not self._explained(case, None)
        )

    # -- applying events -----------------------------------------------------------------------

    def apply(self, case: IncidentCase, event: Event, out: Step) -> None:
        case.first_at = min(case.first_at, event.at)  # the earliest, whatever arrived first: retention by event time
        payload = event.payload
        if isinstance(payload, CrimeRecorded):
            self._crime_recorded(case, event, payload, out)
            return
        case.incident_id = payload.incident_id
        case.incident_events.append((event.at, event.event_id))
        if isinstance(payload, IncidentOpened):
            case.reported_at, case.opened_event, case.opening_code = event.at, event.event_id, payload.opening_code
            case.division, case.force, case.division_at = event.division, event.force, None
            case.victims = payload.victims
            self._maybe_indicative(case, event.at, payload.opening_code, signalled=True)
            for crime in case.crimes.values():
                self._time_crime(case, crime, out)
            return
        if case.opened_event is None and (case.division_at is None or event.at < case.division_at):
            case.division, case.force, case.division_at = event.division, event.force, event.at
        if isinstance(payload, IncidentUpdated):
            self._maybe_indicative(case, event.at, payload.to_code, signalled=True)
        elif isinstance(payload, IncidentClosed):
            # The earliest closure counts, so that a second closing event cannot reorder the story.
            if case.closed_at is None or (event.at, event.event_id) < (case.closed_at, case.closing_event or ""):
                case.closed_at, case.closing_code, case.closing_event = event.at, payload.closing_code, event.event_id
                case.closing_rationale = payload.rationale_recorded
            self._maybe_indicative(case, event.at, payload.closing_code)

    def _maybe_indicative(self, case: IncidentCase, at: int, code: str, *, signalled: bool = False) -> None:
        if not self.reference.is_crime_indicative(code):
            return
        if signalled and (case.signalled_at is None or at < case.signalled_at):
            case.signalled_at = at
        if case.indicative_at is None or (at, code) < (case.indicative_at, case.indicative_code or ""):
            case.indicative_at, case.indicative_code = at, code

    def _crime_recorded(self, case: IncidentCase, event: Event, payload: CrimeRecorded, out: Step) -> None:
        crime = LinkedCrime(
            payload.crime_id,
            event.at,
            event.event_id,
            payload.hocr_code,
            payload.offence_group,
            event.division,
            victim_ref=payload.victim_ref,
        )
        case.crimes[crime.crime_id] = crime
        if payload.incident_id is None:
            return
        if not case.incident_events:  # crime arrived first; the incident's own division wins later
            case.division, case.force = event.division, event.force
        self._time_crime(case, crime, out)

    # -- CRD_LATE --------------------------------------------------------------------------------

    def _time_crime(self, case: IncidentCase, crime: LinkedCrime, out: Step) -> None:
        if crime.timed or case.reported_at is None:
            return
        crime.timed = True
        delay = crime.at - case.reported_at
        out.observations.append(RecordingDelay(crime.division, crime.offence_group, max(delay, 0) / 1000))
        if delay <= self.late_deadline or not self.crd_late.enabled or crime.crime_id in case.late_raised:
            return
        case.late_raised.add(crime.crime_id)
        offence = self.reference.offence_codes.get(crime.hocr_code) if crime.hocr_code else None
        what = f"{crime.hocr_code}, {offence.offence.lower()}" if offence else crime.hocr_code or "no Home Office code"
        out.findings.append(
            findings.raised(
                CRD_LATE,
                self.crd_late.severity_for(crime.offence_group),
                Subject("crime", crime.crime_id),
                findings.FindingContext(case.force, crime.division, crime.at, crime.offence_group, self.config.version),
                evidence=[case.opened_event or crime.event_id, crime.event_id],
                explanation=(
                    f"Crime {crime.crime_id} ({what}) was recorded {format_duration(delay)} after incident "
                    f"{case.incident_id} was reported at {format_time(case.reported_at)}; the limit is "
                    f"{format_duration(self.late_deadline)} from the report."
                ),
                guidance=self.crd_late.guidance,
            )
        )

    # -- CRIME_INDICATIVE_INCIDENT_NOT_CRIMED and ONE_CRIME_PER_VICTIM ---------------------------

    def check_at(self, case: IncidentCase) -> int | None:
        """When the recording decision falls due, or None if the case needs no decision."""
        reported = case.report_time()
        if case.indicative_at is None or reported is None:
            return None
        return max(reported + self.check_deadline, case.indicative_at)

    def _explained(self, case: IncidentCase, by: int | None) -> bool:
        if case.closed_at is None or not case.closing_rationale or case.closing_code is None:
            return False
        if by is not None and case.closed_at > by:
            return False
        code = self.reference.incident_code(case.closing_code)
        return code is not None and code.code_class in EXPLAINED_CLOSING_CLASSES

    def group_of(self, case: IncidentCase) -> str:
        code = self.reference.incident_code(case.indicative_code or "")
        return (code.offence_group if code else None) or UNKNOWN_GROUP

    def _context(self, case: IncidentCase, at: int) -> findings.FindingContext:
        return findings.FindingContext(case.force, case.division, at, self.group_of(case), self.config.version)

    def _evidence(self, case: IncidentCase, by: int) -> list[str]:
        return [ev for at, ev in sorted(case.incident_events) if at <= by]

    def check(self, case: IncidentCase, out: Step) -> None:
        """The watermark has passed the check time: decide."""
        due = self.check_at(case)
        assert due is not None
        case.checked = True
        group = self.group_of(case)
        in_time = [c for c in case.crimes.values() if c.at <= due]
        if in_time:
            out.observations.append(RecordingDecision(case.division, group, "recorded"))
            self._per_victim(case, due, in_time, out)
            return
        if self._explained(case, due):
            out.observations.append(RecordingDecision(case.division, group, "explained"))
            return
        out.observations.append(RecordingDecision(case.division, group, "not_recorded"))
        if not self.not_crimed.enabled:
            return
        case.not_crimed = "raised"
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
        story.append(f"no crime record was linked to it by {format_time(due)}")
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
        elif closed_in_time:
            story.append(
                f"it was closed as {case.closing_code}"
                + ("" if case.closing_rationale else " without a recorded rationale")
            )
        out.findings.append(
            findings.raised(
                NOT_CRIMED,
                severity,
                Subject("incident", case.incident_id or case.key),
                self._context(case, due),
                evidence=self._evidence(case, due),
                explanation="; ".join(story) + f". Deadline: {format_duration(self.check_deadline)} from the report.",
                guidance=self.not_crimed.guidance,
                assessment=assessment,
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
        """When a raised finding is resolved: at the first crime recorded after its check time.
        Resolved only once the watermark passes that time, so that of two crimes recorded in
        the same millisecond the same one is named whatever their arrival order."""
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
        reported = case.report_time() or crime.at
        out.findings.append(
            findings.resolved(
                NOT_CRIMED,
                "recorded_late",
                Subject("incident", case.incident_id or case.key),
                self._context(case, crime.at),
                evidence=[crime.event_id],
                explanation=(
                    f"Crime {crime.crime_id} was recorded for incident {case.incident_id} "
                    f"{format_duration(crime.at - reported)} after the report, past the deadline."
                ),
            )
        )

    # -- CLOSE_CATEGORY_DOWNGRADE ------------------------------------------------------------------

    def judge_closure(self, case: IncidentCase, out: Step) -> None:
        case.close_checked = True
        closed_at = case.closed_at
        assert closed_at is not None
        code = self.reference.incident_code(case.closing_code or "")
        if code is None or code.code_class not in DOWNGRADE_CLASSES or case.closing_rationale:
            return
        # Indicative before the closure, from an opening or update (a crime-class closing code is
        # no downgrade); and no crime recorded by then.
        signalled = case.signalled_at is not None and case.signalled_at <= closed_at
        if not signalled or any(c.at <= closed_at for c in case.crimes.values()) or not self.downgrade.enabled:
            return
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
