"""The stream topology in one process, partitioned and randomly scheduled, in the spirit of
Kafka Streams' TopologyTestDriver: no broker, but the worker's routing and progress reporting.

Events go to input partitions by key, the route forwards each to the stage partitions that read
it (``topology.targets``) and reports input progress (``InputProgress``); the crime stage
forwards disposals to the offender stage, then its own progress (``CrimeProgress``). Every queue
keeps its order, as a Kafka partition does, and the queues are drained in a random interleaving;
progress is reported at random moments, where the worker reports it on a timer. With
``direct``, the stage that reads an input topic applies an event at once where its key lands on
its own partition of the same number (the worker's direct reads, cdi.stream.direct_reads), so that
event overtakes whatever waits on that stage partition; that partition then follows the input
partition's progress from its records and ignores the markers about it. Property tests use it to show that
findings depend neither on partitioning nor on timing.
"""

from __future__ import annotations

import random
import zlib
from collections import deque
from dataclasses import dataclass
from typing import Any

from cdi.core.events import Event
from cdi.core.pipeline import Monitor
from cdi.core.stage import CRIMES, LATE, OFFENDERS, Step
from cdi.core.topology import (
    CRIME_STAGE,
    INPUT_ROLES,
    READER,
    STAGE_TOPICS,
    STAGES,
    CrimeProgress,
    InputProgress,
    input_route,
    origin_name,
    origin_role,
    stage_origins,
    targets,
)

# How often a route step that moved an input's low mark reports progress, and a crime stage
# step its watermark: rare enough that stages often run ahead of what they have heard.
INPUT_PROGRESS_CHANCE = 0.2
CRIME_PROGRESS_CHANCE = 0.3


def partition_of(key: str, partitions: int) -> int:
    """A stand-in for the producer's partitioner: stable, and spreads keys."""
    return zlib.crc32(key.encode()) % partitions


class EventMadeLate(AssertionError):
    """A stage refused an event as late: progress overtook an event still on its way. With every
    input disordered within the allowed lateness, a fault of the topology."""


@dataclass(frozen=True, slots=True)
class _Record:  # an event on a stage topic, with the origin it came from
    origin: str
    event: Event


@dataclass(frozen=True, slots=True)
class _Progress:  # a progress marker on a stage topic: {origin: low mark}
    lows: dict[str, int]


@dataclass(frozen=True, slots=True)
class _End:  # the publisher's history.ended marker on an input partition
    at: int


class PartitionedRun:
    """``inputs`` partitions per input topic, ``partitions`` per stage topic."""

    def __init__(
        self, monitor: Monitor, inputs: int, partitions: int, rng: random.Random, direct: bool = False
    ) -> None:
        self.monitor = monitor
        self.inputs = inputs
        self.partitions = partitions
        self.rng = rng
        self.direct = direct and inputs == partitions  # co-partitioned only with equal counts
        counts = {role: inputs for role in INPUT_ROLES} | {STAGE_TOPICS[name]: partitions for name in STAGES}
        origins = stage_origins(counts)
        self.states = {
            name: [monitor.stages[name].new_state(origins[name]) for _ in range(partitions)] for name in STAGES
        }
        self.queues: dict[str, deque[Event | _End]] = {
            origin_name(role, p): deque() for role in INPUT_ROLES for p in range(inputs)
        }
        self.inbox: dict[tuple[str, int], deque[_Record | _Progress]] = {
            (name, p): deque() for name in STAGES for p in range(partitions)
        }
        self.progress = InputProgress(monitor.config.allowed_lateness_ms)
        self.crime = CrimeProgress()
        self.findings: list[Event] = []

    def publish(self, events: list[Event]) -> None:
        """Each event onto its input topic's partition, by key."""
        for event in events:
            role, key = input_route(event.to_dict())
            self.queues[origin_name(role, partition_of(key, self.inputs))].append(event)

    def end(self, at: int) -> None:
        """A history.ended marker at ``at`` on every input partition."""
        for queue in self.queues.values():
            queue.append(_End(at))

    def run(self) -> None:
        """Drain every queue, one record at a time from a queue chosen at random."""
        while True:
            ready = [("route", o) for o, q in self.queues.items() if q]
            ready += [("work", k) for k, q in self.inbox.items() if q]
            if not ready:
                return
            kind, which = self.rng.choice(ready)
            if kind == "route":
                self._route(which)
            else:
                self._work(*which)

    def _route(self, origin: str) -> None:
        item = self.queues[origin].popleft()
        reader = READER[origin_role(origin)]
        own = int(origin.split("/")[1])  # the reader's partition that follows this input partition
        if isinstance(item, _End):
            report = self.progress.ended(origin, item.at)
            if self.direct:
                self._apply(reader, own, _Progress(report))
            self._broadcast_inputs(report)
            return
        applied = False
        for name, key in targets(self.monitor.stages, item):
            partition = partition_of(key, self.partitions)
            if self.direct and name == reader and partition == own:
                self._apply(name, partition, _Record(origin, item))
                applied = True
            else:
                self.inbox[(name, partition)].append(_Record(origin, item))
        if self.direct and not applied:
            self._apply(reader, own, _Progress({origin: item.at - self.progress.lateness_ms}))
        if self.progress.saw(origin, item.at) and self.rng.random() < INPUT_PROGRESS_CHANCE:
            self._broadcast_inputs(self.progress.report(live=False))

    def _work(self, name: str, partition: int) -> None:
        item = self.inbox[(name, partition)].popleft()
        if self.direct and isinstance(item, _Progress):  # not the markers about inputs it follows itself
            item = _Progress({o: low for o, low in item.lows.items() if not self._follows(name, partition, o)})
        self._apply(name, partition, item)

    def _follows(self, name: str, partition: int, origin: str) -> bool:
        role = origin_role(origin)
        return role in READER and READER[role] == name and origin == origin_name(role, partition)

    def _apply(self, name: str, partition: int, item: _Record | _Progress) -> None:
        stage, state = self.monitor.stages[name], self.states[name][partition]
        if isinstance(item, _Progress):
            for origin, low in item.lows.items():
                self._deliver(name, partition, stage.progress(state, origin, low))
        else:
            step = stage.process(state, item.event, item.origin)
            if step.rejected == LATE:
                raise EventMadeLate(f"{name} stage, partition {partition}: {item.event.event_id}")
            self._deliver(name, partition, step)
        if name == CRIMES and (self.rng.random() < CRIME_PROGRESS_CHANCE or not self.inbox[(name, partition)]):
            self._broadcast(OFFENDERS, self.crime.report())

    def _deliver(self, name: str, partition: int, step: Step) -> None:
        """A stage step's findings and forwards; then, as the worker does, the crime stage's watermark."""
        self.findings.extend(step.findings)
        for forward in step.forwards:
            record = _Record(origin_name(CRIME_STAGE, partition), forward.event)
            self.inbox[(forward.stage, partition_of(forward.key, self.partitions))].append(record)
        if name == CRIMES:
            self.crime.reached(partition, self.states[name][partition].clock.watermark)

    def _broadcast_inputs(self, report: dict[str, int]) -> None:
        for name, lows in InputProgress.per_stage(report).items():
            self._broadcast(name, lows)

    def _broadcast(self, name: str, lows: dict[str, int]) -> None:
        if lows:
            for p in range(self.partitions):
                self.inbox[(name, p)].append(_Progress(lows))


def run_partitioned(
    monitor: Monitor, events: list[Event], inputs: int, stages: int, rng: random.Random, direct: bool = False
) -> list[dict[str, Any]]:
    """Every finding of ``events`` run partitioned, as dicts sorted by (event id, type), to
    compare with an offline run's. The history ends at its latest event."""
    run = PartitionedRun(monitor, inputs, stages, rng, direct)
    run.publish(events)
    run.end(max(e.at for e in events))
    run.run()
    return sorted((f.to_dict() for f in run.findings), key=lambda r: (r["event_id"], r["type"]))
