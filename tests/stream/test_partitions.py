"""Restoring a partition reads only what it must (no broker): a RocksDB store is read one
partition database at a time; any other store is read once per rebalance for every partition,
not once per partition."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import faust
import orjson

from cdi.core.pipeline import CRIMES
from cdi.stream.partitions import CLOCK_PREFIX, PartitionStates
from tests.core.scenario import MONITOR

STAGE = MONITOR.stages[CRIMES]


def entry(partition: int, crime: str) -> tuple[bytes, bytes]:
    case = {
        "key": crime,
        "force": "F",
        "division": "D",
        "first_at": 0,
        "recorded": None,
        "reclassified": [],
        "pending": [],
        "seen": [f"ev-{crime}"],
        "raised": [],
    }
    return crime.encode(), orjson.dumps({"p": partition, "case": case})


class CountingTable(dict[bytes, bytes]):
    """A table that counts how often it was read whole."""

    scans = 0

    def items(self) -> Iterator[tuple[bytes, bytes]]:  # type: ignore[override]
        self.scans += 1
        return iter(list(super().items()))


def test_a_store_without_partitions_is_read_once_per_rebalance():
    table = CountingTable(entry(p, f"C{p}-{n}") for p in range(4) for n in range(3))
    table[CLOCK_PREFIX + b"2"] = orjson.dumps({"p": 2, "clock": {"lows": {"x": 5}}})
    states = PartitionStates(STAGE, table, ("x",))
    for p in range(4):
        assert sorted(states.get(p).cases) == [f"C{p}-{n}" for n in range(3)]
    assert table.scans == 1
    assert states.get(2).clock.lows == {"x": 5}
    states.reset()
    assert sorted(states.get(3).cases) == ["C3-0", "C3-1", "C3-2"]
    assert states.get(0).cases.keys() == {"C0-0", "C0-1", "C0-2"}
    assert table.scans == 2
    assert states.get(7).cases == {}  # an owned partition with nothing stored yet


def test_a_rocksdb_store_is_read_one_partition_at_a_time(tmp_path: Path):
    app = faust.App("cdi-partitions-test", store="rocksdb://", datadir=str(tmp_path), broker="kafka://localhost:1")
    table = app.Table("crimes", default=None, key_type=bytes, value_type=bytes, partitions=4)
    store = table.data
    for p in (1, 2):
        db = store._db_for_partition(p)
        for n in range(2):
            db.put(*entry(p, f"C{p}-{n}"))
    states = PartitionStates(STAGE, table, ("x",))
    # The table's own iteration would yield nothing here (no partitions are assigned outside a
    # running worker): the cases can only come from the partition's database.
    assert list(table.items()) == []
    assert sorted(states.get(2).cases) == ["C2-0", "C2-1"]
    assert sorted(states.get(1).cases) == ["C1-0", "C1-1"]
    assert states.get(3).cases == {}


def test_a_case_changed_by_many_events_is_written_once_per_flush_cases_before_clock():
    """Changes collect in memory and go out once per flush: one record per changed case, and the
    clock of each touched partition after its cases."""

    class RecordingTable(dict[bytes, bytes]):
        def __init__(self) -> None:
            super().__init__()
            self.writes: list[bytes] = []

        def __setitem__(self, key: bytes, value: bytes) -> None:
            self.writes.append(key)
            super().__setitem__(key, value)

    table = RecordingTable()
    states = PartitionStates(STAGE, table, ("x",))
    state = states.get(1)
    first = STAGE.logic.load(orjson.loads(entry(1, "C1")[1])["case"])
    for _ in range(5):  # five events on one case
        state.cases["C1"] = first
    state.cases["C2"] = first
    states.note_clock(1)
    assert states.write_changes() == 3
    assert sorted(table.writes[:2]) == [b"C1", b"C2"] and table.writes[2:] == [CLOCK_PREFIX + b"1"]
    del state.cases["C2"]
    assert states.write_changes() == 1 and b"C2" not in table
    assert states.write_changes() == 0
