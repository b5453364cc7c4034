"""Findings as the report reads them: raised and resolved events paired by finding id, tallied
by rule, severity and division, and grouped by rule for the listing, breaches apart from the
findings for review (docs/rules.md, "Breach or review")."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cdi.core.findings import BREACH, REVIEW
from cdi.core.times import parse_time

RAISED = "finding.raised"
RESOLVED = "finding.resolved"

# Worst first, as an auditor reads them; a severity outside the schema's list sorts last.
SEVERITIES = ("critical", "high", "medium", "low")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


@dataclass(frozen=True, slots=True)
class Resolution:
    resolution: str
    occurred_at: str
    evidence: tuple[str, ...]
    explanation: str


@dataclass(slots=True)
class Finding:
    finding_id: str
    rule: str
    severity: str | None  # None when only the resolution is in the input
    division: str
    force: str
    offence_group: str | None
    occurred_at: str | None
    at: int | None
    subject: str
    evidence: tuple[str, ...]
    explanation: str
    rules_version: str | None
    # From the raise; absent there (rules before 2026.12.1) or with the raise not in the input: a breach.
    assessment: str = BREACH
    resolution: Resolution | None = None


@dataclass(frozen=True, slots=True)
class RuleGroup:
    rule: str
    guidance: tuple[str, ...]  # distinct texts: a rules change may have reworded it mid-period
    findings: tuple[Finding, ...]  # by time raised, then id
    by_severity: dict[str, int]
    resolved: int


@dataclass(slots=True)
class Tally:
    """The findings of one assessment: the breaches, or those for review."""

    raised: int = 0
    resolved: int = 0
    raised_by_rule: Counter[str] = field(default_factory=Counter)
    resolved_by_rule: Counter[str] = field(default_factory=Counter)
    by_rule_severity: dict[str, Counter[str]] = field(default_factory=dict)
    by_division_severity: dict[str, Counter[str]] = field(default_factory=dict)
    by_severity: Counter[str] = field(default_factory=Counter)
    groups: tuple[RuleGroup, ...] = ()

    @property
    def rules(self) -> list[str]:
        return sorted(set(self.raised_by_rule) | set(self.resolved_by_rule))

    @property
    def divisions(self) -> list[str]:
        return sorted(self.by_division_severity)

    @property
    def severities(self) -> list[str]:
        return sorted(self.by_severity, key=lambda s: (severity_rank(s), s))

    @property
    def by_division(self) -> dict[str, int]:
        return {name: sum(counts.values()) for name, counts in sorted(self.by_division_severity.items())}

    def count(self, finding: Finding) -> None:
        if finding.resolution is not None:
            self.resolved += 1
            self.resolved_by_rule[finding.rule] += 1
        if finding.severity is None:  # only the resolution is in the input
            return
        self.raised += 1
        self.raised_by_rule[finding.rule] += 1
        self.by_severity[finding.severity] += 1
        self.by_rule_severity.setdefault(finding.rule, Counter())[finding.severity] += 1
        self.by_division_severity.setdefault(finding.division, Counter())[finding.severity] += 1


@dataclass(slots=True)
class FindingsDigest:
    # Apart, so that no total counts a question as a breach.
    breaches: Tally = field(default_factory=Tally)
    reviews: Tally = field(default_factory=Tally)
    rules_versions: tuple[str, ...] = ()
    first_at: str | None = None
    last_at: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.breaches.raised or self.breaches.resolved or self.reviews.raised or self.reviews.resolved)


def _subject(payload: Mapping[str, Any]) -> str:
    subject = payload.get("subject") or {}
    return f"{subject.get('kind', '?')} {subject.get('id', '?')}"


def digest(records: Iterable[Mapping[str, Any]]) -> FindingsDigest:
    """Pair raised and resolved events by finding id and count them.

    A finding raised twice (a replay written to the same file) is counted once, as the
    consumers of the topic would: the id is the deduplication key.
    """
    found: dict[str, Finding] = {}
    guidance: dict[str, dict[str, None]] = {}
    resolutions: dict[str, tuple[Mapping[str, Any], Resolution]] = {}
    versions: set[str] = set()
    times: list[tuple[int, str]] = []
    for record in records:
        kind = record.get("type")
        payload = record.get("payload") or {}
        if kind not in (RAISED, RESOLVED):
            raise ValueError(
                f"expected finding.raised or finding.resolved events, got {kind!r} "
                f"(event {record.get('event_id')!r}); pass the findings a backtest writes, not a history"
            )
        fid = payload["finding_id"]
        times.append((parse_time(record["occurred_at"]), record["occurred_at"]))
        if payload.get("rules_version"):
            versions.add(payload["rules_version"])
        if kind == RESOLVED:
            if fid not in resolutions:
                resolution = Resolution(
                    payload["resolution"],
                    record["occurred_at"],
                    tuple(payload.get("evidence", ())),
                    payload.get("explanation", ""),
                )
                resolutions[fid] = (record, resolution)
            continue
        if fid in found:
            continue
        found[fid] = Finding(
            finding_id=fid,
            rule=payload["rule"],
            severity=payload["severity"],
            division=record["division"],
            force=record["force"],
            offence_group=payload.get("offence_group"),
            occurred_at=record["occurred_at"],
            at=parse_time(record["occurred_at"]),
            subject=_subject(payload),
            evidence=tuple(payload.get("evidence", ())),
            explanation=payload["explanation"],
            rules_version=payload.get("rules_version"),
            assessment=REVIEW if payload.get("assessment") == REVIEW else BREACH,
        )
        guidance.setdefault(payload["rule"], {})[payload["guidance"]] = None

    for fid, (record, resolution) in resolutions.items():
        if fid not in found:
            # The raise is outside the input (a cut file): list the resolution on its own.
            payload = record["payload"]
            found[fid] = Finding(
                finding_id=fid,
                rule=payload["rule"],
                severity=None,
                division=record["division"],
                force=record["force"],
                offence_group=payload.get("offence_group"),
                occurred_at=None,
                at=None,
                subject=_subject(payload),
                evidence=(),
                explanation="",
                rules_version=payload.get("rules_version"),
            )
        found[fid].resolution = resolution

    out = FindingsDigest()
    by_rule: dict[tuple[str, str], list[Finding]] = {}
    for finding in found.values():
        tally = out.reviews if finding.assessment == REVIEW else out.breaches
        tally.count(finding)
        by_rule.setdefault((finding.assessment, finding.rule), []).append(finding)

    for assessment, tally in ((BREACH, out.breaches), (REVIEW, out.reviews)):
        groups = []
        for rule in sorted(rule for kind, rule in by_rule if kind == assessment):
            listed = sorted(by_rule[(assessment, rule)], key=lambda f: (f.at is None, f.at or 0, f.finding_id))
            groups.append(
                RuleGroup(
                    rule,
                    tuple(guidance.get(rule, {})),
                    tuple(listed),
                    dict(tally.by_rule_severity.get(rule, Counter())),
                    tally.resolved_by_rule[rule],
                )
            )
        tally.groups = tuple(groups)
    out.rules_versions = tuple(sorted(versions))
    if times:
        out.first_at, out.last_at = min(times)[1], max(times)[1]
    return out
