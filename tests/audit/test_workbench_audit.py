"""The audit in the workbench's view, without a broker: samples and verdicts read from the
case-actions topic's records, the population rebuilt from the stored input events, and the
estimates equal to those `cdi audit estimate` makes from the history file and verdict file."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from cdi import reference as reference_tables
from cdi.audit.assessment import assess
from cdi.audit.estimates import BREAKDOWNS
from cdi.audit.sample import draw_sample
from cdi.audit.verdicts import Verdict, latest, simulated_review
from cdi.contracts import Contracts
from cdi.history import read_lines
from cdi.settings import Settings
from cdi.topics import TOPIC_FOR_TYPE
from cdi.workbench.audit_desk import AuditDesk
from cdi.workbench.case_actions import ActionDesk
from cdi.workbench.feed import Feed
from cdi.workbench.store import ACTIONS_ROLE, CaseStore, FeedRecord
from cdi.workbench.timeline import Narrator
from tests.audit.conftest import Month


def feed_history(store: CaseStore, history: Path) -> int:
    """The history's events as the feed would read them from the input topics."""
    offsets: Counter[str] = Counter()
    batch: list[FeedRecord] = []
    for _, raw in read_lines(history):
        role = TOPIC_FOR_TYPE.get(orjson.loads(raw)["type"])
        if role is None:
            continue  # the end-of-history marker goes to every input topic; the view skips it
        batch.append(FeedRecord(role, f"t.{role}", 0, offsets[role], raw))
        offsets[role] += 1
        if len(batch) == 2000:
            store.apply(batch)
            batch = []
    store.apply(batch)
    return sum(offsets.values())


class ActionsTopic:
    """Records appended to the case-actions topic, one partition."""

    def __init__(self, store: CaseStore) -> None:
        self.store = store
        self.offset = store.stored_offsets(["t.case-actions"]).get(("t.case-actions", 0), 0)

    def send(self, *events: dict) -> None:
        records = []
        for event in events:
            records.append(FeedRecord(ACTIONS_ROLE, "t.case-actions", 0, self.offset, orjson.dumps(event)))
            self.offset += 1
        applied = self.store.apply(records)
        assert not applied.refused, applied.refused


@pytest.fixture(scope="module")
def view(month: Month, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CaseStore, AuditDesk]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('view') / 'cases.db'}"
    store = CaseStore(url, "live", Narrator(reference_tables.load()))
    store.migrate()
    feed_history(store, month.history)
    assert store.events_count() == month.population.events  # a re-sent event is stored once
    settings = Settings()
    feed = Feed(settings, store, 400)
    contracts = Contracts()
    yield store, AuditDesk(store, feed, ActionDesk(settings, store, feed, contracts), contracts, None, "UNKNOWN")
    store.close()


def test_the_population_from_the_stored_events_is_the_history_files(month: Month, view) -> None:
    _, desk = view
    found = desk.population(month.population.start, month.population.end, ())
    assert found.units == month.population.units
    assert (found.recorded_volume, found.not_due, found.force) == (
        month.population.recorded_volume,
        month.population.not_due,
        month.population.force,
    )
    # So a sample drawn in the workbench is the one `cdi audit sample` draws with the same seed.
    assert draw_sample(found, 7, size=150).items == draw_sample(month.population, 7, size=150).items


def test_estimates_from_the_view_equal_those_from_the_files(month: Month, view) -> None:
    store, desk = view
    drawn = draw_sample(month.population, 11, size=200, findings_per_rule=20, disposals=40, sample_id="wb-equal")
    review = simulated_review(drawn, month.audit_truth, error_rate=0.05, seed=2)
    topic = ActionsTopic(store)
    topic.send(drawn.to_event(), *review.events)
    assert [s["sample_id"] for s in store.samples()] == ["wb-equal"]
    assert store.samples()[0]["judged"] == len(review.events) == len(drawn.items)
    expected, _ = assess(month.population, latest(_verdicts(review.events)), drawn, BREAKDOWNS)
    got = desk.assessed("wb-equal")
    assert got is not None
    assert got.estimates.to_dict() == expected.to_dict()
    assert got.estimates.recording_accuracy.estimate is not None and got.estimates.rule_precision
    # A correction: a later verdict on an item replaces the first in the estimates.
    first = review.events[0]
    corrected = orjson.loads(orjson.dumps(first))
    corrected["event_id"] = "verdict-correction-1"
    corrected["occurred_at"] = "2099-01-01T00:00:00+00:00"
    kind = first["payload"]["item"]["kind"]
    flip = {"crime": "no_crime", "no_crime": "crime", "n100": "no_crime"}
    if kind == "incident":
        corrected["payload"]["verdict"] = flip[first["payload"]["verdict"]]
        for key in ("offence_group", "hocr_code"):
            corrected["payload"].pop(key, None)
        if corrected["payload"]["verdict"] == "crime":
            corrected["payload"]["offence_group"] = "theft_offences"
    topic.send(corrected)
    task = store.task("wb-equal", kind, first["payload"]["item"]["id"])
    assert task is not None and task["verdict"]["event_id"] == "verdict-correction-1" and len(task["trail"]) == 2
    again, _ = assess(month.population, latest(_verdicts([*review.events, corrected])), drawn, BREAKDOWNS)
    assert desk.assessed("wb-equal").estimates.to_dict() == again.to_dict()
    # The same verdict event read twice (an at-least-once topic) counts once.
    topic.send(review.events[1])
    assert len(store.verdicts("wb-equal")) == len(review.events) + 1


def test_a_sample_name_is_drawn_once_and_the_first_record_stands(month: Month, view) -> None:
    store, _ = view
    one = draw_sample(month.population, 1, size=20, sample_id="wb-once")
    other = draw_sample(month.population, 2, size=20, sample_id="wb-once")
    ActionsTopic(store).send(one.to_event(), other.to_event())
    assert store.audit_sample("wb-once") == one
    assert [(t["kind"], t["id"]) for t in store.tasks("wb-once")] == [(i.kind, i.id) for i in one.items]


def _verdicts(events: list[dict]) -> list[Verdict]:
    return [Verdict.from_event(e) for e in events]
