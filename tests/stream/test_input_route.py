"""The route, fed directly (no broker, no Faust): each valid event goes to every stage that
reads it under that stage's key (applied at once where the reading stage holds its case), each
bad record to the dead letters with its reason, and an end marker is reported at once."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from kafka.partitioner.default import murmur2
from prometheus_client import CollectorRegistry

from cdi.core.admission import Admission
from cdi.core.events import Event
from cdi.core.times import MS_PER_HOUR
from cdi.core.topology import InputProgress
from cdi.stream.direct_reads import DirectReads, stage_partition
from cdi.stream.end_markers import EndMarkerPolicy
from cdi.stream.input_route import TOO_LARGE, InputRoute
from cdi.stream.metrics import Metrics
from tests.core.scenario import BASE, CONFIG, CONTRACTS, MONITOR, Scenario, at


class Wire:
    def __init__(self, partition: int = 0) -> None:
        self.origin = f"crimes/{partition}".encode()
        self.sent: list[tuple[str, bytes]] = []
        self.reports: list[dict[str, int]] = []
        self.letters: list[tuple[str, str]] = []

    async def to_stage(self, stage: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        assert dict(headers)["cdi-origin"] == self.origin
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
        await route.admit("crimes", 0, "s:0", b"C1", orjson.dumps(crime), {}, 0.0)
        await route.admit("crimes", 0, "s:1", b"C1", b"{not json", {}, 0.0)
        await route.admit("crimes", 0, "s:2", b"C1", b"x" * 10_001, {}, 0.0)
        await route.admit("crimes", 0, "s:3", b"C1", orjson.dumps(outcome_on_wrong_topic), {}, 0.0)
        await route.admit("crimes", 0, "s:4", None, orjson.dumps(marker), {}, 0.0)

    asyncio.run(feed())
    assert wire.sent == [("incidents", b"I1"), ("crimes", b"C1")]
    assert [reason for _, reason in wire.letters][:2] == ["malformed", TOO_LARGE] and len(wire.letters) == 3
    assert wire.letters[2] == ("s:3", "wrong_topic")
    assert wire.reports == [{"crimes/0": BASE + 5 * MS_PER_HOUR + 1}]
    # The crime's own low was reported with the marker's, which passed it.
    assert progress.report(live=False) == {}
    assert registry.get_sample_value("cdi_events_invalid_total", {"reason": "malformed"}) == 1


class Runner:
    """A stage that records what it is handed to apply, and the progress it is told directly."""

    def __init__(self, applied: list[tuple[str, int, str, Any]], name: str) -> None:
        self.applied, self.name = applied, name

    async def apply(self, partition: int, parsed: Event, origin: str, key: bytes, value: bytes, source: str) -> None:
        self.applied.append((self.name, partition, origin, key))

    async def advance(self, partition: int, origin: str, low: int) -> None:
        self.applied.append((self.name, partition, origin, low))


COUNTS = {"incidents": 4, "crimes": 4, "outcomes": 4, "offender-history": 4}
STAGE_COUNTS = {"case-events": 4, "crime-events": 4, "offender-events": 4}


def route_with(direct: DirectReads, wire: Wire, applied: list[tuple[str, int, str, bytes]]) -> InputRoute:
    return InputRoute(
        CONTRACTS,
        MONITOR.stages,
        Admission(CONFIG.admission),
        EndMarkerPolicy("accept", None),
        InputProgress(CONFIG.allowed_lateness_ms),
        Metrics(CollectorRegistry(), CONFIG.version, "test"),
        wire,
        max_record_bytes=10_000,
        direct=direct,
        runners={name: Runner(applied, name) for name in ("incidents", "crimes", "offenders")},
    )


@pytest.mark.parametrize(
    ("counts", "enabled", "on_partition", "direct_crime"),
    [
        ({**COUNTS, **STAGE_COUNTS}, True, True, True),  # the crime stage holds C1 here: applied
        ({**COUNTS, **STAGE_COUNTS}, True, False, False),  # keyed elsewhere upstream: sent round
        ({**COUNTS, **STAGE_COUNTS}, False, True, False),  # CDI_DIRECT_READS=false
        ({**COUNTS, **STAGE_COUNTS, "crime-events": 8}, True, True, False),  # not co-partitioned
    ],
)
def test_the_reading_stage_applies_what_is_on_its_own_partition_and_sends_the_rest_round(
    counts: dict[str, int], enabled: bool, on_partition: bool, direct_crime: bool
):
    """A recorded crime read from the crimes topic: the crime stage (its reader) applies it where
    the crime's partition is the one it came from; the incident stage never reads the crimes
    topic, so its copy is always sent round."""
    crime = Scenario().crime("C1", "I1", 3)
    home = stage_partition(b"C1", 4)
    partition = home if on_partition else (home + 1) % 4
    wire, applied = Wire(partition), []
    route = route_with(DirectReads(counts, enabled), wire, applied)
    asyncio.run(route.admit("crimes", partition, "s:0", b"C1", orjson.dumps(crime), {}, 0.0))
    if direct_crime:
        assert applied == [("crimes", home, f"crimes/{home}", b"C1")]
        assert wire.sent == [("incidents", b"I1")]
    else:
        assert wire.sent == [("incidents", b"I1"), ("crimes", b"C1")]
        if enabled and counts["crime-events"] == 4:  # keyed elsewhere: partition p still hears of crimes/p
            assert applied == [("crimes", partition, f"crimes/{partition}", crime_low(crime))]
        else:
            assert applied == []
    assert route.progress.report(live=False) == {f"crimes/{partition}": crime_low(crime)}


def crime_low(crime: dict) -> int:
    return Event.from_dict(crime).at - CONFIG.allowed_lateness_ms


def test_the_worker_partitions_a_key_as_the_publisher_does():
    """Direct reads rest on this: the publisher (kafka-python) and the worker's producer
    (aiokafka, through Faust) put a key on the same partition."""
    for n in (1, 3, 4, 12):
        for i in range(500):
            key = f"INC-{i:06d}".encode()
            assert stage_partition(key, n) == (murmur2(key) & 0x7FFFFFFF) % n  # kafka-python's default
