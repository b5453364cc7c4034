"""Feed noise: bounded disorder and byte-identical duplicates."""

from __future__ import annotations

from datetime import datetime

import orjson
import pytest

from cdi.simulation import MONITOR_ALLOWED_LATENESS_MINUTES, Simulation, SimulationOptions, simulate


def _ms(text: str) -> int:
    return round(datetime.fromisoformat(text).timestamp() * 1000)


def _worst_step_back_ms(sim: Simulation) -> int:
    """Largest (max occurred_at of earlier lines) - occurred_at over the file; must stay < bound."""
    newest, worst = None, 0
    for event in sim.events:
        at = _ms(event["occurred_at"])
        if newest is not None:
            worst = max(worst, newest - at)
        newest = at if newest is None else max(newest, at)
    return worst


@pytest.mark.parametrize(
    "options",
    [
        SimulationOptions(),
        SimulationOptions(days=2, seed=7, disorder_minutes=9.99, disorder_share=1.0, duplicate_rate=0.2),
        SimulationOptions(days=2, seed=8, disorder_minutes=0.5, disorder_share=0.5),
    ],
    ids=["default", "max-noise", "small-disorder"],
)
def test_disorder_stays_strictly_inside_the_bound(options: SimulationOptions) -> None:
    sim = simulate(options)
    worst = _worst_step_back_ms(sim)
    assert worst < options.disorder_minutes * 60_000
    assert worst < MONITOR_ALLOWED_LATENESS_MINUTES * 60_000
    assert worst > 0  # there is disorder to cope with


def test_no_disorder_means_event_time_order() -> None:
    sim = simulate(SimulationOptions(days=1, seed=5, disorder_minutes=0))
    assert _worst_step_back_ms(sim) == 0


def test_duplicates_are_later_byte_copies_at_the_configured_rate(default_sim: Simulation) -> None:
    first_line: dict[str, bytes] = {}
    duplicates = 0
    for event in default_sim.events:
        line = orjson.dumps(event)
        if event["event_id"] in first_line:
            assert line == first_line[event["event_id"]]
            duplicates += 1
        else:
            first_line[event["event_id"]] = line
    assert duplicates == default_sim.counts["duplicates"]
    assert abs(duplicates / len(default_sim.events) - 0.01) < 0.004
    assert len(first_line) == default_sim.counts["distinct_events"]


def test_high_duplicate_rate() -> None:
    sim = simulate(SimulationOptions(days=2, seed=11, duplicate_rate=0.2))
    assert abs(sim.counts["duplicates"] / sim.counts["distinct_events"] - 0.2) < 0.02


def test_disorder_at_or_beyond_the_monitor_lateness_is_refused() -> None:
    with pytest.raises(ValueError, match="disorder_minutes"):
        SimulationOptions(disorder_minutes=MONITOR_ALLOWED_LATENESS_MINUTES)
    with pytest.raises(ValueError):
        SimulationOptions(not_recorded_rate=0.6, late_rate=0.3, explained_rate=0.2)
