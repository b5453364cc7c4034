"""Findings as output events, with deterministic ids.

A finding's id is its rule and subject, so the same breach gives the same id on every run,
replay or restart: consumers deduplicate by it and the core never raises it twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdi.core.events import Event, FindingRaised, FindingResolved, Subject
from cdi.core.times import format_time


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
