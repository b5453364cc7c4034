"""`cdi audit sample | verdicts | estimate` as a user runs them, on a simulated week."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from cdi import exit_codes
from cdi.cli import main
from cdi.contracts import Contracts
from cdi.history import read_events, write_events
from cdi.simulation import SimulationOptions, simulate, write_simulation

from .conftest import HIDDEN


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("audit-week")
    history, truth = folder / "history.jsonl.gz", folder / "audit-truth.jsonl"
    write_simulation(simulate(SimulationOptions(days=7, seed=5, **HIDDEN)), history, audit_truth_path=truth)
    return history, truth


def cdi(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_sample_verdicts_estimate(week: tuple[Path, Path], tmp_path: Path) -> None:
    history, truth = week
    sample, again, other = tmp_path / "s.json", tmp_path / "s2.json", tmp_path / "s3.json"
    code, out, err = cdi("audit", "sample", history, "--size", 400, "--seed", 7, "--out", sample)
    assert code == 0, err
    assert "incident" in out and f"written to {sample}" in " ".join(err.split())
    assert cdi("audit", "sample", history, "--size", 400, "--seed", 7, "--out", again)[0] == 0
    assert sample.read_bytes() == again.read_bytes()  # the same seed, the same bytes
    assert cdi("audit", "sample", history, "--size", 400, "--seed", 8, "--out", other)[0] == 0
    assert sample.read_bytes() != other.read_bytes()
    [event] = list(read_events(sample))
    Contracts().check(event)

    verdicts = tmp_path / "v.jsonl"
    code, _, err = cdi("audit", "verdicts", sample, "--from-truth", truth, "--out", verdicts, "--reviewer", "FCR-7")
    assert code == 0, err
    written = list(read_events(verdicts))
    assert len(written) == len(event["payload"]["items"])
    assert {v["payload"]["by"] for v in written} == {"FCR-7"}

    code, out, err = cdi(
        "audit", "estimate", history, "--verdicts", verdicts, "--sample", sample, "--truth", truth, "--json"
    )
    assert code == 0, err
    data = orjson.loads(out)
    for figure in ("recording_accuracy", "blind_spot_rate"):
        assert set(data[figure]) >= {"estimate", "low", "high", "true"}
        assert data[figure]["low"] <= data[figure]["estimate"] <= data[figure]["high"]
    assert set(data["unrecorded_crimes"]) >= {"estimate", "low", "high", "recorded_volume", "true"}
    assert data["rule_precision"] and all("true" in e for e in data["rule_precision"].values())
    assert set(data["by_division"]) == {"EAST", "NORTH", "SOUTH", "WEST"}
    assert data["sample"]["sample_id"] == event["payload"]["sample_id"]
    assert data["sample"]["not_in_population"] == 0

    # Without --sample the strata and their sizes are the history's: the same figures here.
    code, plain, err = cdi("audit", "estimate", history, "--verdicts", verdicts, "--json")
    assert code == 0, err
    assert orjson.loads(plain)["recording_accuracy"] == {
        k: v for k, v in data["recording_accuracy"].items() if k != "true"
    }

    code, out, err = cdi("audit", "estimate", history, "--verdicts", verdicts, "--by", "offence_group", "--by", "month")
    assert code == 0, err
    assert "Recording accuracy" in out and "By offence group" in out and "By month" in out

    flipped = tmp_path / "flipped.jsonl"
    code, _, err = cdi(
        "audit", "verdicts", sample, "--from-truth", truth, "--out", flipped, "--error-rate", 0.5, "--seed", 3
    )
    assert code == 0 and "wrong on purpose" in err
    assert read_events(flipped) != read_events(verdicts)


def test_target_width(week: tuple[Path, Path], tmp_path: Path) -> None:
    history, _ = week
    code, _, err = cdi("audit", "sample", history, "--target-width", 0.05, "--seed", 1, "--out", tmp_path / "s.json")
    assert code == 0, err
    assert "needs" in err and "incidents" in err
    [event] = list(read_events(tmp_path / "s.json"))
    assert event["payload"]["design"]["allocation"] == "target_width"


def test_nothing_to_estimate_exits_3(week: tuple[Path, Path], tmp_path: Path) -> None:
    history, _ = week
    empty = tmp_path / "none.jsonl"
    empty.write_text("")
    code, _, err = cdi("audit", "estimate", history, "--verdicts", empty)
    assert code == exit_codes.NOTHING
    assert "nothing to estimate" in " ".join(err.split())


def test_bad_inputs(week: tuple[Path, Path], tmp_path: Path) -> None:
    history, _ = week
    assert cdi("audit", "sample", history, "--seed", 1, "--out", tmp_path / "s.json")[0] == exit_codes.USAGE
    assert (
        cdi("audit", "sample", history, "--seed", 1, "--size", 5, "--target-width", 0.1, "--out", tmp_path / "s.json")[
            0
        ]
        == exit_codes.USAGE
    )
    broken = tmp_path / "broken.jsonl"
    write_events(broken, [{"type": "audit.verdict", "schema_version": 1, "payload": {}}])
    code, _, err = cdi("audit", "estimate", history, "--verdicts", broken)
    assert code == exit_codes.UNREADABLE_INPUT and "broken.jsonl:1" in err
    code, _, err = cdi("audit", "sample", history, "--seed", 1, "--size", 5, "--out", tmp_path / "nowhere" / "s.json")
    assert code == exit_codes.CANNOT_WRITE
