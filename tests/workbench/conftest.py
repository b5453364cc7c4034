"""Fixtures of the workbench tests."""

from __future__ import annotations

import pytest

from cdi import backtest
from cdi.history import write_events
from cdi.simulation import SimulationOptions, simulate
from cdi.topics import ensure_topics
from tests.stream.worker_process import isolated_settings
from tests.workbench.serve_process import ServeProcess, all_findings, send_findings, wait_for


@pytest.fixture(scope="module")
def small_view(kafka_bootstrap, tmp_path_factory):
    """A workbench whose findings topic holds a one-day history's findings (written directly: no
    worker is needed to test access)."""
    sim = simulate(SimulationOptions(days=1, seed=5))
    path = tmp_path_factory.mktemp("auth") / "history.jsonl"
    write_events(path, sim.events)
    found = [f for f in backtest.run(path).findings if f.type == "finding.raised"]
    assert found
    settings = isolated_settings(kafka_bootstrap)
    ensure_topics(settings)
    send_findings(settings, found)
    with ServeProcess(settings) as serve:
        with serve.client("viewer") as client:
            wait_for(lambda: len(all_findings(client)) == len(found), "the findings in the view")
        yield serve, [f.payload.finding_id for f in found]
