"""Findings as output events, with deterministic ids.

A finding's id is its rule and subject, so the same breach gives the same id on every run,
replay or restart: consumers deduplicate by it and the core never raises it twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdi.core.events import Event, FindingRaised, FindingResolved, Subject
from cdi.core.times import format_time

SEVERITIES = ("low", "medium", "high", "critical")
# A finding's assessment: the records show a breach, or they cannot settle the question and a
# person must review it. Review findings are counted apart and never page (docs/rules.md).
BREACH, REVIEW = "breach", "review"
ASSESSMENTS = (BREACH, REVIEW)


def one_step_lower(severity: str) -> str:
    """The severity of a finding the source cannot confirm: the breach is likely, not shown, so it
    ranks one step below a proven one (never below low)."""
    return SEVERITIES[max(SEVERITIES.index(severity) - 1, 0)]


def one_step_higher(severity: str, cap: str = "critical") -> str:
    """A severity raised one step, never above ``cap``."""
    return SEVERITIES[min(SEVERITIES.index(severity) + 1, SEVERITIES.index(cap))]


def not_recorded(names: list[str]) -> str:
    """'the source does not record X or Y': the wording every rule uses for facts it lacks."""
    return f"the source does not record {' or '.join(names)}"


def sentence(text: str) -> str:
    """``text`` as a sentence of its own: first letter up (unlike str.capitalize, the rest, such as
    "DPP" or "Home Office", is kept), full stop at the end."""
    return f"{text[:1].upper()}{text[1:]}."


def finding_id(rule: str, subject: Subject) -> str:
    return f"{rule}/{subject.kind}/{subject.id}"


@dataclass(frozen=True, slots=True)
class FindingContext:
    force: str
    division: str
    at: int
    offence_group: str | None
    rules_version: str


def raised(
    rule: str,
    severity: str,
    subject: Subject,
    ctx: FindingContext,
    evidence: list[str],
    explanation: str,
    guidance: str,
    assessment: str = BREACH,
) -> Event:
    fid = finding_id(rule, subject)
    return Event(
        event_id=fid,
        type=FindingRaised.TYPE,
        schema_version=1,
        occurred_at=format_time(ctx.at),
        force=ctx.force,
        division=ctx.division,
        at=ctx.at,
        payload=FindingRaised(
            finding_id=fid,
            rule=rule,
            severity=severity,
            subject=subject,
            offence_group=ctx.offence_group,
            evidence=tuple(dict.fromkeys(evidence)),
            explanation=explanation,
            guidance=guidance,
            rules_version=ctx.rules_version,
            assessment=assessment,
        ),
    )


def resolved(
    rule: str, resolution: str, subject: Subject, ctx: FindingContext, evidence: list[str], explanation: str
) -> Event:
    fid = finding_id(rule, subject)
    return Event(
        event_id=f"{fid}#resolved",
        type=FindingResolved.TYPE,
        schema_version=1,
        occurred_at=format_time(ctx.at),
        force=ctx.force,
        division=ctx.division,
        at=ctx.at,
        payload=FindingResolved(
            finding_id=fid,
            rule=rule,
            resolution=resolution,
            subject=subject,
            offence_group=ctx.offence_group,
            evidence=tuple(dict.fromkeys(evidence)),
            explanation=explanation,
            rules_version=ctx.rules_version,
        ),
    )
