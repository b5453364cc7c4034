"""The history commands as operators run them: every file source recognised from its content."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from cdi import backtest, exit_codes
from cdi.history import read_events, write_events
from cdi.simulation import SimulationOptions, simulate
from cdi.sources import EVENTS, FINDINGS, POLICE_UK, SourceError, open_history
from cdi.sources.selection import Selection

FIXTURES = Path(__file__).parents[1] / "fixtures" / "policeuk"
STREET = FIXTURES / "2022-01-kent-street.csv"
OUTCOMES = FIXTURES / "2022-01-kent-outcomes.csv"


def cdi(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cdi", *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("commands") / "h.jsonl.gz"
    write_events(path, simulate(SimulationOptions(days=2, seed=3)).events)
    return path


def test_a_police_uk_month_is_backtested_and_reported_as_published(tmp_path):
    out = tmp_path / "findings.jsonl"
    done = cdi("backtest", STREET, OUTCOMES, "--out", out)
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stderr.split())
    assert "5 anti-social behaviour (not a crime)" in said  # unmapped rows are reported, not dropped
    raised = Counter(
        (r["payload"]["rule"], r["payload"]["assessment"]) for r in read_events(out) if r["type"] == "finding.raised"
    )
    assert raised == {
        ("CAUTION_INDICTABLE_ONLY", "review"): 1,  # the export names neither the caution's kind nor who decided
        ("CR_INELIGIBLE", "breach"): 1,
        ("CR_INELIGIBLE", "review"): 1,  # violence: the category holds offences a resolution is not for
        ("PND_ELIGIBILITY", "breach"): 1,
    }
    # The summary table counts breaches and findings for review in columns apart.
    rows = {
        cells[0]: cells[1:]
        for line in done.stdout.splitlines()
        if len(cells := [c.strip() for c in line.split("│")[1:-1]]) == 4
    }
    assert rows == {  # breaches, for review, resolved
        "CAUTION_INDICTABLE_ONLY": ["0", "1", "0"],
        "CR_INELIGIBLE": ["1", "1", "0"],
        "PND_ELIGIBILITY": ["1", "0", "0"],
        "all rules": ["2", "2", "0"],
    }
    page = tmp_path / "report.html"
    done = cdi("report", STREET, OUTCOMES, "--out", page)
    assert done.returncode == 0, done.stderr
    assert "2 breaches and 2 findings for review raised" in " ".join(done.stderr.split())
    text = page.read_text()
    assert "CAUTION_INDICTABLE_ONLY" in text and "http://" not in text.replace("http://www.w3.org", "")
    assert '<details id="review-CAUTION_INDICTABLE_ONLY">' in text and 'id="rule-CAUTION_INDICTABLE_ONLY"' not in text


def test_sources_are_recognised_by_content_not_name(history, tmp_path):
    renamed = tmp_path / "street-looking-name.csv"
    renamed.write_bytes(history.read_bytes())
    assert open_history([renamed]).kind == EVENTS
    assert open_history([STREET, OUTCOMES]).kind == POLICE_UK
    findings = tmp_path / "f.jsonl"
    write_events(findings, [f.to_dict() for f in backtest.run(history).findings])
    assert open_history([findings]).kind == FINDINGS
    with pytest.raises(SourceError, match="different kinds"):
        open_history([history, STREET])


def test_a_findings_file_or_a_mix_is_refused_with_what_to_do(history, tmp_path):
    findings = tmp_path / "f.jsonl"
    write_events(findings, [f.to_dict() for f in backtest.run(history).findings])
    done = cdi("backtest", findings)
    assert done.returncode == exit_codes.UNREADABLE_INPUT and "give the history they came from" in done.stderr
    done = cdi("backtest", history, STREET)
    assert done.returncode == exit_codes.UNREADABLE_INPUT and "different kinds" in done.stderr
    junk = tmp_path / "junk.txt"
    junk.write_text("not a history\n")
    done = cdi("backtest", junk)
    assert done.returncode == exit_codes.UNREADABLE_INPUT and "police.uk" in done.stderr


def test_selection_in_the_cli_equals_selection_in_the_core(history, tmp_path):
    out = tmp_path / "north.jsonl"
    done = cdi("backtest", history, "--division", "NORTH", "--from", "2026-03-02T06:00", "--out", out)
    assert done.returncode == 0, done.stderr
    from cdi.core.times import parse_time

    chosen = Selection(start_ms=parse_time("2026-03-02T06:00:00+00:00"), divisions=frozenset({"NORTH"}))
    expected = [f.to_dict() for f in backtest.run(history, selection=chosen).findings]
    assert list(read_events(out)) == expected
    assert expected and {r["division"] for r in expected} == {"NORTH"}


@pytest.mark.parametrize("command", ["backtest", "report", "replay"])
def test_a_truncated_gzip_history_names_the_file_and_what_to_do(tmp_path, command):
    """A download cut short: one line naming the file and how far it read, exit 65; never a bare
    "Aborted!" (click's answer to the EOFError gzip raises) or a traceback."""
    whole = tmp_path / "whole.jsonl.gz"
    write_events(whole, simulate(SimulationOptions(days=2, seed=3)).events)
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    args = {"backtest": [cut], "report": [cut, "--out", tmp_path / "r.html"], "replay": [cut, "--namespace", "x"]}
    # The replay reads (and counts) its history before it reaches the broker: none is needed.
    done = subprocess.run(
        [sys.executable, "-m", "cdi", command, *map(str, args[command])],
        env={**os.environ, "CDI_KAFKA_BOOTSTRAP": "127.0.0.1:1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    said = " ".join(done.stderr.split())
    assert done.returncode == exit_codes.UNREADABLE_INPUT, done.stderr
    assert f"{cut}: the compressed file is damaged or ends early after line" in said
    assert "copy or download it again" in said
    assert "Aborted!" not in said and "Traceback" not in said
