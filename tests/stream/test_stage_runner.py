"""A stage's record handling in the worker, fed directly (no broker, no Faust): the same
findings as the offline run, counted once, refusals dead-lettered with the stage named, and
state written only when the flush asks for it."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from prometheus_client import CollectorRegistry

from cdi.core.events import Event
from cdi.core.stage import INCIDENTS, Forward
from cdi.core.times import MS_PER_HOUR
from cdi.stream.metrics import Metrics
from cdi.stream.outbox import Outbox
from cdi.stream.partitions import PartitionStates
from cdi.stream.stage_runner import H_ORIGIN, H_PROGRESS, MARKER_REFUSED, StageRunner
from tests.core.scenario import BASE, CONFIG, MONITOR, Scenario, run

ORIGINS = ("incidents/0", "crimes/0")


class Wire:
    """Records what the stage sends; every send is acknowledged at once."""

    def __init__(self) -> None:
        self.findings: list[dict[str, Any]] = []
        self.letters: list[tuple[str, str, str]] = []

    async def finding(self, finding: Event) -> Any:
        self.findings.append(finding.to_dict())
        return self._acknowledged()

    async def forward(self, forward: Forward, origin: str) -> Any:
        raise AssertionError("the incident stage forwards nothing")

    async def dead_letter(self, key: bytes | None, value: bytes | None, source: str, reason: str, detail: str) -> None:
        self.letters.append((source, reason, detail))

    @staticmethod
    def _acknowledged() -> asyncio.Future[None]:
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, {**labels}) or 0.0


def test_the_runner_raises_on_progress_counts_once_names_the_stage_and_writes_state_on_flush():
    story = Scenario()
    records = [story.opened("I1", 0), story.updated("I1", 1, "ASSAULT", "ASSAULT")]
    expected, _, _ = run(records, finish=False)

    table: dict[bytes, bytes] = {}
    registry = CollectorRegistry()
    wire, outbox = Wire(), Outbox()
    runner = StageRunner(
        INCIDENTS,
        MONITOR.stages[INCIDENTS],
        PartitionStates(MONITOR.stages[INCIDENTS], table, ORIGINS),
        outbox,
        Metrics(registry, CONFIG.version, "test"),
        wire,
        lambda at: at > BASE + 1000 * MS_PER_HOUR,
    )
    headers = {H_ORIGIN: b"incidents/0"}
    low = BASE + 48 * MS_PER_HOUR

    async def feed() -> None:
        for n, record in enumerate(records):
            await runner.handle(0, b"I1", orjson.dumps(record), headers, f"cdi.incidents:0:{n}")
        await runner.handle(0, b"I1", orjson.dumps(records[0]), headers, "cdi.incidents:0:0")  # again
        assert wire.findings == [f.to_dict() for f in expected] and table == {}
        progress = {H_PROGRESS: orjson.dumps({origin: low for origin in ORIGINS})}
        await runner.handle(0, None, b"", progress, "cdi.case-events:0:9")
        forged = {H_PROGRESS: orjson.dumps({"incidents/0": BASE + 2000 * MS_PER_HOUR})}
        await runner.handle(0, None, b"", forged, "cdi.case-events:0:10")
        late = Scenario().opened("I2", 2, event_id="ev-late")
        await runner.handle(0, b"I2", orjson.dumps(late), headers, "cdi.incidents:0:3")
        async with outbox.settled():
            runner.partitions.write_changes()

    asyncio.run(feed())
    # The progress marker passes the 24 h recording deadline of the crime-indicative incident.
    assert [(f["type"], f["event_id"], f["occurred_at"]) for f in wire.findings] == [
        ("finding.raised", "CRIME_INDICATIVE_INCIDENT_NOT_CRIMED/incident/I1", "2026-03-03T00:00:00+00:00")
    ]
    assert wire.letters == [
        ("cdi.case-events:0:10", MARKER_REFUSED, "progress beyond the bounds"),
        (
            "cdi.incidents:0:3",
            "late",
            "incidents stage: event time is before the stage's watermark (beyond the allowed lateness)",
        ),
    ]
    assert sample(registry, "cdi_events_consumed_total", type="incident.opened") == 1
    assert sample(registry, "cdi_events_duplicate_total", type="incident.opened") == 1
    assert sample(registry, "cdi_events_late_total", type="incident.opened") == 1
    assert set(table) == {b"I1", b"\x00clock/0"}
    assert orjson.loads(table[b"\x00clock/0"])["clock"]["lows"] == {origin: low for origin in ORIGINS}


def test_a_stage_reading_its_input_itself_follows_that_partition_from_the_records_not_the_markers():
    """With direct reads, incident partition 0 reads incidents/0 itself: a marker about incidents/0
    (which could reach it, after a crash, before records it covers are read again) moves nothing
    there, while the advance the route makes after each record does; markers about other inputs,
    and about incidents/0 on another partition, are heeded."""
    story = Scenario()
    opened = story.opened("I1", 0)
    stage = MONITOR.stages[INCIDENTS]
    origins = ("incidents/0", "incidents/1", "crimes/0")
    states = PartitionStates(stage, {}, origins)
    runner = StageRunner(
        INCIDENTS,
        stage,
        states,
        Outbox(),
        Metrics(CollectorRegistry(), CONFIG.version, "test"),
        Wire(),
        lambda at: False,
        own_roles=frozenset({"incidents"}),
    )
    low = BASE + 5 * MS_PER_HOUR
    marker = {H_PROGRESS: orjson.dumps({origin: low for origin in origins})}

    async def feed() -> None:
        await runner.apply(0, Event.from_dict(opened), "incidents/0", b"I1", orjson.dumps(opened), "s:0")
        for partition in (0, 1):
            await runner.handle(partition, None, b"", marker, f"cdi.case-events:{partition}:0")
        await runner.advance(0, "incidents/0", BASE + 2 * MS_PER_HOUR)

    asyncio.run(feed())
    # Partition 0: incidents/0 from the record (its time less the lateness), then the advance.
    assert states.get(0).clock.lows == {"incidents/0": BASE + 2 * MS_PER_HOUR, "incidents/1": low, "crimes/0": low}
    # Partition 1 follows incidents/1 itself, and heard of incidents/0 from the marker.
    assert states.get(1).clock.lows == {"incidents/0": low, "crimes/0": low}
