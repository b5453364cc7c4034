"""`cdi report --verdicts`: the audit section shows what `cdi audit estimate` computes."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from cdi import exit_codes
from cdi.cli import main
from cdi.simulation import SimulationOptions, simulate, write_simulation

from ..audit.conftest import HIDDEN


def cdi(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A simulated week with hidden failure modes, a sample of it and the simulated reviewer's verdicts."""
    folder = tmp_path_factory.mktemp("report-audit")
    history, truth = folder / "history.jsonl.gz", folder / "audit-truth.jsonl"
    sample, verdicts = folder / "sample.json", folder / "verdicts.jsonl"
    write_simulation(simulate(SimulationOptions(days=7, seed=5, **HIDDEN)), history, audit_truth_path=truth)
    code, _, err = cdi("audit", "sample", history, "--size", 300, "--seed", 11, "--out", sample)
    assert code == 0, err
    code, _, err = cdi("audit", "verdicts", sample, "--from-truth", truth, "--out", verdicts)
    assert code == 0, err
    return history, sample, verdicts


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _interval(e: dict) -> str:
    return f"{_pct(e['low'])} to {_pct(e['high'])}"


def _cells(page: str, row_id: str) -> list[str]:
    match = re.search(rf"<tr {row_id}>(.*?)</tr>", page, re.S)
    assert match, row_id
    return [unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", match[1], re.S)]


def test_audit_section_shows_the_estimates_of_cdi_audit_estimate(
    audited: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    history, sample, verdicts = audited
    code, out, err = cdi("audit", "estimate", history, "--verdicts", verdicts, "--sample", sample, "--json")
    assert code == 0, err
    expected = orjson.loads(out)

    page_path = tmp_path / "report.html"
    code, _, err = cdi("report", history, "--out", page_path, "--verdicts", verdicts, "--sample", sample)
    assert code == 0, err
    page = page_path.read_text()
    assert 'id="audit"' in page and "Audit of a reviewed sample" in page

    accuracy = expected["recording_accuracy"]
    assert _cells(page, 'id="audit-recording-accuracy"')[1:3] == [_pct(accuracy["estimate"]), _interval(accuracy)]
    blind = expected["blind_spot_rate"]
    assert _cells(page, 'id="audit-blind-spot"')[1:3] == [_pct(blind["estimate"]), _interval(blind)]
    unrecorded = expected["unrecorded_crimes"]
    assert _cells(page, 'id="audit-unrecorded"')[1] == f"{unrecorded['estimate']:,.0f}"

    assert expected["rule_precision"]
    for rule, e in expected["rule_precision"].items():
        assert _cells(page, f'data-rule="{rule}"') == [rule, _pct(e["estimate"]), _interval(e), str(e["reviewed"])]
    assert expected["by_division"]
    for name, figures in expected["by_division"].items():
        acc = figures["recording_accuracy"]
        assert _cells(page, f'data-division="{name}"')[:3] == [name, _pct(acc["estimate"]), _interval(acc)]
    meta = expected["sample"]
    assert f"{meta['sample_id']}, seed 11" in page and f"{meta['items']:,} items drawn" in page


def test_without_verdicts_no_audit_section(audited: tuple[Path, Path, Path], tmp_path: Path) -> None:
    history, _, _ = audited
    page_path = tmp_path / "plain.html"
    code, _, err = cdi("report", history, "--out", page_path)
    assert code == 0, err
    page = page_path.read_text()
    assert 'id="audit"' not in page and "Audit of a reviewed sample" not in page
    assert "<h2>7. Method and limits</h2>" in page


def test_verdicts_that_hold_nothing_or_are_refused(audited: tuple[Path, Path, Path], tmp_path: Path) -> None:
    history, sample, _ = audited
    empty = tmp_path / "none.jsonl"
    empty.write_text("")
    code, _, err = cdi("report", history, "--out", tmp_path / "r.html", "--verdicts", empty)
    assert code == exit_codes.NOTHING and "nothing to estimate" in " ".join(err.split())
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(orjson.dumps({"type": "audit.verdict", "schema_version": 1, "payload": {}}) + b"\n")
    code, _, err = cdi("report", history, "--out", tmp_path / "r.html", "--verdicts", broken)
    assert code == exit_codes.UNREADABLE_INPUT and "broken.jsonl:1" in err
    assert not (tmp_path / "r.html").exists()
    code, _, _ = cdi("report", history, "--out", tmp_path / "r.html", "--sample", sample)
    assert code == exit_codes.USAGE
