"""Recording rules (NCRS/HOCR): crime-indicative incidents must become crime records within 24 hours.

- CRIME_INDICATIVE_INCIDENT_NOT_CRIMED (domain.md rule 2): an incident whose opening, updated or
  closing code indicates a crime has no linked crime record when the watermark passes its check
  time, max(report + deadline, time it became indicative), and was not closed with a written
  rationale to a non-crime code by then. A crime recorded later resolves the finding.
- CRD_LATE (rule 1): a linked crime recorded more than the deadline after the incident report.

Everything is defined on event times, so findings do not depend on arrival order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdi.core import findings
from cdi.core.cases import IncidentCase, LinkedCrime
from cdi.core.events import CrimeRecorded, Event, IncidentClosed, IncidentOpened, IncidentUpdated, Subject
from cdi.core.observations import Observation, RecordingDecision, RecordingDelay
from cdi.core.reference import EXPLAINED_CLOSING_CLASSES, ReferenceData
from cdi.core.rules import CRD_LATE, NOT_CRIMED, RulesConfig
from cdi.core.times import format_duration, format_time

UNKNOWN_GROUP = "miscellaneous"


@dataclass(slots=True)
class Outcome:
    findings: list[Event] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)


class RecordingRules:
    def __init__(self, config: RulesConfig, reference: ReferenceData) -> None:
        self.config = config
        self.reference = reference
        self.not_crimed = config.rule(NOT_CRIMED)
        self.crd_late = config.rule(CRD_LATE)
        self.check_deadline = self.not_crimed.hours("deadline_hours")
        self.late_deadline = self.crd_late.hours("deadline_hours")

    # -- applying events -------------------------------------------------------------------

    def apply(self, case: IncidentCase, event: Event, out: Outcome) -> None:
        payload = event.payload
        if isinstance(payload, CrimeRecorded):
            self._crime_recorded(case, event, payload, out)
            return
        case.incident_id = payload.incident_id
        case.incident_events.append((event.at, event.event_id))
        if isinstance(payload, IncidentOpened):
            case.reported_at, case.opened_event, case.opening_code = event.at, event.event_id, payload.opening_code
            case.division, case.force, case.division_at = event.division, event.force, None
            self._maybe_indicative(case, event.at, payload.opening_code)
            for crime in case.crimes.values():
                self._time_crime(case, crime, out)
            return
        if case.opened_event is None and (case.division_at is None or event.at < case.division_at):
            case.division, case.force, case.division_at = event.division, event.force, event.at
        if isinstance(payload, IncidentUpdated):
            self._maybe_indicative(case, event.at, payload.to_code)
        elif isinstance(payload, IncidentClosed):
            case.closed_at, case.closing_code = event.at, payload.closing_code
            case.closing_rationale = payload.rationale_recorded
            self._maybe_indicative(case, event.at, payload.closing_code)

    def _maybe_indicative(self, case: IncidentCase, at: int, code: str) -> None:
        if not self.reference.is_crime_indicative(code):
            return
        if case.indicative_at is None or (at, code) < (case.indicative_at, case.indicative_code or ""):
            case.indicative_at, case.indicative_code = at, code

    def _crime_recorded(self, case: IncidentCase, event: Event, payload: CrimeRecorded, out: Outcome) -> None:
        crime = LinkedCrime(
            payload.crime_id, event.at, event.event_id, payload.hocr_code, payload.offence_group, event.division
        )
        case.crimes[crime.crime_id] = crime
        if payload.incident_id is None:
            return
        if not case.incident_events:  # crime arrived first; the incident's own division wins later
            case.division, case.force = event.division, event.force
        self._time_crime(case, crime, out)

    # -- CRD_LATE ----------------------------------------------------------------------------

    def _time_crime(self, case: IncidentCase, crime: LinkedCrime, out: Outcome) -> None:
        if crime.timed or case.reported_at is None:
            return
        crime.timed = True
        delay = crime.at - case.reported_at
        out.observations.append(RecordingDelay(crime.division, crime.offence_group, max(delay, 0) / 1000))
        if delay <= self.late_deadline or not self.crd_late.enabled or crime.crime_id in case.late_raised:
            return
        case.late_raised.add(crime.crime_id)
        offence = self.reference.offence_codes.get(crime.hocr_code)
        what = f"{crime.hocr_code}, {offence.offence.lower()}" if offence else crime.hocr_code
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

    # -- CRIME_INDICATIVE_INCIDENT_NOT_CRIMED ----------------------------------------------------

    def check_at(self, case: IncidentCase) -> int | None:
        """When the recording decision falls due, or None if the case needs no decision."""
        reported = case.report_time()
        if case.indicative_at is None or reported is None:
            return None
        return max(reported + self.check_deadline, case.indicative_at)

    def awaiting(self, case: IncidentCase) -> bool:
        """Crime-indicative, not yet recorded or explained, deadline not reached."""
        return (
            case.indicative_at is not None and not case.checked and not case.crimes and not self._explained(case, None)
        )

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

    def check(self, case: IncidentCase, out: Outcome) -> None:
        """The watermark has passed the check time: decide."""
        due = self.check_at(case)
        assert due is not None
        case.checked = True
        group = self.group_of(case)
        if any(c.at <= due for c in case.crimes.values()):
            out.observations.append(RecordingDecision(case.division, group, "recorded"))
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
        if case.closed_at is not None and case.closed_at <= due:
            story.append(
                f"it was closed as {case.closing_code}"
                + ("" if case.closing_rationale else " without a recorded rationale")
            )
        evidence = [ev for at, ev in sorted(case.incident_events) if at <= due]
        out.findings.append(
            findings.raised(
                NOT_CRIMED,
                self.not_crimed.severity_for(group),
                Subject("incident", case.incident_id or case.key),
                findings.FindingContext(case.force, case.division, due, group, self.config.version),
                evidence=evidence,
                explanation="; ".join(story) + f". Deadline: {format_duration(self.check_deadline)} from the report.",
                guidance=self.not_crimed.guidance,
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

    def resolve(self, case: IncidentCase, out: Outcome) -> None:
        crime = self._first_late_crime(case)
        assert crime is not None
        case.not_crimed = "resolved"
        reported = case.report_time() or crime.at
        out.findings.append(
            findings.resolved(
                NOT_CRIMED,
                "recorded_late",
                Subject("incident", case.incident_id or case.key),
                findings.FindingContext(case.force, case.division, crime.at, self.group_of(case), self.config.version),
                evidence=[crime.event_id],
                explanation=(
                    f"Crime {crime.crime_id} was recorded for incident {case.incident_id} "
                    f"{format_duration(crime.at - reported)} after the report, past the deadline."
                ),
            )
        )
