"""Per-partition core state inside the worker, backed by a changelogged Faust table.

The core reads and writes a plain dict of cases; this module remembers which keys changed while
an event was processed and writes just those to the table afterwards (a changelog record each),
after the event's findings were delivered. A crash in between re-delivers the event: its
findings go out again under the same ids (at-least-once), and nothing is lost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

import orjson

from cdi.core.stage import PartitionState, Stage

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
        self.table = table
        self.origins = origins
        self.vet_clock = vet_clock  # False refuses a saved clock: the state starts with a fresh one
        self.states: dict[int, PartitionState] = {}
        # Stores without per-partition access: the table's entries, read once after a rebalance
        # and bucketed by their partition, waiting for the partition's first event.
        self.unread: dict[int, list[tuple[bytes, dict[str, Any]]]] | None = None

    def reset(self) -> None:
        """After a rebalance: forget everything; owned partitions are rebuilt from the table."""
        self.states.clear()
        self.unread = None

    def get(self, partition: int) -> PartitionState:
        state = self.states.get(partition)
        if state is None:
            state = self.states[partition] = self._load(partition)
        return state

    def _entries(self, partition: int) -> Iterable[tuple[bytes, dict[str, Any]]]:
        """The table's entries for ``partition``. RocksDB keeps one database per partition: read
        just that one. Other stores (memory) are read once per rebalance for every partition."""
        store = getattr(self.table, "data", None)
        if hasattr(store, "_db_for_partition") and hasattr(store, "_visible_items"):
            db = store._db_for_partition(partition)
            return ((key, orjson.loads(raw)) for key, raw in store._visible_items(db))
        if self.unread is None:
            self.unread = defaultdict(list)
            for key, raw in self.table.items():
                value = orjson.loads(raw)
                self.unread[value["p"]].append((key, value))
        return self.unread.pop(partition, [])

    def _load(self, partition: int) -> PartitionState:
        cases = TrackedCases()
        clock: dict[str, Any] | None = None
        for key, value in self._entries(partition):
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

    def save(self, partition: int, state: PartitionState, *, clock: bool = False) -> None:
        """Write the changed cases of ``state`` (and its clock if asked) to the table. Call inside
        the stream iteration of an event from ``partition``: Faust sends changelog records to that
        partition. The state is passed in, not looked up: a rebalance completing while the event
        was in flight may have reset the lookup, and the event's changes must still be saved."""
        cases = state.cases
        assert isinstance(cases, TrackedCases)
        dirty = cases.take_dirty()
        try:
            while dirty:
                key = next(iter(dirty))
                case = cases.get(key)
                if case is None:
                    self.table.pop(key.encode(), None)
                else:
                    self.table[key.encode()] = orjson.dumps({"p": partition, "case": case.to_dict()})
                dirty.discard(key)
        except BaseException:  # a write Faust refused: keep what is unsaved for the retry
            cases.dirty |= dirty
            raise
        if clock:
            self.table[CLOCK_PREFIX + str(partition).encode()] = orjson.dumps(
                {"p": partition, "clock": state.clock.to_dict()}
            )

    def owned(self) -> Iterator[PartitionState]:
        return iter(list(self.states.values()))
