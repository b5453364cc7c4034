"""The event-time clock: minimum over origins, end markers, and the live wall-clock floor."""

from __future__ import annotations

from cdi.core.clock import NEVER, EventClock
from cdi.core.times import MS_PER_HOUR, MS_PER_MINUTE
from tests.core.scenario import BASE, Scenario, run

L = 10 * MS_PER_MINUTE


def test_watermark_is_the_lowest_origin_and_waits_for_every_origin():
    clock = EventClock(L, ("a", "b"))
    clock.observe("a", BASE + MS_PER_HOUR)
    assert clock.watermark == NEVER  # b has said nothing yet
    clock.observe("b", BASE)
    assert clock.watermark == BASE - L
    assert not clock.is_late(BASE - L) and clock.is_late(BASE - L - 1)


def test_an_end_marker_closes_everything_up_to_its_time():
    clock = EventClock(L, ("a",))
    clock.observe("a", BASE)
    clock.end("a", BASE + MS_PER_HOUR)
    assert clock.watermark == BASE + MS_PER_HOUR + 1


def test_progress_never_moves_backwards():
    clock = EventClock(L, ("a",))
    clock.progress("a", BASE)
    clock.progress("a", BASE - MS_PER_HOUR)
    clock.observe("a", BASE - 5 * MS_PER_MINUTE)
    assert clock.watermark == BASE


def test_live_mode_wall_clock_floor_stops_a_quiet_input_freezing_deadlines():
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    from cdi.core.pipeline import INCIDENTS
    from tests.core.scenario import CONTRACTS, MONITOR

    monitor = MONITOR.stages[INCIDENTS]
    state = monitor.new_state(("incidents/0", "crimes/0"))  # crimes/0 never speaks
    monitor.process(state, CONTRACTS.parse(s.records[0]), "incidents/0")
    quiet = monitor.follow_wall_clock(state, BASE + 23 * MS_PER_HOUR)
    assert quiet.findings == []
    later = monitor.follow_wall_clock(state, BASE + 24 * MS_PER_HOUR + L + 1)
    assert [f.payload.rule for f in later.findings] == ["CRIME_INDICATIVE_INCIDENT_NOT_CRIMED"]
    assert later.findings[0].occurred_at == "2026-03-03T00:00:00+00:00"  # due time, not wall time


def test_clock_state_round_trips_for_the_changelog():
    clock = EventClock(L, ("a", "b"))
    clock.observe("a", BASE)
    clock.end("b", BASE + 5)
    clock.follow_wall_clock(BASE - MS_PER_HOUR)
    again = EventClock(L, ("a", "b"))
    again.restore(clock.to_dict())
    assert again == clock


def test_without_an_end_marker_deadlines_after_the_last_event_minus_lateness_stay_open():
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.opened("I2", 24 + 5 / 60, "ADMIN")  # 24h05: watermark only reaches 23h55
    found, _, state = run(s.records, finish=False)
    assert found == [] and state.awaiting["NORTH"] == 1
