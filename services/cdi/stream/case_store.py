"""Where a stage's case records live inside the worker: its Faust table's local store and the
table's changelog topic, addressed by partition.

Faust's own ``table[key] = value`` takes the partition from the event being processed, so it
can only be called inside a stream iteration, once per change. The worker instead writes the
cases an event batch changed when Faust flushes before a commit (``cdi.stream.app``): one
record per changed case per partition per flush, with the partition given explicitly. Reading
back after a rebalance goes one partition at a time where the store allows it (RocksDB).

A plain mapping stands in for a table in tests and benchmarks: it is written to directly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, MutableMapping
from functools import cached_property
from typing import Any

import orjson


class CaseStore:
    def __init__(self, table: MutableMapping[bytes, bytes]) -> None:
        self.table = table
        self.changelogged = hasattr(table, "send_changelog")
        # Stores without per-partition access: the table's entries, read once after a rebalance
        # and bucketed by their partition, waiting for the partition's first event.
        self.unread: dict[int, list[tuple[bytes, dict[str, Any]]]] | None = None

    def forget(self) -> None:
        """After a rebalance: the next read starts from the table again."""
        self.unread = None

    def entries(self, partition: int) -> Iterable[tuple[bytes, dict[str, Any]]]:
        """The table's entries for ``partition``. RocksDB keeps one database per partition: read
        just that one. Other stores (memory) are read once per rebalance for every partition."""
        store = self._rocksdb
        if store is not None:
            db = store._db_for_partition(partition)
            return ((key, orjson.loads(raw)) for key, raw in store._visible_items(db))
        if self.unread is None:
            self.unread = defaultdict(list)
            for key, raw in self.table.items():
                value = orjson.loads(raw)
                self.unread[value["p"]].append((key, value))
        return self.unread.pop(partition, [])

    def put(self, partition: int, key: bytes, value: bytes | None) -> None:
        """Set (or, with None, delete) ``key`` in ``partition``: in the local store, then on the
        changelog. The changelog record goes into Faust's producer buffer, which the flush that
        called this drains before offsets are committed."""
        if not self.changelogged:
            if value is None:
                self.table.pop(key, None)
            else:
                self.table[key] = value
            return
        rocksdb = self._rocksdb
        if rocksdb is not None:
            db = rocksdb._db_for_partition(partition)
            if value is None:
                db.delete(key)
                rocksdb._key_index.pop(key, None)
            else:
                db.put(key, value)
                rocksdb._key_index[key] = partition
        else:  # Faust's memory store: a dict, and the partition of each key for its recovery
            memory = self.table.data  # type: ignore[attr-defined]
            if value is None:
                memory.data.pop(key, None)
                memory._key_partition.pop(key, None)
            else:
                memory.data[key] = value
                memory._key_partition[key] = partition
        if value is None:
            self.table.send_changelog(partition, key, None, value_serializer="raw")  # type: ignore[attr-defined]
        else:
            self.table.send_changelog(partition, key, value)  # type: ignore[attr-defined]

    @cached_property
    def _rocksdb(self) -> Any:
        """The table's RocksDB store, else None; looked up once (Faust keeps one store per table)."""
        store = getattr(self.table, "data", None)
        if hasattr(store, "_db_for_partition") and hasattr(store, "_visible_items"):
            return store
        return None
