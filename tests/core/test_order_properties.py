"""Property tests: arrival order within the allowed lateness never changes the findings, and
neither does splitting the input into several ordered origins merged in any interleaving (the
stream processor's situation: partitions read at different speeds, then repartitioned)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from cdi.core.pipeline import INCIDENTS
from tests.core.scenario import CONFIG, CONTRACTS, MONITOR, Scenario, run

LATENESS_H = CONFIG.allowed_lateness_ms / 3_600_000
OPENING = ["ASSAULT", "THEFT", "RAPE", "CONCERN_FOR_WELFARE", "ASB_NUISANCE", "BURGLARY_DWELLING"]
CLOSING = ["CRIME_RECORDED", "ADVICE_GIVEN", "NO_OFFENCE_DISCLOSED", "MISC", "THEFT"]

incident = st.fixed_dictionaries(
    {
        "at": st.floats(0, 72),
        "code": st.sampled_from(OPENING),
        "update": st.one_of(st.none(), st.tuples(st.floats(0, 30), st.sampled_from(["ASSAULT", "ADMIN"]))),
        "close": st.one_of(st.none(), st.tuples(st.floats(0.1, 40), st.sampled_from(CLOSING), st.booleans())),
        "crimes": st.lists(st.floats(-0.05, 60), max_size=2),
    }
)


def build(incidents: list[dict]) -> Scenario:
    s = Scenario()
    for n, spec in enumerate(incidents):
        iid = f"I{n}"
        s.opened(iid, spec["at"], spec["code"], division=["NORTH", "SOUTH"][n % 2])
        if spec["update"]:
            s.updated(iid, spec["at"] + spec["update"][0], spec["code"], spec["update"][1])
        if spec["close"]:
            s.closed(iid, spec["at"] + spec["close"][0], spec["close"][1], spec["close"][2])
        for m, delay in enumerate(spec["crimes"]):
            s.crime(f"C{n}-{m}", iid, spec["at"] + delay)
    return s


def run_origins(streams: list[tuple[str, list]], origins: tuple[str, ...], rng: random.Random) -> list[dict]:
    """Merge ordered per-origin streams in a random interleaving, as a case partition sees them."""
    monitor = MONITOR.stages[INCIDENTS]
    state = monitor.new_state(origins)
    found = []
    cursors = {origin: 0 for origin, _ in streams}
    queues = dict(streams)
    last = max((e.at for _, events in streams for e in events), default=0)
    live = [o for o, events in streams if events]
    while live:
        origin = rng.choice(live)
        event = queues[origin][cursors[origin]]
        cursors[origin] += 1
        step = monitor.process(state, event, origin)
        assert step.rejected != "late"
        found += step.findings
        if cursors[origin] == len(queues[origin]):
            live.remove(origin)
    for origin in origins:  # the publisher's history.ended marker, on every origin
        found += monitor.end(state, origin, last).findings
    return sorted((f.to_dict() for f in found), key=lambda r: (r["event_id"], r["type"]))


def run_single(events: list) -> list[dict]:
    found, steps, _ = run(events)
    assert all(step.rejected != "late" for step in steps)
    return sorted((f.to_dict() for f in found), key=lambda r: (r["event_id"], r["type"]))


def within_lateness(events, rnd):  # type: ignore[no-untyped-def]
    """The events re-ordered by event time plus a jitter below the allowed lateness: no event
    ends up later than the bound."""
    bound = CONFIG.allowed_lateness_ms - 1
    return sorted(events, key=lambda e: e.at + rnd.randint(0, bound))


def split_findings(events, n_origins, rnd):  # type: ignore[no-untyped-def]
    """The findings when ``events``, re-ordered within the lateness, arrive split at random over
    ``n_origins`` inputs, interleaved at random."""
    origins = tuple(f"input/{i}" for i in range(n_origins))
    streams: list[tuple[str, list]] = [(o, []) for o in origins]
    for event in within_lateness(events, rnd):
        streams[rnd.randrange(n_origins)][1].append(event)
    return run_origins(streams, origins, random.Random(rnd.random()))


@settings(max_examples=150, deadline=None)
@given(st.lists(incident, min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_shuffling_within_the_lateness_bound_never_changes_findings(incidents, rnd):
    events = sorted(build(incidents).events(), key=lambda e: (e.at, e.event_id))
    assert run_single(within_lateness(events, rnd)) == run_single(events)


@settings(max_examples=150, deadline=None)
@given(st.lists(incident, min_size=1, max_size=12), st.integers(1, 4), st.randoms(use_true_random=False))
def test_any_split_into_origins_and_any_interleaving_gives_the_same_findings(incidents, n_origins, rnd):
    events = sorted(build(incidents).events(), key=lambda e: (e.at, e.event_id))
    assert split_findings(events, n_origins, rnd) == run_single(events)


def test_duplicates_anywhere_within_the_bound_change_nothing():
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.crime("C1", "I1", 30)
    s.opened("I2", 40, "ADMIN")
    events = s.events()
    with_dupes = [events[0], events[0], events[1], events[1], events[0] if False else events[2], events[2]]
    assert run_single(with_dupes) == run_single(events)
    assert len(run_single(events)) == 3
    assert CONTRACTS  # contracts loaded for the scenario builder


outcome_case = st.fixed_dictionaries(
    {
        "code": st.sampled_from(
            [
                ("34B", "robbery"),
                ("46", "theft"),
                ("92E", "drug_offences"),
                ("10D", "possession_of_weapons"),
                ("19C", "sexual_offences"),
                ("105A", "violence_against_the_person"),
            ]
        ),
        "recorded": st.floats(0, 48),
        "offender": st.sampled_from(["PR-0000aaaa", "PR-0000bbbb", None]),
        "decision": st.one_of(
            st.tuples(st.just("outcome"), st.floats(0, 400), st.sampled_from([3, 6, 7, 8, 16, 1]), st.integers(15, 40)),
            st.tuples(st.just("cancel"), st.floats(0, 100), st.sampled_from(["C2", "C4"]), st.booleans()),
            st.tuples(st.just("reclass"), st.floats(0, 100), st.sampled_from(["49", "8N", "105A"]), st.booleans()),
        ),
        "history": st.one_of(
            st.none(),
            st.tuples(st.floats(-5, 5), st.sampled_from(["adult_caution", "cannabis_warning", "penalty_notice"])),
        ),
    }
)


def build_outcomes(cases: list[dict]) -> Scenario:
    s = Scenario()
    for n, spec in enumerate(cases):
        cid = f"C{n}"
        code, group = spec["code"]
        s.crime(cid, None, spec["recorded"], code, group, division=["NORTH", "SOUTH"][n % 2])
        kind, delay, what, flag = spec["decision"]
        when = spec["recorded"] + delay
        if spec["history"] and spec["offender"]:
            s.history(spec["offender"], when + spec["history"][0] / 60, [(spec["history"][1], group, "2025-12-01")])
        if kind == "outcome":
            s.outcome(cid, when, what, offender=spec["offender"], age=flag)
        elif kind == "cancel":
            s.cancelled(cid, when, what, avi=flag)
        else:
            s.reclassified(cid, when, code, what, reason=None if flag else "reviewed")
    return s


@settings(max_examples=100, deadline=None)
@given(
    st.lists(incident, max_size=6),
    st.lists(outcome_case, min_size=1, max_size=8),
    st.integers(1, 3),
    st.integers(1, 3),
    st.booleans(),
    st.randoms(use_true_random=False),
)
def test_the_stream_topology_gives_the_offline_findings_for_any_partitioning_and_timing(
    incidents, outcomes, inputs, stages, direct, rnd
):
    """``direct``: stages read their own input topics, co-partitioned (cdi.stream.direct_reads)."""
    from cdi.core.partitioned_run import run_partitioned

    if direct:
        stages = inputs

    records = build(incidents).records + build_outcomes(outcomes).records
    for n, record in enumerate(records):
        record["event_id"] = f"ev-{n:04d}"
    events = sorted((CONTRACTS.parse(r) for r in records), key=lambda e: (e.at, e.event_id))
    bound = CONFIG.allowed_lateness_ms - 1
    shuffled = sorted(events, key=lambda e: e.at + rnd.randint(0, bound))
    offline = run_single(shuffled)
    assert run_partitioned(MONITOR, shuffled, inputs, stages, random.Random(rnd.random()), direct) == offline
