"""``write_report``: one self-contained HTML audit report from findings and, when the run kept
them, the core's observations.

The page is rendered by jinja2 with autoescaping on, so every value from the input (titles,
explanations, ids) is escaped; only the SVG charts go in as they are (matplotlib escapes their labels).
Nothing in the page depends on the clock or on hash order, so the same input gives the same bytes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from cdi.core.observations import Observation
from cdi.report import charts
from cdi.report.compliance import (
    BELOW,
    COMPLIANCE_BENCHMARK,
    WITHIN_24H_BENCHMARK,
    WITHIN_SECONDS,
    Z_95,
    ComplianceRow,
    RecordingCompliance,
    Timeliness,
    recording_compliance,
    timeliness,
)
from cdi.report.findings import FindingsDigest, digest
from cdi.report.outcomes import OutcomeMix, outcome_mix
from cdi.report.summary import ReportSummary

if TYPE_CHECKING:
    from cdi.audit.estimates import AuditEstimates

# What each kind of observation is, in the header's "generated from" line.
OBSERVATION_NAMES = {
    "RecordingDecision": "recording decisions",
    "RecordingDelay": "recording delays",
    "CrimeCounted": "crime records",
    "OutcomeCounted": "outcomes",
    "CancellationCounted": "cancellations",
    "ReclassificationCounted": "reclassifications",
    "UnmatchedDecision": "decisions on unknown crimes",
}


def _percent(value: float, digits: int = 1) -> str:
    return f"{value * 100:.{digits}f}%"


def _number(value: int) -> str:
    return f"{value:,}"


def _whole(value: float) -> str:
    """An estimated number of crimes, to the unit (as `cdi audit estimate` prints it)."""
    return f"{value:,.0f}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cdi.report", "templates"),
        autoescape=True,  # always: the template is HTML whatever its file name says
        undefined=jinja2.StrictUndefined,  # a misspelt name fails the render, not the audit
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["pct"] = _percent
    env.filters["num"] = _number
    env.filters["whole"] = _whole
    return env


def _inline(svg: str) -> Markup:
    """Mark a chart safe to insert unescaped: matplotlib's SVG writer already escapes every label,
    and labels are the only input text in a chart (division, offence group and rule names)."""
    return Markup(svg)


def _compliance_charts(compliance: RecordingCompliance) -> dict[str, Markup]:
    out = {}
    label = f"{COMPLIANCE_BENCHMARK:.0%} benchmark"
    for name, title, rows in (
        ("compliance-division", "Recording compliance by division, 95% Wilson intervals", compliance.by_division),
        (
            "compliance-group",
            "Recording compliance by offence group, 95% Wilson intervals",
            compliance.by_offence_group,
        ),
    ):
        if rows:
            chart = charts.interval_chart(
                name, title, [(r.name, r.rate, r.standing) for r in rows], COMPLIANCE_BENCHMARK, label
            )
            out[name] = _inline(chart)
    return out


def _timeliness_chart(timely: Timeliness) -> dict[str, Markup]:
    if not timely.by_division:
        return {}
    chart = charts.interval_chart(
        "within-24h",
        "Crimes recorded within 24 hours of the report, 95% Wilson intervals",
        [(r.name, r.rate, r.standing) for r in timely.by_division],
        WITHIN_24H_BENCHMARK,
        f"{WITHIN_24H_BENCHMARK:.0%} target",
    )
    return {"within-24h": _inline(chart)}


def _outcome_chart(mix: OutcomeMix) -> dict[str, Markup]:
    if not mix.by_division:
        return {}
    chart = charts.outcome_chart("outcomes-division", "Outcome mix by division", mix.by_division, mix.types)
    return {"outcomes-division": _inline(chart)}


def _findings_charts(found: FindingsDigest) -> dict[str, Markup]:
    """Breaches only: the findings for review are tabled apart, never drawn into the same bars."""
    breaches = found.breaches
    if not breaches.raised:
        return {}
    by_rule = [(rule, breaches.by_rule_severity[rule]) for rule in breaches.rules if rule in breaches.by_rule_severity]
    by_division = [(name, breaches.by_division_severity[name]) for name in breaches.divisions]
    return {
        "findings-rule": _inline(charts.severity_chart("findings-rule", "Breaches raised by rule", by_rule)),
        "findings-division": _inline(
            charts.severity_chart("findings-division", "Breaches raised by division", by_division)
        ),
    }


def _below(compliance: RecordingCompliance | None, timely: Timeliness | None) -> tuple[str, ...]:
    out: list[str] = []
    if compliance is not None:
        out += [f"division:{r.name}" for r in compliance.by_division if r.standing == BELOW]
        out += [f"offence_group:{r.name}" for r in compliance.by_offence_group if r.standing == BELOW]
    if timely is not None:
        out += [f"within_24h:{r.name}" for r in timely.by_division if r.standing == BELOW]
    return tuple(out)


def _decisions(rows: Sequence[ComplianceRow]) -> dict[str, dict[str, int]]:
    return {r.name: {"recorded": r.recorded, "explained": r.explained, "not_recorded": r.not_recorded} for r in rows}


def write_report(
    out: Path,
    findings: Sequence[dict[str, Any]],
    observations: Sequence[Observation] | None,
    *,
    title: str,
    sources: Sequence[str],
    rules_version: str | None = None,
    audit: AuditEstimates | None = None,
) -> ReportSummary:
    """Write the audit report to ``out`` (one HTML file, nothing external) and summarise it.

    ``findings``: finding.raised / finding.resolved records as a backtest writes them.
    ``observations``: the core's observations from the same offline run (``backtest.run(...,
    keep_observations=True)``), or None when only a findings file is at hand; the rates then
    cannot be computed and the report says so.
    ``audit``: the audit's estimates from reviewed verdicts (``cdi.audit.estimates.estimate``,
    with its ``sample`` filled in as `cdi audit estimate` fills it), for the section "Audit of a
    reviewed sample"; None leaves the section out.
    """
    found = digest(findings)
    compliance = timely = mix = None
    observation_counts: list[tuple[str, int]] = []
    figures: dict[str, Markup] = {}
    if observations is not None:
        observations = list(observations)  # read several times below; the caller may pass a generator
        compliance = recording_compliance(observations)
        timely = timeliness(observations)
        mix = outcome_mix(observations)
        kinds = Counter(type(o).__name__ for o in observations)
        observation_counts = [(OBSERVATION_NAMES.get(k, k), n) for k, n in sorted(kinds.items())]
        figures |= _compliance_charts(compliance) | _timeliness_chart(timely) | _outcome_chart(mix)
    figures |= _findings_charts(found)

    if rules_version is None:
        rules_version = ", ".join(found.rules_versions) or None
    html = (
        _environment()
        .get_template("report.html.j2")
        .render(
            title=title,
            sources=list(sources),
            rules_version=rules_version,
            findings=found,
            observations=None if observations is None else len(observations),
            observation_counts=observation_counts,
            compliance=compliance,
            timeliness=timely,
            mix=mix,
            charts=figures,
            compliance_benchmark=COMPLIANCE_BENCHMARK,
            within_benchmark=WITHIN_24H_BENCHMARK,
            within_hours=round(WITHIN_SECONDS / 3600),
            z=Z_95,
            below=BELOW,
            audit=audit,
            audit_precision=sorted(audit.rule_precision.items()) if audit is not None else [],
            audit_divisions=list(audit.breakdowns.get("division", {}).items()) if audit is not None else [],
        )
    )
    data = html.encode("utf-8")
    Path(out).write_bytes(data)

    breaches, reviews = found.breaches, found.reviews
    return ReportSummary(
        path=Path(out),
        bytes=len(data),
        findings_raised=breaches.raised,
        findings_resolved=breaches.resolved,
        findings_by_rule=dict(sorted(breaches.raised_by_rule.items())),
        resolved_by_rule=dict(sorted(breaches.resolved_by_rule.items())),
        findings_by_severity=dict(sorted(breaches.by_severity.items())),
        findings_by_division=breaches.by_division,
        reviews_raised=reviews.raised,
        reviews_resolved=reviews.resolved,
        reviews_by_rule=dict(sorted(reviews.raised_by_rule.items())),
        reviews_resolved_by_rule=dict(sorted(reviews.resolved_by_rule.items())),
        reviews_by_severity=dict(sorted(reviews.by_severity.items())),
        reviews_by_division=reviews.by_division,
        observations=None if observations is None else len(observations),
        compliance_overall=compliance.overall.rate if compliance and compliance.overall else None,
        compliance_by_division={r.name: r.rate for r in compliance.by_division} if compliance else {},
        compliance_by_offence_group={r.name: r.rate for r in compliance.by_offence_group} if compliance else {},
        decisions_by_division=_decisions(compliance.by_division) if compliance else {},
        within_24h_overall=timely.overall.rate if timely and timely.overall else None,
        within_24h_by_division={r.name: r.rate for r in timely.by_division} if timely else {},
        outcomes_by_division={r.name: r.counts for r in mix.by_division} if mix else {},
        outcomes_by_offence_group={r.name: r.counts for r in mix.by_offence_group} if mix else {},
        below_benchmark=_below(compliance, timely),
    )
