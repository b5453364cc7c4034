"""What a rule change adds and removes: the same history backtested under two rules files.

``cdi backtest HISTORY --rules A.toml --compare-rules B.toml`` runs the offline backtest once
per file and lines up the raised findings by id. Ids are ``RULE/kind/subject`` and do not depend
on thresholds or severities, so a finding raised under both files is the same breach, and one
raised under only one file is what the change adds or removes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from cdi import backtest
from cdi import rules as rules_files
from cdi.core.events import Event, FindingRaised, FindingResolved
from cdi.history import write_events
from cdi.sources.selection import Selection

# Whatever ``cdi.backtest.run`` takes as its history (a path today, perhaps several paths later):
# it is handed over untouched, so this module does not pin its type.
History = Any

# The parts of a finding that a rules file can change and an operator cares about. The rules
# version is left out on purpose: bumping it changes every finding, yet is not a change in what
# was found (it is still written to the diff for the audit trail).
COMPARED_FIELDS: tuple[str, ...] = (
    "division",
    "occurred_at",
    "severity",
    "offence_group",
    "evidence",
    "explanation",
    "guidance",
    "resolution",
)


@dataclass(frozen=True, slots=True)
class FindingView:
    """One raised finding as one rules file left it, with how (if at all) it was resolved."""

    finding_id: str
    rule: str
    division: str
    occurred_at: str
    severity: str
    offence_group: str | None
    evidence: tuple[str, ...]
    explanation: str
    guidance: str
    rules_version: str
    resolution: str | None = None
    at: int = field(default=0, compare=False)  # occurred_at in epoch ms, for ordering

    @classmethod
    def of(cls, event: Event, resolution: str | None) -> FindingView:
        p: FindingRaised = event.payload
        return cls(
            finding_id=p.finding_id,
            rule=p.rule,
            division=event.division,
            occurred_at=event.occurred_at,
            severity=p.severity,
            offence_group=p.offence_group,
            evidence=p.evidence,
            explanation=p.explanation,
            guidance=p.guidance,
            rules_version=p.rules_version,
            resolution=resolution,
            at=event.at,
        )

    @property
    def headline(self) -> str:
        """First line of the explanation, for tables."""
        lines = self.explanation.splitlines()
        return lines[0] if lines else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "finding_id": self.finding_id,
            "rule": self.rule,
            "division": self.division,
            "occurred_at": self.occurred_at,
            "severity": self.severity,
            "offence_group": self.offence_group,
            "evidence": list(self.evidence),
            "explanation": self.explanation,
            "guidance": self.guidance,
            "rules_version": self.rules_version,
            "resolution": self.resolution,
        }


@dataclass(frozen=True, slots=True)
class ChangedFinding:
    """A finding both files raise, but not identically."""

    a: FindingView
    b: FindingView
    fields: tuple[str, ...]  # names from COMPARED_FIELDS whose values differ

    @property
    def finding_id(self) -> str:
        return self.a.finding_id

    @property
    def rule(self) -> str:
        return self.a.rule


@dataclass(frozen=True, slots=True)
class RuleCount:
    """Raised findings of one rule under A and B, and how the difference is made up."""

    rule: str
    a: int
    b: int
    added: int = 0
    removed: int = 0
    changed: int = 0
    enabled_a: bool | None = None  # None: the rule is not in that file
    enabled_b: bool | None = None

    @property
    def delta(self) -> int:
        return self.b - self.a

    @property
    def note(self) -> str:
        if self.enabled_a == self.enabled_b:
            return "disabled in both" if self.enabled_a is False else ""
        return f"{_state(self.enabled_a)} in A, {_state(self.enabled_b)} in B"


@dataclass(frozen=True, slots=True)
class DivisionCount:
    rule: str
    division: str
    a: int
    b: int

    @property
    def delta(self) -> int:
        return self.b - self.a


@dataclass(slots=True)
class RuleChange:
    """The comparison of two backtests of the same history; B is the proposed rules file."""

    rules_a: Path | None  # None: the packaged rules
    rules_b: Path
    version_a: str
    version_b: str
    by_rule: list[RuleCount]
    by_division: list[DivisionCount]  # only (rule, division) pairs whose count changed
    added: list[FindingView]  # raised only under B
    removed: list[FindingView]  # raised only under A
    changed: list[ChangedFinding]
    result_a: backtest.BacktestResult = field(repr=False)
    result_b: backtest.BacktestResult = field(repr=False)

    @property
    def unchanged(self) -> bool:
        """True when B raises exactly the findings A raises, with the same content."""
        return not (self.added or self.removed or self.changed)


def compare(
    history: History,
    rules_a: Path | None,
    rules_b: Path,
    progress: Callable[[str, int], None] | None = None,
    selection: Selection | None = None,
) -> RuleChange:
    """Backtest ``history`` under ``rules_a`` (None: the packaged rules) and ``rules_b``, and
    compare the raised findings. ``progress`` gets ("A" or "B", line number) as the runs go.
    Raises ``cdi.rules.RulesFileError`` for a missing or invalid rules file, before any run."""
    # Load both first so a broken B fails at once rather than after A's full backtest.
    config_a = rules_files.load(rules_a)
    config_b = rules_files.load(rules_b)
    result_a = backtest.run(history, rules_a, progress=_labelled(progress, "A"), selection=selection)
    result_b = backtest.run(history, rules_b, progress=_labelled(progress, "B"), selection=selection)
    views_a = _views(result_a.findings)
    views_b = _views(result_b.findings)

    added = sorted((views_b[fid] for fid in views_b.keys() - views_a.keys()), key=_order)
    removed = sorted((views_a[fid] for fid in views_a.keys() - views_b.keys()), key=_order)
    changed = []
    for fid in views_a.keys() & views_b.keys():
        a, b = views_a[fid], views_b[fid]
        differing = tuple(name for name in COMPARED_FIELDS if getattr(a, name) != getattr(b, name))
        if differing:
            changed.append(ChangedFinding(a, b, differing))
    changed.sort(key=lambda c: _order(c.a))

    count_a = Counter(v.rule for v in views_a.values())
    count_b = Counter(v.rule for v in views_b.values())
    added_by = Counter(v.rule for v in added)
    removed_by = Counter(v.rule for v in removed)
    changed_by = Counter(c.rule for c in changed)
    # Every rule either file configures gets a row, even with no findings, so that a rule that
    # raised nothing under either file is visibly so rather than silently missing.
    names = sorted(set(config_a.rules) | set(config_b.rules) | set(count_a) | set(count_b))
    by_rule = [
        RuleCount(
            rule=name,
            a=count_a[name],
            b=count_b[name],
            added=added_by[name],
            removed=removed_by[name],
            changed=changed_by[name],
            enabled_a=config_a.rules[name].enabled if name in config_a.rules else None,
            enabled_b=config_b.rules[name].enabled if name in config_b.rules else None,
        )
        for name in names
    ]

    div_a = Counter((v.rule, v.division) for v in views_a.values())
    div_b = Counter((v.rule, v.division) for v in views_b.values())
    by_division = [
        DivisionCount(rule, division, div_a[(rule, division)], div_b[(rule, division)])
        for rule, division in sorted(div_a.keys() | div_b.keys())
        if div_a[(rule, division)] != div_b[(rule, division)]
    ]

    return RuleChange(
        rules_a=rules_a,
        rules_b=rules_b,
        version_a=config_a.version,
        version_b=config_b.version,
        by_rule=by_rule,
        by_division=by_division,
        added=added,
        removed=removed,
        changed=changed,
        result_a=result_a,
        result_b=result_b,
    )


def render(change: RuleChange, console: Console, limit: int = 20) -> None:
    """Print the comparison: counts per rule, per rule and division, then the first ``limit``
    added, removed and changed findings."""
    limit = max(limit, 0)
    name_a = str(change.rules_a) if change.rules_a else "packaged rules"
    per_rule = Table(
        title=f"Findings raised: A = {name_a} ({change.version_a}), B = {change.rules_b} ({change.version_b})"
    )
    per_rule.add_column("rule")
    for column in ("A", "B", "delta", "added", "removed", "changed"):
        per_rule.add_column(column, justify="right")
    per_rule.add_column("note")
    for row in change.by_rule:
        per_rule.add_row(
            row.rule,
            f"{row.a:,}",
            f"{row.b:,}",
            _signed(row.delta),
            f"{row.added:,}",
            f"{row.removed:,}",
            f"{row.changed:,}",
            row.note,
        )
    total_a = sum(r.a for r in change.by_rule)
    total_b = sum(r.b for r in change.by_rule)
    per_rule.add_section()
    per_rule.add_row(
        "total",
        f"{total_a:,}",
        f"{total_b:,}",
        _signed(total_b - total_a),
        f"{len(change.added):,}",
        f"{len(change.removed):,}",
        f"{len(change.changed):,}",
        "",
    )
    console.print(per_rule)

    if change.unchanged:
        console.print("No difference: B raises exactly the findings A raises, with the same content.")
        return
    if change.version_a == change.version_b:
        # Findings carry the version, so two different rule sets under one version would make
        # findings from before and after the change indistinguishable downstream.
        console.print(
            f"[yellow]warning:[/] both files carry version {change.version_a!r} but raise different "
            "findings; bump `version` in B before it goes live."
        )

    if change.by_division:
        per_division = Table(title="Changed counts per rule and division")
        per_division.add_column("rule")
        per_division.add_column("division")
        for column in ("A", "B", "delta"):
            per_division.add_column(column, justify="right")
        for d in change.by_division:
            per_division.add_row(d.rule, d.division, f"{d.a:,}", f"{d.b:,}", _signed(d.delta))
        console.print(per_division)

    _listing(console, "Added (raised only under B)", change.added, limit)
    _listing(console, "Removed (raised only under A)", change.removed, limit)
    if change.changed:
        table = Table(title=f"Changed (raised under both, differently): {len(change.changed):,}")
        for column in ("finding", "division", "severity", "what changed", "explanation (B)"):
            table.add_column(column, overflow="fold")
        for c in change.changed[:limit]:
            severity = c.a.severity if c.a.severity == c.b.severity else f"{c.a.severity} -> {c.b.severity}"
            division = c.a.division if c.a.division == c.b.division else f"{c.a.division} -> {c.b.division}"
            table.add_row(c.finding_id, division, severity, ", ".join(c.fields), c.b.headline)
        console.print(table)
        _left_out(console, len(change.changed), limit, "changed")


def write_diff(change: RuleChange, path: str | Path) -> int:
    """Write every added, removed and changed finding as one JSON line each (gzip when the path
    ends in .gz), for the audit trail of a rule change. Returns the number of lines."""
    meta = {
        "rules_a": str(change.rules_a) if change.rules_a else None,
        "rules_b": str(change.rules_b),
        "version_a": change.version_a,
        "version_b": change.version_b,
    }
    return write_events(path, _diff_records(change, meta))


def _diff_records(change: RuleChange, meta: dict[str, Any]) -> Iterable[dict[str, Any]]:
    # Each line stands alone (it names both rules files) so lines can be filtered or merged
    # with other audits without a header to carry along.
    for view in change.added:
        yield {"change": "added", "finding_id": view.finding_id, "rule": view.rule, **meta, "b": view.to_dict()}
    for view in change.removed:
        yield {"change": "removed", "finding_id": view.finding_id, "rule": view.rule, **meta, "a": view.to_dict()}
    for c in change.changed:
        yield {
            "change": "changed",
            "finding_id": c.finding_id,
            "rule": c.rule,
            **meta,
            "fields": list(c.fields),
            "a": c.a.to_dict(),
            "b": c.b.to_dict(),
        }


def _views(findings: list[Event]) -> dict[str, FindingView]:
    """Raised findings by id, each with its resolution (if the run resolved it)."""
    resolutions: dict[str, str] = {}
    for event in findings:
        if event.type == FindingResolved.TYPE:
            resolutions.setdefault(event.payload.finding_id, event.payload.resolution)
    views: dict[str, FindingView] = {}
    for event in findings:
        # The core raises an id at most once per run; should a history ever hold it twice,
        # the first raising is the one compared.
        if event.type == FindingRaised.TYPE and event.payload.finding_id not in views:
            views[event.payload.finding_id] = FindingView.of(event, resolutions.get(event.payload.finding_id))
    return views


def _order(view: FindingView) -> tuple[str, int, str]:
    return (view.rule, view.at, view.finding_id)


def _labelled(progress: Callable[[str, int], None] | None, label: str) -> Callable[[int], None] | None:
    if progress is None:
        return None
    return lambda line: progress(label, line)


def _state(enabled: bool | None) -> str:
    return "absent" if enabled is None else ("enabled" if enabled else "disabled")


def _signed(n: int) -> str:
    return f"{n:+,}" if n else "0"


def _listing(console: Console, title: str, views: list[FindingView], limit: int) -> None:
    if not views:
        return
    table = Table(title=f"{title}: {len(views):,}")
    for column in ("finding", "division", "severity", "explanation"):
        table.add_column(column, overflow="fold")
    for view in views[:limit]:
        table.add_row(view.finding_id, view.division, view.severity, view.headline)
    console.print(table)
    _left_out(console, len(views), limit, title.split(" ", 1)[0].lower())


def _left_out(console: Console, total: int, limit: int, what: str) -> None:
    if total > limit:
        console.print(f"... and {total - limit:,} more {what} findings not shown.")
