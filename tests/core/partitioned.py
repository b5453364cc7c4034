"""The stream processor's topology, in one process, with random scheduling: events go to input
partitions by key, a router forwards them to stage partitions by each stage's key and
broadcasts progress, the crime stage forwards disposals and its own progress to the offender
stage, and every queue is drained in a random interleaving (each queue keeps its order, as a
Kafka partition does). Used to show that findings do not depend on partitioning or timing."""

from __future__ import annotations

import random
import zlib
from collections import deque
from typing import Any

from cdi.core.clock import NEVER
from cdi.core.events import Event
from cdi.core.pipeline import CRIME_STAGE, CRIMES, INCIDENTS, OFFENDERS, ROUTES, Monitor
from cdi.topics import KEY_FIELD, TOPIC_FOR_TYPE

FEEDS = {
    "incidents": (INCIDENTS,),
    "crimes": (INCIDENTS, CRIMES),
    "outcomes": (CRIMES,),
    "offender-history": (OFFENDERS,),
}


def _partition(key: str, n: int) -> int:
    return zlib.crc32(key.encode()) % n


def run_partitioned(monitor: Monitor, events: list[Event], inputs: int, stages: int, rng: random.Random) -> list[Any]:
    roles = list(FEEDS)
    origins = {name: [] for name in (INCIDENTS, CRIMES, OFFENDERS)}
    for role in roles:
        for name in FEEDS[role]:
            origins[name] += [f"{role}/{p}" for p in range(inputs)]
    origins[OFFENDERS] += [f"{CRIME_STAGE}/{p}" for p in range(stages)]
    states = {name: [monitor.stages[name].new_state(tuple(origins[name])) for _ in range(stages)] for name in origins}
    inbox = {(name, p): deque() for name in origins for p in range(stages)}
    queues = {f"{role}/{p}": deque() for role in roles for p in range(inputs)}
    for event in events:
        role = TOPIC_FOR_TYPE[event.type]
        key = event.to_dict()["payload"][KEY_FIELD[role]]
        queues[f"{role}/{_partition(key, inputs)}"].append(event)
    last = max(e.at for e in events)
    for queue in queues.values():
        queue.append(("end", last))
    lows: dict[str, int] = {}
    crime_sent: dict[int, int] = {}
    found: list[Event] = []

    def broadcast(name: str, origin: str, low: int) -> None:
        for p in range(stages):
            inbox[(name, p)].append(("progress", origin, low))

    def route(origin: str) -> None:
        item = queues[origin].popleft()
        fed = FEEDS[origin.split("/")[0]]
        if isinstance(item, tuple):  # the publisher's history.ended
            for name in fed:
                broadcast(name, origin, item[1] + 1)
            return
        for name in ROUTES[item.type]:
            key = monitor.stages[name].logic.key(item)
            if key is not None:  # as the route: a stage that keys no case of it is not sent it
                inbox[(name, _partition(key, stages))].append(("event", origin, item))
        low = item.at - monitor.config.allowed_lateness_ms
        if low > lows.get(origin, NEVER):
            lows[origin] = low
            if rng.random() < 0.2:
                for name in fed:
                    broadcast(name, origin, low)

    def work(name: str, p: int) -> None:
        item = inbox[(name, p)].popleft()
        stage, state = monitor.stages[name], states[name][p]
        if item[0] == "progress":
            step = stage.progress(state, item[1], item[2])
        else:
            step = stage.process(state, item[2], item[1])
            assert step.rejected != "late", (name, item[2].event_id)
        found.extend(step.findings)
        for forward in step.forwards:
            key = forward.key
            inbox[(OFFENDERS, _partition(key, stages))].append(("event", f"{CRIME_STAGE}/{p}", forward.event))
        if name == CRIMES:
            wm = state.clock.watermark
            if crime_sent.get(p) != wm and (rng.random() < 0.3 or not inbox[(name, p)]):
                crime_sent[p] = wm
                broadcast(OFFENDERS, f"{CRIME_STAGE}/{p}", wm)

    while True:
        ready = [("route", o) for o, q in queues.items() if q] + [("work", k) for k, q in inbox.items() if q]
        if not ready:
            break
        kind, which = rng.choice(ready)
        if kind == "route":
            route(which)
        else:
            work(*which)
    return sorted((f.to_dict() for f in found), key=lambda r: (r["event_id"], r["type"]))
