"""The history extract: event envelopes and the order events reach the file.

Real feeds merge systems (command and control, crime recording) that deliver with small delays
and occasionally resend. The extract reproduces that: file order is event-time order except that
some events arrive up to ``disorder_minutes`` late, and some are written twice.
"""

from __future__ import annotations

import random
from typing import Any

from cdi.core.times import format_time
from cdi.simulation.options import SimulationOptions

Event = dict[str, Any]
TimedEvent = tuple[int, Event]  # (occurred_at in epoch ms, event)


def envelope(event_id: str, kind: str, at_ms: int, force: str, division: str, payload: dict[str, Any]) -> TimedEvent:
    """An event in the contract's key order (schemas/common.v1.json envelope)."""
    event = {
        "event_id": event_id,
        "type": kind,
        "schema_version": 1,
        "occurred_at": format_time(at_ms),
        "force": force,
        "division": division,
        "payload": payload,
    }
    return at_ms, event


def file_order(
    rng: random.Random, timed: list[TimedEvent], options: SimulationOptions, pinned: dict[str, int] | None = None
) -> list[Event]:
    """Events in file order with local disorder and duplicates.

    Each event gets an arrival time ``occurred + delay`` with ``0 <= delay < disorder`` (most get
    0) and the file is sorted by arrival. A line placed after another therefore has
    ``occurred > other.occurred - disorder``: strictly inside the monitor's allowed lateness. A
    duplicate is the same event arriving again no earlier than the original and with a delay
    still below ``disorder``, so it also keeps the bound and always follows the original.
    ``pinned`` fixes some events' delays (event id -> delay, each below ``disorder``) so that a
    chosen event arrives after a later one.
    """
    max_delay = max(options.disorder_ms - 1, 0)
    pinned = pinned or {}
    if any(not 0 <= fixed <= max_delay for fixed in pinned.values()):
        raise ValueError("pinned delays must stay below disorder_minutes")
    keyed: list[tuple[int, int, int, Event]] = []
    copies: list[tuple[int, int, Event]] = []
    for at_ms, event in timed:
        if event["event_id"] in pinned:
            delay = pinned[event["event_id"]]
        else:
            delay = rng.randint(1, max_delay) if max_delay and rng.random() < options.disorder_share else 0
        keyed.append((at_ms + delay, at_ms, len(keyed), event))
        if rng.random() < options.duplicate_rate:
            copies.append((at_ms + rng.randint(delay, max_delay), at_ms, event))
    # Copies sort after every original with the same arrival and event time.
    base = len(keyed)
    keyed.extend((arrival, at_ms, base + n, event) for n, (arrival, at_ms, event) in enumerate(copies))
    keyed.sort(key=lambda item: item[:3])
    return [item[3] for item in keyed]
