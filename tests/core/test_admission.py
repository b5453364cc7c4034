"""Event-time admission: a few bad event times cannot drag a clock forward or reopen old cases."""

from __future__ import annotations

import copy

from cdi.core.admission import FUTURE, TOO_OLD, Admission, AdmissionBounds
from cdi.core.clock import NEVER
from cdi.core.times import MS_PER_DAY, MS_PER_MINUTE, parse_time
from tests.core.scenario import BASE, CONFIG, Scenario, ids, run

BOUNDS = CONFIG.admission
YEAR_9999 = parse_time("9999-12-31T00:00:00+00:00")


def test_the_default_bounds_are_the_documented_ones():
    assert (
        AdmissionBounds(
            max_ahead_of_wall_ms=15 * MS_PER_MINUTE,
            max_ahead_of_origin_ms=45 * MS_PER_DAY,
            max_age_ms=35 * MS_PER_DAY,
            earliest_ms=parse_time("1990-01-01T00:00:00Z"),
            latest_ms=parse_time("2100-01-01T00:00:00Z"),
        )
        == BOUNDS
    )


def test_an_event_far_ahead_of_its_origin_is_future_and_changes_nothing():
    admission = Admission(BOUNDS)
    assert admission.judge("a", BASE) is None
    assert admission.judge("a", BASE + 45 * MS_PER_DAY + 1) == FUTURE
    assert admission.latest == {"a": BASE} and admission.furthest == BASE
    assert admission.judge("a", BASE + 45 * MS_PER_DAY) is None  # exactly at the bound is admitted


def test_a_new_origin_is_measured_against_the_furthest_origin():
    admission = Admission(BOUNDS)
    assert admission.judge("a", BASE) is None
    assert admission.judge("b", BASE + 60 * MS_PER_DAY) == FUTURE
    assert admission.judge("b", BASE - 3 * MS_PER_DAY) is None  # behind is fine: its own input may lag
    assert admission.judge("c", BASE + MS_PER_DAY) is None


def test_an_event_older_than_its_origin_by_more_than_the_retention_is_too_old():
    admission = Admission(BOUNDS)
    admission.judge("a", BASE)
    assert admission.judge("a", BASE - 35 * MS_PER_DAY - 1) == TOO_OLD
    assert admission.judge("a", BASE - 35 * MS_PER_DAY) is None


def test_the_calendar_window_holds_in_every_mode_even_for_the_first_event():
    assert Admission(BOUNDS).judge("a", YEAR_9999) == FUTURE
    assert Admission(BOUNDS).judge("a", parse_time("2100-01-01T00:00:00Z")) == FUTURE
    assert Admission(BOUNDS).judge("a", parse_time("1989-12-31T23:59:59Z")) == TOO_OLD


def test_live_mode_bounds_the_event_by_the_wall_clock():
    wall = BASE
    admission = Admission(BOUNDS)
    assert admission.judge("a", wall + 16 * MS_PER_MINUTE, wall) == FUTURE
    assert admission.judge("a", wall + 15 * MS_PER_MINUTE, wall) is None
    assert admission.judge("b", wall - 36 * MS_PER_DAY, wall) == TOO_OLD


def test_a_restored_clock_beyond_the_bounds_is_implausible():
    wall = BASE
    assert not BOUNDS.implausible_clock(NEVER, wall, live=True)
    assert BOUNDS.implausible_clock(YEAR_9999, wall, live=False)
    assert BOUNDS.implausible_clock(wall + 16 * MS_PER_MINUTE, wall, live=True)
    assert not BOUNDS.implausible_clock(wall + 16 * MS_PER_MINUTE, wall, live=False)
    assert BOUNDS.implausible_clock(wall + 46 * MS_PER_DAY, wall, live=False)


def _history() -> Scenario:
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")  # never recorded: a finding at 24 h
    s.opened("I2", 1, "BURGLARY_DWELLING")
    s.crime("C2", "I2", 30, hocr="28E", group="burglary")  # late: CRD_LATE, and resolves I2's finding
    s.opened("I3", 40, "THEFT")
    s.crime("C3", "I3", 41, hocr="49", group="theft")
    s.opened("I4", 60, "ASSAULT")  # open when the history ends
    return s


def test_poisoned_events_are_dead_lettered_and_the_findings_are_the_clean_historys():
    clean = _history().records
    poisoned = copy.deepcopy(clean)
    spike = {**clean[0], "event_id": "poison-1", "occurred_at": "9999-12-31T00:00:00+00:00"}
    spike["payload"] = {"incident_id": "I9", "opening_code": "ASSAULT"}
    ancient = {**spike, "event_id": "poison-2", "occurred_at": "2019-01-01T00:00:00+00:00"}
    jump = {**spike, "event_id": "poison-3", "occurred_at": "2026-06-01T00:00:00+00:00"}
    poisoned[2:2] = [spike, ancient, jump]
    found_clean, _, _ = run(clean)
    found, steps, state = run(poisoned)
    assert ids(found) == ids(found_clean)
    assert [i[1] for i in ids(found)] == [
        "CRIME_INDICATIVE_INCIDENT_NOT_CRIMED/incident/I1",
        "CRIME_INDICATIVE_INCIDENT_NOT_CRIMED/incident/I2",  # raised at 25 h, then resolved by C2
        "CRD_LATE/crime/C2",  # measured once the watermark passes its recording decision
        "CRIME_INDICATIVE_INCIDENT_NOT_CRIMED/incident/I2",
    ]
    assert [s.rejected for s in steps[2:5]] == [FUTURE, TOO_OLD, FUTURE]
    assert state.clock.max_seen < parse_time("2026-03-10T00:00:00Z")
