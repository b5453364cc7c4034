"""Shared simulations: built once per session, they are deterministic and read-only."""

from __future__ import annotations

from typing import Any

import pytest

from cdi.simulation import Simulation, SimulationOptions, simulate


@pytest.fixture(scope="session")
def default_sim() -> Simulation:
    """`cdi simulate --days 7 --seed 1`."""
    return simulate(SimulationOptions())


@pytest.fixture(scope="session")
def distinct_events(default_sim: Simulation) -> list[dict[str, Any]]:
    """First copy of every event, in file order."""
    seen: set[str] = set()
    out = []
    for event in default_sim.events:
        if event["event_id"] not in seen:
            seen.add(event["event_id"])
            out.append(event)
    return out


@pytest.fixture(scope="session")
def month_sim() -> Simulation:
    """`cdi simulate --days 30 --seed 1`."""
    return simulate(SimulationOptions(days=30, seed=1))
