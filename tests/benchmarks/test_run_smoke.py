"""`python benchmarks/run.py` at a smoke size: every measure runs, on the suite's broker, and every
figure issue 14 asks for comes out positive. At one simulated day the figures themselves mean
nothing (start-up dominates); they are measured at 30 days on a quiet machine (README "Benchmarks")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks.run import KEYS

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
FIGURES = KEYS  # every figure the issue names


@pytest.mark.timeout(1500)
def test_run_writes_every_figure_at_one_day(kafka_bootstrap, tmp_path):
    out, table = tmp_path / "out.json", tmp_path / "table.md"
    done = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--days", "1", "--json", str(out), "--markdown", str(table)],
        cwd=ROOT,
        env={**os.environ, "CDI_KAFKA_BOOTSTRAP": kafka_bootstrap},  # the suite's broker, not a second one
        capture_output=True,
        text=True,
        timeout=1200,  # took 60 s on 2 cores with another test suite running: generous on purpose
        check=False,
    )
    said = f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}"
    assert done.returncode == 0, said
    result = json.loads(out.read_text())
    for key in FIGURES:
        assert isinstance(result.get(key), int | float) and result[key] > 0, f"{key}: {result.get(key)!r}\n{said}"
    assert result["days"] == 1
    assert result["events"] > 0 and result["input_records"] >= result["events"]
    machine = result["machine"]
    assert machine["cpus"] > 0 and machine["cpu_model"] and machine["python"] and machine["broker"]
    assert result["kafka_messages_by_topic"]["case-events"] > 0  # the route wrote to the stage topics
    rows = table.read_text()
    for measure in ("offline", "one worker", "two workers", "Faust floor", "ceiling"):
        assert f"| {measure} |" in rows
    assert rows in done.stdout
