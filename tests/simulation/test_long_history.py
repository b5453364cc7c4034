"""Crime retention until the final outcome: on a 90-day history, outcomes assigned more than 35
days after their crime's record (up to about 200 days in the simulator) are still judged, so the
backtest finds exactly the ground truth and `cdi backtest --truth` exits 0.

Before crimes were kept until their final decision, this history lost 16 outcome findings
(outcomes 37-42 days after recording) and the command exited 1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cdi.cli import main
from cdi.core.times import MS_PER_DAY, parse_time
from cdi.history import read_events

pytestmark = pytest.mark.slow  # about 15 s: a 90-day simulation and its backtest


def test_ninety_day_backtest_equals_the_truth(tmp_path: Path) -> None:
    history, truth = tmp_path / "h.jsonl.gz", tmp_path / "t.jsonl"
    runner = CliRunner()
    made = runner.invoke(
        main, ["simulate", "--days", "90", "--seed", "1", "--out", str(history), "--truth", str(truth)]
    )
    assert made.exit_code == 0, made.output
    # The history holds outcomes long after their crime's record: the case the test is about.
    recorded, late_outcomes = {}, 0
    for event in read_events(history):
        if event["type"] == "crime.recorded":
            recorded.setdefault(event["payload"]["crime_id"], parse_time(event["occurred_at"]))
        elif event["type"] == "outcome.assigned":
            crime_at = recorded.get(event["payload"]["crime_id"])
            if crime_at is not None and parse_time(event["occurred_at"]) - crime_at > 35 * MS_PER_DAY:
                late_outcomes += 1
    assert late_outcomes > 100
    result = runner.invoke(main, ["backtest", str(history), "--truth", str(truth)])
    assert result.exit_code == 0, result.output
    assert "missing:" not in result.output and "unexpected:" not in result.output
