"""Simulated cancellations exercise the cancellation authority table, its 2023 edition and the
victim told (rules-review 1.12 points 1 and 4), and the truth stays exact: the plain
recomputation and the backtest both find exactly the simulator's CANCEL_WITHOUT_AVI and
RECLASS_DOWN_NO_REASON findings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cdi import backtest
from cdi.scoring import key_of
from cdi.simulation import Simulation, SimulationOptions, simulate, write_simulation

from .reading import by_type, distinct, ms
from .rulebook import CANCEL, RECLASS, recompute

MINE = (CANCEL, RECLASS)
EDITION_2023 = ms("2023-05-15T00:00:00+00:00")  # the table's start of the 2023 edition [U]


@pytest.fixture(scope="module")
def across_2023() -> Simulation:
    """Three weeks from 1 May 2023: cancellations fall either side of the 2023 edition's start."""
    start = datetime(2023, 5, 1, tzinfo=UTC)
    return simulate(SimulationOptions(days=21, seed=4, start=start, cancel_without_avi_rate=0.4))


def _mine(records: list[dict]) -> list[dict]:
    return [r for r in records if r["rule"] in MINE]


def test_cancellation_authority_supervisors_sign_off_lawfully_from_the_2023_edition(across_2023: Simulation) -> None:
    """rules-review 1.12 point 1 [V for the change, details U]: before 15 May 2023 only the
    registrar or decision maker may cancel, so every supervisor cancellation is a finding; from
    then a supervisor may cancel a lower-gravity crime, and the simulator's honest supervisors do."""
    cancelled = by_type(distinct(across_2023.events), "crime.cancelled")
    raised = {t["subject"]["id"] for t in across_2023.truth if t["rule"] == CANCEL}
    by_supervisor = [e for e in cancelled if e["payload"]["authoriser_role"] == "supervisor"]
    before = [e for e in by_supervisor if ms(e["occurred_at"]) < EDITION_2023]
    after = [e for e in by_supervisor if ms(e["occurred_at"]) >= EDITION_2023]
    assert before and after
    assert {e["payload"]["crime_id"] for e in before} <= raised
    assert {e["payload"]["crime_id"] for e in after} - raised  # lawful sign-offs
    assert {e["payload"]["cancellation_code"] for e in cancelled} == {"C1", "C2", "C3", "C4", "C5"}


def test_victim_not_informed_is_simulated(across_2023: Simulation) -> None:
    """rules-review 1.12 point 4: cancellations say whether the victim was told: yes, no, or not
    known to the source (null)."""
    events = distinct(across_2023.events)
    cancelled = by_type(events, "crime.cancelled")
    assert {e["payload"]["victim_informed"] for e in cancelled} == {True, False, None}
    # Breaches: a victim of violence, a sexual offence or robbery not told (crimes never reclassified).
    moved = {e["payload"]["crime_id"] for e in by_type(events, "crime.reclassified")}
    group = {e["payload"]["crime_id"]: e["payload"]["offence_group"] for e in by_type(events, "crime.recorded")}
    watched = {"sexual_offences", "violence_against_the_person", "robbery"}
    not_told = {
        e["payload"]["crime_id"]
        for e in cancelled
        if e["payload"]["victim_informed"] is False and e["payload"]["crime_id"] not in moved
    }
    raised = {t["subject"]["id"] for t in across_2023.truth if t["rule"] == CANCEL}
    assert {crime for crime in not_told if group[crime] in watched} & raised
    assert {crime for crime in not_told if group[crime] not in watched}  # no duty to tell: judged otherwise


def test_cancellation_truth_equals_the_rules_and_the_backtest(across_2023: Simulation, tmp_path: Path) -> None:
    """The simulator's truth for CANCEL_WITHOUT_AVI and RECLASS_DOWN_NO_REASON equals the plain
    recomputation from the file (edition by each cancellation's date, gravity, victim told, phrase)
    and the monitor's backtest of it, finding for finding."""
    truth = _mine(across_2023.truth)
    assert {t["rule"] for t in truth} == set(MINE)
    assert truth == _mine(recompute(across_2023.events, 24.0))
    history = tmp_path / "history.jsonl"
    write_simulation(across_2023, history)
    found = [
        {"type": f.type, "occurred_at": f.occurred_at, "payload": {"finding_id": f.payload.finding_id}}
        for f in backtest.run(history).findings
        if f.payload.rule in MINE
    ]
    assert sorted(key_of(f) for f in found) == sorted(key_of(t) for t in truth)


def test_cancellation_truth_is_deterministic_by_seed(across_2023: Simulation) -> None:
    again = simulate(
        SimulationOptions(days=21, seed=4, start=datetime(2023, 5, 1, tzinfo=UTC), cancel_without_avi_rate=0.4)
    )
    assert by_type(again.events, "crime.cancelled") == by_type(across_2023.events, "crime.cancelled")
    assert _mine(again.truth) == _mine(across_2023.truth)
