"""Decisions waiting for the watermark: kept on a case as sorted [event time, event id, event]
rows, judged in event-time order. The events stay typed while the case lives; a saved case holds
their wire form (``saved``, ``restored``), so nothing is re-parsed on the way through."""

from __future__ import annotations

from bisect import insort
from typing import Any

from cdi.core.events import Event

Pending = list[list[Any]]


def _order(row: list[Any]) -> tuple[int, str]:
    return row[0], row[1]


def hold(pending: Pending, event: Event) -> None:
    # After any row of the same time and id, as appending and a stable sort would put it.
    insort(pending, [event.at, event.event_id, event], key=_order)


def due(pending: Pending, kind: int) -> tuple[tuple[int, int], ...]:
    return tuple(sorted({(row[0], kind) for row in pending}))


def release(pending: Pending, at: int) -> tuple[list[Event], Pending]:
    """The decisions taken at ``at`` (in event-id order), and those still waiting."""
    return [row[2] for row in pending if row[0] == at], [row for row in pending if row[0] != at]


def saved(pending: Pending) -> list[list[Any]]:
    """The rows as a case record holds them: each event in its wire form."""
    return [[at, event_id, event.to_dict()] for at, event_id, event in pending]


def restored(rows: list[list[Any]]) -> Pending:
    """The rows of a saved case record, with their events typed again."""
    return [[at, event_id, Event.from_dict(record)] for at, event_id, record in rows]
