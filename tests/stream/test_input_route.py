"""The route, fed directly (no broker, no Faust): each valid event goes to every stage that
reads it under that stage's key, each bad record to the dead letters with its reason, and an
end marker is reported at once."""

from __future__ import annotations

import asyncio

import orjson
from prometheus_client import CollectorRegistry

from cdi.core.admission import Admission
from cdi.core.times import MS_PER_HOUR
from cdi.core.topology import InputProgress
from cdi.stream.end_markers import EndMarkerPolicy
from cdi.stream.input_route import TOO_LARGE, InputRoute
from cdi.stream.metrics import Metrics
from tests.core.scenario import BASE, CONFIG, CONTRACTS, MONITOR, Scenario, at


class Wire:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []
        self.reports: list[dict[str, int]] = []
        self.letters: list[tuple[str, str]] = []

    async def to_stage(self, stage: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        assert dict(headers)["cdi-origin"] == b"crimes/0"
        self.sent.append((stage, key))

    async def progress(self, report: dict[str, int]) -> None:
        self.reports.append(report)

    async def dead_letter(self, key: bytes | None, value: bytes | None, source: str, reason: str, detail: str) -> None:
        self.letters.append((source, reason))


def test_the_route_sends_each_event_to_its_stages_and_refuses_the_rest():
    story = Scenario()
    crime = story.crime("C1", "I1", 3)
    outcome_on_wrong_topic = story.outcome("C1", 4, 1)  # a charge, sent on the crimes topic
    marker = {**crime, "event_id": "end", "type": "history.ended", "occurred_at": at(5), "payload": {"source": "test"}}
    registry = CollectorRegistry()
    wire, progress = Wire(), InputProgress(CONFIG.allowed_lateness_ms)
    route = InputRoute(
        CONTRACTS,
        MONITOR.stages,
        Admission(CONFIG.admission),
        EndMarkerPolicy("accept", None),
        progress,
        Metrics(registry, CONFIG.version, "test"),
        wire,
        max_record_bytes=10_000,
    )

    async def feed() -> None:
        await route.admit("crimes", "crimes/0", "s:0", b"C1", orjson.dumps(crime), {}, 0.0)
        await route.admit("crimes", "crimes/0", "s:1", b"C1", b"{not json", {}, 0.0)
        await route.admit("crimes", "crimes/0", "s:2", b"C1", b"x" * 10_001, {}, 0.0)
        await route.admit("crimes", "crimes/0", "s:3", b"C1", orjson.dumps(outcome_on_wrong_topic), {}, 0.0)
        await route.admit("crimes", "crimes/0", "s:4", None, orjson.dumps(marker), {}, 0.0)

    asyncio.run(feed())
    assert wire.sent == [("incidents", b"I1"), ("crimes", b"C1")]
    assert [reason for _, reason in wire.letters][:2] == ["malformed", TOO_LARGE] and len(wire.letters) == 3
    assert wire.letters[2] == ("s:3", "wrong_topic")
    assert wire.reports == [{"crimes/0": BASE + 5 * MS_PER_HOUR + 1}]
    # The crime's own low was reported with the marker's, which passed it.
    assert progress.report(live=False) == {}
    assert registry.get_sample_value("cdi_events_invalid_total", {"reason": "malformed"}) == 1
