"""Findings and forwarded records on their way to the broker, and the rule that state is written
only after every message it led to is acknowledged.

A stage sends an event's findings and forwards without waiting for each acknowledgement: the
sends of many events are in flight together. The event's case changes stay in memory until
Faust flushes before a commit. The flush closes the gate (no stage starts another record),
waits until every message sent so far is acknowledged, writes the changed cases, and opens the
gate again (``settled``). So a case record on the changelog, which marks its events as seen, is
never there without the findings those events produced: after a crash the events are read
again and their findings sent again (at-least-once), as before.

A send the broker refuses for good fails this flush and every later one, so no offset is
committed past it; the worker stops, and a restart reads the events again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Iterable


class DeliveryFailed(RuntimeError):
    """A finding or forward the broker did not take."""


class Outbox:
    def __init__(self) -> None:
        self._open = 0  # records being handled, and handled records with sends not yet acknowledged
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._gate = asyncio.Event()
        self._gate.set()
        self._failure: BaseException | None = None

    async def enter(self) -> None:
        """Before a stage changes any state for a record: wait while a flush is writing."""
        await self._gate.wait()
        self._open += 1
        self._quiet.clear()

    def leave(self, sends: Iterable[Awaitable[object]]) -> None:
        """The record's sends are all handed to the producer: it is settled once they are
        acknowledged (at once, if it sent nothing)."""
        pending = list(sends)
        if not pending:
            self._settle_one()
            return
        gathered = asyncio.gather(*pending, return_exceptions=True)
        gathered.add_done_callback(self._acknowledged)

    def _acknowledged(self, done: asyncio.Future[list[object]]) -> None:
        # Cancelled as a whole (the loop closing), the sends count as failed, not as settled.
        results = [asyncio.CancelledError()] if done.cancelled() else done.result()
        failures = [result for result in results if isinstance(result, BaseException)]
        if failures and self._failure is None:
            self._failure = failures[0]
        self._settle_one()

    def _settle_one(self) -> None:
        self._open -= 1
        if self._open == 0:
            self._quiet.set()

    @property
    def in_flight(self) -> int:
        return self._open

    @contextlib.asynccontextmanager
    async def settled(self) -> AsyncIterator[None]:
        """Hold new records back until everything sent is acknowledged; the body then writes the
        state those sends depend on, and records flow again when it ends."""
        self._gate.clear()
        try:
            while self._open:
                await self._quiet.wait()
            if self._failure is not None:  # for good: no later flush may commit past it
                raise DeliveryFailed(f"a finding or forward was not delivered ({type(self._failure).__name__})")
            yield
        finally:
            self._gate.set()
