"""The topology the worker, the offline run and the partitioned run share: the router (which
stages get an input event, under which key) and the progress bookkeeping (what the route and
the crime stage report, and to which stages)."""

from __future__ import annotations

from dataclasses import replace

from cdi.core.events import Event
from cdi.core.partitioned_run import partition_of
from cdi.core.stage import CRIMES, INCIDENTS, OFFENDERS
from cdi.core.topology import (
    FEEDS,
    INPUT_ROLES,
    KEY_FIELD,
    READER,
    ROUTES,
    STAGE_TOPICS,
    TOPIC_FOR_TYPE,
    CrimeProgress,
    InputProgress,
    input_route,
    stage_origins,
    targets,
)
from tests.core.scenario import MONITOR, Scenario

STAGES = MONITOR.stages


def only(s: Scenario) -> Event:
    (event,) = s.events()
    return event


def test_a_crime_record_goes_to_the_incident_stage_by_incident_and_the_crime_stage_by_crime():
    s = Scenario()
    s.crime("C1", "I1", 1)
    assert targets(STAGES, only(s)) == ((INCIDENTS, "I1"), (CRIMES, "C1"))


def test_a_crime_record_without_an_incident_is_its_own_incident_case():
    s = Scenario()
    s.crime("C1", None, 1)
    assert targets(STAGES, only(s)) == ((INCIDENTS, "crime:C1"), (CRIMES, "C1"))


def test_an_n100_record_does_not_go_to_the_crime_stage():
    s = Scenario()
    s.crime("N1", "I1", 1, record_kind="n100")
    assert targets(STAGES, only(s)) == ((INCIDENTS, "I1"),)


def test_decisions_go_to_the_crime_stage_by_crime():
    s = Scenario()
    s.outcome("C1", 1, 1)
    s.cancelled("C2", 1)
    s.reclassified("C3", 1, "105A", "8N")
    assert [targets(STAGES, e) for e in s.events()] == [((CRIMES, "C1"),), ((CRIMES, "C2"),), ((CRIMES, "C3"),)]


def test_incident_events_go_to_the_incident_stage_and_histories_to_the_offender_stage():
    s = Scenario()
    s.opened("I1", 0)
    s.closed("I1", 1)
    s.history("PR-0000aaaa", 2, [])
    assert [targets(STAGES, e) for e in s.events()] == [
        ((INCIDENTS, "I1"),),
        ((INCIDENTS, "I1"),),
        ((OFFENDERS, "PR-0000aaaa"),),
    ]


def test_a_type_no_input_carries_goes_nowhere():
    s = Scenario()
    s.opened("I1", 0)
    event = only(s)
    for kind in ("history.ended", "finding.raised", "disposal.observed"):
        assert targets(STAGES, replace(event, type=kind)) == ()


def test_every_input_type_has_a_topic_and_a_stage():
    assert set(ROUTES) == set(TOPIC_FOR_TYPE)
    assert set(TOPIC_FOR_TYPE.values()) == set(INPUT_ROLES)


def test_each_input_drives_the_clocks_of_the_stages_that_read_it():
    assert FEEDS == {
        "incidents": (INCIDENTS,),
        "crimes": (INCIDENTS, CRIMES),
        "outcomes": (CRIMES,),
        "offender-history": (OFFENDERS,),
    }


def test_stage_origins_are_the_partitions_of_their_inputs_and_the_crime_stage_for_offenders():
    counts = {"incidents": 2, "crimes": 1, "outcomes": 1, "offender-history": 1, STAGE_TOPICS[CRIMES]: 2}
    assert stage_origins(counts) == {
        INCIDENTS: ("incidents/0", "incidents/1", "crimes/0"),
        CRIMES: ("crimes/0", "outcomes/0"),
        OFFENDERS: ("offender-history/0", "crime-stage/0", "crime-stage/1"),
    }


def test_the_publisher_routes_an_input_record_by_its_topic_key():
    s = Scenario()
    assert input_route(s.outcome("C1", 1, 1)) == ("outcomes", "C1")
    assert input_route(s.history("PR-0000aaaa", 1, [])) == ("offender-history", "PR-0000aaaa")
    import cdi.topics

    assert cdi.topics.TOPIC_FOR_TYPE is TOPIC_FOR_TYPE and cdi.topics.INPUT_ROLES is INPUT_ROLES
    assert cdi.topics.route(s.records[0]) == ("outcomes", "C1")
    assert cdi.topics.INTERNAL_ROLES == ("case-events", "crime-events", "offender-events")


def test_input_progress_reports_only_the_origins_that_moved():
    progress = InputProgress(lateness_ms=100)
    assert progress.saw("crimes/0", 1_000) is True
    assert progress.saw("crimes/0", 900) is False  # disordered within the lateness: no step back
    assert progress.saw("outcomes/1", 500) is True
    assert progress.report(live=False) == {"crimes/0": 900, "outcomes/1": 400}
    assert progress.report(live=False) == {}
    assert progress.saw("crimes/0", 1_050) is True
    assert progress.report(live=False) == {"crimes/0": 950}


def test_input_progress_in_live_mode_reports_every_origin():
    progress = InputProgress(lateness_ms=100)
    progress.saw("crimes/0", 1_000)
    progress.saw("outcomes/1", 500)
    assert progress.report(live=False) == {"crimes/0": 900, "outcomes/1": 400}
    assert progress.report(live=True) == {"crimes/0": 900, "outcomes/1": 400}


def test_an_end_marker_is_reported_at_once_just_past_its_time():
    progress = InputProgress(lateness_ms=100)
    progress.saw("crimes/0", 1_000)
    progress.saw("outcomes/0", 1_000)
    assert progress.ended("crimes/0", 2_000) == {"crimes/0": 2_001}
    assert progress.report(live=False) == {"outcomes/0": 900}  # the marker's origin was reported already
    assert progress.ended("outcomes/0", 500) == {"outcomes/0": 900}  # a low mark never goes back


def test_a_report_goes_to_each_stage_whose_clock_its_origins_drive():
    report = {"incidents/0": 1, "crimes/1": 2, "outcomes/0": 3}
    assert InputProgress.per_stage(report) == {
        INCIDENTS: {"incidents/0": 1, "crimes/1": 2},
        CRIMES: {"crimes/1": 2, "outcomes/0": 3},
    }
    assert InputProgress.per_stage({"offender-history/2": 4}) == {OFFENDERS: {"offender-history/2": 4}}
    assert InputProgress.per_stage({}) == {}


def test_crime_progress_reports_only_the_partitions_that_moved():
    crime = CrimeProgress()
    assert crime.report() == {}
    crime.reached(0, 10)
    crime.reached(1, 20)
    assert crime.report() == {"crime-stage/0": 10, "crime-stage/1": 20}
    assert crime.report() == {}
    crime.reached(0, 10)
    crime.reached(1, 25)
    assert crime.report() == {"crime-stage/1": 25}
    crime.reset()
    assert crime.report() == {}
    crime.reached(1, 25)
    assert crime.report() == {"crime-stage/1": 25}  # after a reset, reported again


def test_the_partitioned_run_partitions_a_key_the_same_way_every_time():
    assert partition_of("C1", 3) == partition_of("C1", 3)
    assert {partition_of(f"C{n}", 3) for n in range(30)} == {0, 1, 2}


def test_each_input_topic_is_read_by_the_stage_keyed_as_it_is():
    """The reader of an input topic keys its cases by the topic's own key, so that an event read
    from partition p belongs to partition p of the reader's table (cdi.stream.direct_reads)."""
    s = Scenario()
    s.opened("I1", 1, "BURGLARY")
    s.updated("I1", 2, "BURGLARY", "ASB")
    s.closed("I1", 3, "ASB")
    s.crime("C1", "I1", 4)
    s.reclassified("C1", 5, "105A", "8N")
    s.cancelled("C1", 6)
    s.outcome("C1", 7, 1)
    s.history("PR-0000aaaa", 8, [])
    seen = set()
    for event in s.events():
        role = TOPIC_FOR_TYPE[event.type]
        reader = READER[role]
        assert reader in FEEDS[role]
        assert dict(targets(STAGES, event))[reader] == event.to_dict()["payload"][KEY_FIELD[role]]
        seen.add(role)
    assert seen == set(INPUT_ROLES) == set(READER)
