"""Comparing two rules files over one simulated history (cdi.rule_change).

The expectations are derived without the module under test: from a plain backtest under the
packaged rules and from the history's own event times.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from rich.console import Console

from cdi import backtest, rule_change
from cdi.core.events import Event
from cdi.core.times import MS_PER_HOUR, parse_time
from cdi.history import read_events
from cdi.rules import DEFAULT
from cdi.simulation import SimulationOptions, simulate, write_simulation

DISABLED = "ONE_CRIME_PER_VICTIM"
LATE = "CRD_LATE"
# Its base "severity" goes medium -> low: findings of the offence groups mapped to high keep their
# severity; the others drop a step (a sink closure raises the base one step, so high -> medium).
RESEVERED = "CLOSE_CATEGORY_DOWNGRADE"
MAPPED_HIGH = {"sexual_offences", "violence_against_the_person", "robbery"}
VERSION_B = "2026.11.2-proposed"


def _edit(text: str, section: str, old: str, new: str) -> str:
    """Replace ``old`` (exactly once) inside one TOML table, leaving the same text elsewhere alone."""
    header = f"[{section}]\n"
    start = text.index(header) + len(header)
    end = text.find("\n[", start)
    end = len(text) if end < 0 else end
    body = text[start:end]
    assert body.count(old) == 1, f"{old!r} not found exactly once in [{section}]"
    return text[:start] + body.replace(old, new) + text[end:]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rule-change")
    path = folder / "history.jsonl"
    write_simulation(simulate(SimulationOptions(days=3, seed=1)), path, folder / "truth.jsonl")
    return path


@pytest.fixture(scope="module")
def proposed(history: Path) -> Path:
    text = DEFAULT.read_text(encoding="utf-8")
    assert text.count('version = "2026.12.3"') == 1
    text = text.replace('version = "2026.12.3"', f'version = "{VERSION_B}"')
    text = _edit(text, f"rules.{LATE}", "deadline_hours = 24", "deadline_hours = 48")
    text = _edit(text, f"rules.{DISABLED}", "enabled = true", "enabled = false")
    text = _edit(text, f"rules.{RESEVERED}", 'severity = "medium"', 'severity = "low"')
    path = history.parent / "proposed.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def baseline(history: Path) -> list[Event]:
    """Raised findings of a plain backtest under the packaged rules."""
    return [f for f in backtest.run(history).findings if f.type == "finding.raised"]


@pytest.fixture(scope="module")
def change(history: Path, proposed: Path) -> rule_change.RuleChange:
    return rule_change.compare(history, None, proposed)


@pytest.fixture(scope="module")
def event_times(history: Path) -> dict[str, int]:
    """Event time of every history event by id (duplicates in the feed are byte copies); for a crime
    record carrying a Crime Recording Decision time (crd_at), that time: CRD_LATE measures to it."""
    times: dict[str, int] = {}
    for record in read_events(history):
        decided = record["payload"].get("crd_at") if record["type"] == "crime.recorded" else None
        times.setdefault(record["event_id"], parse_time(decided or record["occurred_at"]))
    return times


def _of_rule(findings: list[Event], rule: str) -> list[Event]:
    return [f for f in findings if f.payload.rule == rule]


def _late_delay_hours(finding: Event, times: dict[str, int]) -> float:
    # CRD_LATE evidence is [the event that disclosed the crime, the crime's recording event].
    opened, recorded = finding.payload.evidence
    return (times[recorded] - times[opened]) / MS_PER_HOUR


def test_identical_rules_give_an_empty_diff(history: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.toml"
    copy.write_bytes(DEFAULT.read_bytes())
    for a, b in ((None, DEFAULT), (DEFAULT, copy)):
        same = rule_change.compare(history, a, b)
        assert same.unchanged
        assert (same.added, same.removed, same.changed, same.by_division) == ([], [], [], [])
        assert all(r.a == r.b and r.delta == 0 for r in same.by_rule)
        assert sum(r.a for r in same.by_rule) > 0
        assert same.version_a == same.version_b == "2026.12.3"
        assert rule_change.write_diff(same, tmp_path / "empty.jsonl") == 0
        assert (tmp_path / "empty.jsonl").read_bytes() == b""


def test_versions_are_reported(change: rule_change.RuleChange) -> None:
    assert (change.version_a, change.version_b) == ("2026.12.3", VERSION_B)


def test_disabled_rule_findings_are_all_removed(change: rule_change.RuleChange, baseline: list[Event]) -> None:
    expected = _of_rule(baseline, DISABLED)
    assert expected, "the simulation must give the disabled rule something to remove"
    removed = [v for v in change.removed if v.rule == DISABLED]
    assert sorted(v.finding_id for v in removed) == sorted(f.payload.finding_id for f in expected)
    assert len(removed) == len(expected)
    row = next(r for r in change.by_rule if r.rule == DISABLED)
    assert (row.a, row.b, row.delta, row.removed, row.added, row.changed) == (
        len(expected),
        0,
        -len(expected),
        len(expected),
        0,
        0,
    )
    assert (row.enabled_a, row.enabled_b, row.note) == (True, False, "enabled in A, disabled in B")
    # Per division, the disabled rule loses exactly what it had in each division.
    by_division = {d.division: d for d in change.by_division if d.rule == DISABLED}
    had = Counter(f.division for f in expected)
    assert {div: (d.a, d.b, d.delta) for div, d in by_division.items()} == {div: (n, 0, -n) for div, n in had.items()}


def test_raised_deadline_removes_exactly_the_findings_between_old_and_new(
    change: rule_change.RuleChange, baseline: list[Event], event_times: dict[str, int]
) -> None:
    late = _of_rule(baseline, LATE)
    delays = {f.payload.finding_id: _late_delay_hours(f, event_times) for f in late}
    assert all(d > 24 for d in delays.values())  # the A run raised these past 24 h
    within = {fid for fid, d in delays.items() if d <= 48}  # exactly 48 h counts as in time
    beyond = set(delays) - within
    assert within and beyond, "the simulation must have late crimes on both sides of 48 h"

    assert {v.finding_id for v in change.removed if v.rule == LATE} == within
    assert not [v for v in change.added if v.rule == LATE]
    # Those still raised now quote the new limit in their explanation, and nothing else moved.
    still = {c.finding_id: c for c in change.changed if c.rule == LATE}
    assert set(still) == beyond
    for c in still.values():
        assert c.fields == ("explanation",)
        assert c.a.explanation.endswith("the limit is 24 h from the disclosure.")
        assert c.b.explanation.endswith("the limit is 48 h from the disclosure.")
    row = next(r for r in change.by_rule if r.rule == LATE)
    assert (row.a, row.b, row.delta, row.removed, row.changed) == (
        len(late),
        len(beyond),
        -len(within),
        len(within),
        len(beyond),
    )


def test_severity_change_shows_as_changed_findings_with_the_same_ids(
    change: rule_change.RuleChange, baseline: list[Event]
) -> None:
    findings = _of_rule(baseline, RESEVERED)
    medium = {f.payload.finding_id for f in findings if f.payload.offence_group not in MAPPED_HIGH}
    assert medium and len(medium) < len(findings), "want both mapped-group and base-severity findings"
    changed = [c for c in change.changed if c.rule == RESEVERED]
    assert {c.finding_id for c in changed} == medium
    for c in changed:
        assert c.a.finding_id == c.b.finding_id
        assert c.fields == ("severity",)
        assert (c.a.severity, c.b.severity) in {("medium", "low"), ("high", "medium")}
        assert (c.a.rules_version, c.b.rules_version) == ("2026.12.3", VERSION_B)
    row = next(r for r in change.by_rule if r.rule == RESEVERED)
    assert (row.a, row.b, row.delta, row.changed) == (len(findings), len(findings), 0, len(medium))


def test_nothing_else_differs(
    change: rule_change.RuleChange, baseline: list[Event], event_times: dict[str, int]
) -> None:
    removed = {f.payload.finding_id for f in _of_rule(baseline, DISABLED)} | {
        f.payload.finding_id for f in _of_rule(baseline, LATE) if _late_delay_hours(f, event_times) <= 48
    }
    changed = {
        f.payload.finding_id
        for f in baseline
        if (f.payload.rule == RESEVERED and f.payload.offence_group not in MAPPED_HIGH)
        or (f.payload.rule == LATE and _late_delay_hours(f, event_times) > 48)
    }
    assert change.added == []
    assert {v.finding_id for v in change.removed} == removed
    assert {c.finding_id for c in change.changed} == changed
    touched = {DISABLED, LATE, RESEVERED}
    for row in change.by_rule:
        if row.rule not in touched:
            assert (row.delta, row.added, row.removed, row.changed, row.note) == (0, 0, 0, 0, "")
    # Only rows whose count moved are listed per division, and they add up to the per-rule delta.
    assert all(d.delta != 0 for d in change.by_division)
    for row in change.by_rule:
        assert sum(d.delta for d in change.by_division if d.rule == row.rule) == row.delta


def test_history_is_passed_through_untouched(monkeypatch: pytest.MonkeyPatch, history: Path, proposed: Path) -> None:
    seen: list[Any] = []
    real_run = backtest.run

    def spy(path: Any, rules_path: Any = None, **kwargs: Any) -> backtest.BacktestResult:
        seen.append(path)
        return real_run(path, rules_path, **kwargs)

    monkeypatch.setattr(backtest, "run", spy)
    given = str(history)  # not a Path: compare must not convert it
    rule_change.compare(given, None, proposed)
    assert len(seen) == 2 and all(p is given for p in seen)


def test_render_shows_the_tables_and_what_was_left_out(change: rule_change.RuleChange) -> None:
    console = Console(record=True, width=140)
    rule_change.render(change, console, limit=5)
    text = console.export_text()
    assert "Findings raised: A = packaged rules (2026.12.3)" in text
    assert f"({VERSION_B})" in text
    for rule in (DISABLED, LATE, RESEVERED, "CANCEL_WITHOUT_AVI"):
        assert rule in text
    row = next(r for r in change.by_rule if r.rule == DISABLED)
    per_rule_line = next(line for line in text.splitlines() if DISABLED in line and "disabled in B" in line)
    assert f"{-row.a:+}" in per_rule_line
    assert "Changed counts per rule and division" in text
    assert f"Removed (raised only under A): {len(change.removed)}" in text
    assert f"... and {len(change.removed) - 5} more removed findings not shown." in text
    assert f"... and {len(change.changed) - 5} more changed findings not shown." in text
    assert "medium -> low" in text
    assert "Added" not in text  # nothing added, so no table for it
    assert "bump `version`" not in text  # B carries a new version


def test_render_of_identical_rules(history: Path) -> None:
    console = Console(record=True, width=140)
    rule_change.render(rule_change.compare(history, None, DEFAULT), console)
    text = console.export_text()
    assert "Findings raised" in text
    assert "No difference" in text
    assert "Removed" not in text


def test_render_warns_when_the_version_was_not_bumped(history: Path, tmp_path: Path) -> None:
    same_version = tmp_path / "same-version.toml"
    text = DEFAULT.read_text(encoding="utf-8")
    same_version.write_text(_edit(text, f"rules.{DISABLED}", "enabled = true", "enabled = false"), encoding="utf-8")
    console = Console(record=True, width=140)
    rule_change.render(rule_change.compare(history, None, same_version), console)
    assert "bump `version` in B" in console.export_text()


def test_write_diff_holds_every_difference(change: rule_change.RuleChange, tmp_path: Path) -> None:
    path = tmp_path / "diff.jsonl"
    written = rule_change.write_diff(change, path)
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert written == len(lines) == len(change.added) + len(change.removed) + len(change.changed)
    kinds = Counter(line["change"] for line in lines)
    assert kinds == Counter({"removed": len(change.removed), "changed": len(change.changed)})
    assert [line["finding_id"] for line in lines if line["change"] == "removed"] == [
        v.finding_id for v in change.removed
    ]
    for line in lines:
        assert (line["version_a"], line["version_b"], line["rules_a"]) == ("2026.12.3", VERSION_B, None)
        if line["change"] == "removed":
            assert line["a"]["finding_id"] == line["finding_id"] and "b" not in line
        else:
            assert line["a"]["finding_id"] == line["b"]["finding_id"] == line["finding_id"]
            assert line["fields"] and all(line["a"][f] != line["b"][f] for f in line["fields"])


def test_backtest_reads_cdi_rules_as_the_worker_does(history: Path, proposed: Path, tmp_path: Path) -> None:
    """A worker and a backtest in the same environment judge with the same rules: CDI_RULES is
    the backtest's default too, and --rules still wins over it."""

    def raised(env: dict[str, str], *args: str) -> Counter[str]:
        out = tmp_path / "findings.jsonl"
        done = subprocess.run(
            [sys.executable, "-m", "cdi", "backtest", str(history), "--out", str(out), *args],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return Counter(r["payload"]["rule"] for r in read_events(out) if r["type"] == "finding.raised")

    packaged = raised({"CDI_RULES": ""})
    assert packaged[DISABLED] > 0
    assert raised({"CDI_RULES": str(proposed)})[DISABLED] == 0
    assert raised({"CDI_RULES": str(proposed)}, "--rules", str(DEFAULT))[DISABLED] == packaged[DISABLED]
