"""Decisions waiting for the watermark: kept on a case as sorted [event time, event id, wire
event] rows, so they serialise with the case and are judged in event-time order."""

from __future__ import annotations

from typing import Any

from cdi.core.events import Event

Pending = list[list[Any]]


def hold(pending: Pending, event: Event) -> None:
    pending.append([event.at, event.event_id, event.to_dict()])
    pending.sort(key=lambda row: (row[0], row[1]))


def due(pending: Pending, kind: int) -> tuple[tuple[int, int], ...]:
    return tuple(sorted({(row[0], kind) for row in pending}))


def release(pending: Pending, at: int) -> tuple[list[Event], Pending]:
    """The decisions taken at ``at`` (in event-id order), and those still waiting."""
    return [Event.from_dict(row[2]) for row in pending if row[0] == at], [row for row in pending if row[0] != at]
