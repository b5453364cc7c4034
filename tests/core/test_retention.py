"""Crime retention until the final decision (docs/architecture.md, "Retention"): a crime is kept
until a final outcome (or a cancellation) plus a margin after its latest event, and at most
`crime_retention_max_days` after its first event when it never gets one."""

from __future__ import annotations

import pytest

from cdi.core.observations import UnmatchedDecision
from cdi.core.pipeline import CRIMES, OfflineRun
from cdi.core.times import MS_PER_DAY
from tests.core.scenario import CONFIG, CONTRACTS, MONITOR, Scenario, of_rule, run

DAY = 24.0  # hours
MARGIN_DAYS = CONFIG.crime_final_margin_ms / MS_PER_DAY
MAX_DAYS = CONFIG.crime_retention_max_ms / MS_PER_DAY


def ticks(s: Scenario, until_days: float, every_days: float = 20) -> None:
    """Unrelated crime records that keep the history's clock moving (an input does not jump
    further than the admission bound allows), with no outcome of their own."""
    day, n = every_days, 0
    while day <= until_days:
        n += 1
        s.crime(f"TICK-{n}", None, day * DAY, "49", "theft")
        day += every_days


def judged(s: Scenario) -> list:
    s.records.sort(key=lambda r: r["occurred_at"])
    return of_rule(run(s.records)[0], "CAUTION_INDICTABLE_ONLY")


def test_the_defaults_are_the_documented_ones():
    assert (MARGIN_DAYS, MAX_DAYS, CONFIG.case_retention_ms / MS_PER_DAY) == (35, 365, 35)
    assert CONFIG.final_outcome_types == frozenset(range(1, 23)) - {14, 15, 16, 18, 21}


def test_an_outcome_months_after_the_record_is_judged():
    s = Scenario()
    s.crime("C1", None, 1, "34B", "robbery")
    ticks(s, 130)
    s.outcome("C1", 120 * DAY, 3)  # a caution for robbery, four months on
    [finding] = judged(s)
    assert finding.payload.subject.id == "C1"


@pytest.mark.parametrize(("after_days", "kept"), [(MARGIN_DAYS - 1, True), (MARGIN_DAYS + 1, False)])
def test_a_final_outcome_keeps_the_crime_for_the_margin(after_days, kept):
    s = Scenario()
    s.crime("C1", None, 1, "34B", "robbery")
    ticks(s, 60 + after_days + 10)
    s.outcome("C1", 60 * DAY, 1)  # charged: final
    s.outcome("C1", (60 + after_days) * DAY, 3, offender="PR-0000bbbb")  # a second offender's caution
    assert len(judged(s)) == int(kept)


def test_a_non_final_outcome_keeps_the_crime_for_a_reopened_investigation():
    s = Scenario()
    s.crime("C1", None, 1, "34B", "robbery")
    ticks(s, 200)
    s.outcome("C1", 10 * DAY, 18, offender=None)  # no suspect identified: may be reopened
    s.outcome("C1", 190 * DAY, 3)
    assert len(judged(s)) == 1


@pytest.mark.parametrize(("at_days", "kept"), [(MAX_DAYS - 1, True), (MAX_DAYS + 1, False)])
def test_a_crime_without_a_final_decision_is_kept_to_the_bound(at_days, kept):
    s = Scenario()
    s.crime("C1", None, 1, "34B", "robbery")
    ticks(s, at_days + 10)
    s.outcome("C1", at_days * DAY, 3)
    s.records.sort(key=lambda r: r["occurred_at"])
    findings, steps, _ = run(s.records)
    assert len(of_rule(findings, "CAUTION_INDICTABLE_ONLY")) == int(kept)
    unmatched = [o for step in steps for o in step.observations if isinstance(o, UnmatchedDecision)]
    assert len(unmatched) == int(not kept)


def test_a_cancelled_crime_is_dropped_after_the_margin():
    s = Scenario()
    s.crime("C1", None, 1, "34B", "robbery")
    s.cancelled("C1", 2 * DAY)
    ticks(s, 2 + MARGIN_DAYS - 1, every_days=2 + MARGIN_DAYS - 1)
    offline = OfflineRun.start(MONITOR)
    for event in s.events():
        offline.process(event)
    assert "C1" in offline.states[CRIMES].cases  # the watermark is a day short of the margin's end
    s.crime("TICK-last", None, (2 + MARGIN_DAYS + 1) * DAY, "49", "theft")
    offline.process(s.events()[-1])
    assert "C1" not in offline.states[CRIMES].cases


def test_expiry_does_not_depend_on_arrival_order():
    s = Scenario()
    s.crime("C1", None, 1.0, "34B", "robbery")
    s.outcome("C1", 1.05, 1)  # final, three minutes later: either may arrive first
    expiries = set()
    for order in ([0, 1], [1, 0]):
        offline = OfflineRun.start(MONITOR)
        for i in order:
            offline.process(CONTRACTS.parse(s.records[i]))
        stage = MONITOR.stages[CRIMES]
        expiries.add(stage.logic.expires_at(offline.states[CRIMES].cases["C1"]))
    assert len(expiries) == 1
