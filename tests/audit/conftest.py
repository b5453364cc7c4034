"""One simulated month with the simulator's hidden failure modes, its audit truth, and its audit
population, built once for the audit tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cdi.audit import population
from cdi.audit.population import Population
from cdi.simulation import SimulationOptions, simulate, write_simulation
from cdi.sources import open_history

# Hidden modes on, so that some unrecorded crimes escape every rule (the blind spot is not 0) and
# some findings are not breaches (precision below 1). Names: cdi.simulation.options.
HIDDEN = {
    "narrative_crime_rate": 0.03,
    "unlinked_record_rate": 0.03,
    "wrong_rationale_rate": 0.03,
    "mistyped_code_rate": 0.02,
    "late_code_rate": 0.2,
}


@dataclass(frozen=True)
class Month:
    history: Path
    audit_truth_path: Path
    audit_truth: list[dict[str, Any]]
    population: Population


@pytest.fixture(scope="session")
def month(tmp_path_factory: pytest.TempPathFactory) -> Month:
    folder = tmp_path_factory.mktemp("audit-month")
    history, truth = folder / "history.jsonl", folder / "audit-truth.jsonl"
    sim = simulate(SimulationOptions(days=30, seed=3, **HIDDEN))
    write_simulation(sim, history, audit_truth_path=truth)
    return Month(history, truth, sim.audit_truth, population.build(open_history([history])))
