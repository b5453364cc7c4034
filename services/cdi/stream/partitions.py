"""Per-partition core state inside the worker, backed by a changelogged Faust table.

The core reads and writes a plain dict of cases; this module remembers which keys changed and
writes just those (a changelog record each) when ``write_changes`` is called: the worker calls it
as Faust flushes before committing offsets, once every finding and forward the changes led to is
acknowledged (``cdi.stream.outbox``). A case changed by many events between two commits is
written once. A crash before the write re-delivers the events since the last commit: their
findings go out again under the same ids (at-least-once), and nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import orjson

from cdi.core.stage import PartitionState, Stage
from cdi.stream.case_store import CaseStore

CLOCK_PREFIX = b"\x00clock/"


class TrackedCases(dict[str, Any]):
    """A dict that notes the keys set or deleted since the last ``take_dirty``."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.dirty: set[str] = set()

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.dirty.add(key)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.dirty.add(key)

    def take_dirty(self) -> set[str]:
        dirty, self.dirty = self.dirty, set()
        return dirty


class PartitionStates:
    """The states of the case-events partitions this worker owns, rebuilt from the table on demand."""

    def __init__(
        self,
        stage: Stage,
        table: MutableMapping[bytes, bytes],
        origins: tuple[str, ...],
        vet_clock: Callable[[int, dict[str, Any]], bool] | None = None,
    ) -> None:
        self.stage = stage
        self.store = CaseStore(table)
        self.origins = origins
        self.vet_clock = vet_clock  # False refuses a saved clock: the state starts with a fresh one
        self.states: dict[int, PartitionState] = {}
        self.clock_moved: set[int] = set()  # partitions whose clock is not yet written

    def reset(self) -> None:
        """After a rebalance: forget everything; owned partitions are rebuilt from the table."""
        self.states.clear()
        self.clock_moved.clear()
        self.store.forget()

    def get(self, partition: int) -> PartitionState:
        state = self.states.get(partition)
        if state is None:
            state = self.states[partition] = self._load(partition)
        return state

    def _load(self, partition: int) -> PartitionState:
        cases = TrackedCases()
        clock: dict[str, Any] | None = None
        for key, value in self.store.entries(partition):
            if value["p"] != partition:
                continue
            if key.startswith(CLOCK_PREFIX):
                clock = value["clock"]
            else:
                dict.__setitem__(cases, key.decode(), self.stage.logic.load(value["case"]))
        state = self.stage.new_state(self.origins, cases)
        if clock is not None and (self.vet_clock is None or self.vet_clock(partition, clock)):
            state.clock.restore(clock)
        return state

    def note_clock(self, partition: int) -> None:
        """The partition's clock moved: write it with the next changes."""
        self.clock_moved.add(partition)

    def write_changes(self) -> int:
        """Write every owned partition's changed cases, and its clock where it moved; return the
        number of records written."""
        written = 0
        for partition, state in list(self.states.items()):
            written += self.write(partition, state, clock=partition in self.clock_moved)
        self.clock_moved.clear()
        return written

    def write(self, partition: int, state: PartitionState, *, clock: bool = False) -> int:
        """Write the changed cases of ``state`` (and its clock if asked) to ``partition``."""
        cases = state.cases
        assert isinstance(cases, TrackedCases)
        dirty = cases.take_dirty()
        written = len(dirty)
        put = self.store.put
        try:
            while dirty:
                key = next(iter(dirty))
                case = cases.get(key)
                value = None if case is None else orjson.dumps({"p": partition, "case": case.to_dict()})
                put(partition, key.encode(), value)
                dirty.discard(key)
        except BaseException:  # a write that failed: keep what is unwritten for the next flush
            cases.dirty |= dirty
            raise
        if clock:
            value = orjson.dumps({"p": partition, "clock": state.clock.to_dict()})
            put(partition, CLOCK_PREFIX + str(partition).encode(), value)
        return written + clock

    def owned(self) -> Iterator[PartitionState]:
        return iter(list(self.states.values()))
