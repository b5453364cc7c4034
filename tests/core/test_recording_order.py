"""Property tests for the recording rules of the legal review (issue 11): with late disclosures,
Crime Recording Decision times, N100 records, rape reports, sink closures with a rationale and
victims not told, arrival order within the allowed lateness and any split into origins still give
the same findings, word for word (the clock from the disclosure, the CRD time and the downgrade
judged at the check time are all decided in event time)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.core.scenario import Scenario
from tests.core.test_order_properties import run_single, split_findings, within_lateness

OPENING = ["ASSAULT", "RAPE", "SEXUAL_OFFENCE", "THEFT", "CONCERN_FOR_WELFARE"]
UPDATES = ["ASSAULT", "RAPE", "ADMIN"]
CLOSING = ["CRIME_RECORDED", "ADVICE_GIVEN", "NO_OFFENCE_DISCLOSED", "MISC", "CRIME_RELATED_INCIDENT", "THEFT"]

incident = st.fixed_dictionaries(
    {
        "at": st.floats(0, 60),
        "code": st.sampled_from(OPENING),
        # Updates up to 40 h after the report: disclosures later than the first day.
        "update": st.one_of(st.none(), st.tuples(st.floats(0, 40), st.sampled_from(UPDATES))),
        "close": st.one_of(
            st.none(),
            st.tuples(
                st.floats(0.1, 50), st.sampled_from(CLOSING), st.booleans(), st.sampled_from([None, True, False])
            ),
        ),
        # (delay after the report, N100 record, CRD time relative to the record in hours or None)
        "crimes": st.lists(
            st.tuples(st.floats(-0.05, 70), st.booleans(), st.one_of(st.none(), st.floats(-30, 3))), max_size=2
        ),
    }
)


def build(incidents: list[dict]) -> Scenario:
    s = Scenario()
    for n, spec in enumerate(incidents):
        iid = f"I{n}"
        division = ["NORTH", "SOUTH"][n % 2]
        s.opened(iid, spec["at"], spec["code"], division=division, victims=2 if n % 3 == 0 else None)
        if spec["update"]:
            s.updated(iid, spec["at"] + spec["update"][0], spec["code"], spec["update"][1])
        if spec["close"]:
            after, code, rationale, informed = spec["close"]
            s.closed(iid, spec["at"] + after, code, rationale, victim_informed=informed)
        for m, (delay, n100, crd) in enumerate(spec["crimes"]):
            when = spec["at"] + delay
            code, group = ("N100", "sexual_offences") if n100 else ("105A", "violence_against_the_person")
            s.crime(
                f"C{n}-{m}",
                iid,
                when,
                code,
                group,
                record_kind="n100" if n100 else None,
                crd_hours=None if crd is None else when + crd,
            )
    return s


@settings(max_examples=150, deadline=None)
@given(st.lists(incident, min_size=1, max_size=10), st.randoms(use_true_random=False))
def test_recording_review_findings_do_not_depend_on_arrival_order(incidents, rnd):
    events = sorted(build(incidents).events(), key=lambda e: (e.at, e.event_id))
    assert run_single(within_lateness(events, rnd)) == run_single(events)


@settings(max_examples=100, deadline=None)
@given(st.lists(incident, min_size=1, max_size=10), st.integers(1, 4), st.randoms(use_true_random=False))
def test_recording_review_findings_do_not_depend_on_origins_or_interleaving(incidents, n_origins, rnd):
    events = sorted(build(incidents).events(), key=lambda e: (e.at, e.event_id))
    assert split_findings(events, n_origins, rnd) == run_single(events)
