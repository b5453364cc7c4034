"""Restoring one stage partition's state after a restart: ``N`` open incident cases in a RocksDB
store, read back into the core's typed cases with their agenda and open-case counts.

    python benchmarks/restore.py [--cases 1000000] [--other 200000]

With ``CDI_STORE=rocksdb`` a worker that stopped cleanly keeps its local table files, so a
restart does not replay the changelog: it reads the partition's database (one per partition,
cdi.stream.case_store) when the partition's first record arrives. This measures that read, the
part of a restore the worker itself does: the cases are written as the worker writes them (an
open, crime-indicative incident awaiting its recording decision, from the simulator), ``--other``
more cases go to another partition to show they are not read, and the partition is then loaded
through ``PartitionStates.get``. Faust's replay of a changelog into an empty store (after a crash,
or on a new machine) comes on top and is bounded by the broker's read rate.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import faust
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.drain import say
from cdi import reference, rules
from cdi.contracts import Contracts
from cdi.core.pipeline import INCIDENTS, Monitor, OfflineRun
from cdi.simulation import SimulationOptions, simulate
from cdi.stream.partitions import PartitionStates


def open_case(monitor: Monitor) -> dict:
    """An open incident case (crime-indicative, awaiting its recording decision) as the worker stores it."""
    contracts = Contracts()
    run = OfflineRun.start(monitor)
    logic = monitor.stages[INCIDENTS].logic
    for record in simulate(SimulationOptions(days=1, seed=1)).events:
        run.process(contracts.parse(record))
        for case in run.states[INCIDENTS].cases.values():
            if logic.is_open(case):
                return case.to_dict()
    raise SystemExit("no open case in a simulated day")


def fill(db: object, template: dict, partition: int, count: int, prefix: str) -> None:
    put = db.put  # type: ignore[attr-defined]
    for n in range(count):
        key = f"{prefix}{n:08d}"
        case = {**template, "key": key, "incident_id": key}
        put(key.encode(), orjson.dumps({"p": partition, "case": case}))
        if n and n % 200_000 == 0:
            say(f"  wrote {n:,} cases to partition {partition}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000, help="open cases in the partition restored")
    parser.add_argument("--other", type=int, default=200_000, help="cases in another partition (not read)")
    args = parser.parse_args()
    monitor = Monitor(rules.load(), reference.load())
    stage = monitor.stages[INCIDENTS]
    template = open_case(monitor)
    with tempfile.TemporaryDirectory(prefix="cdi-restore-") as folder:
        app = faust.App("cdi-restore-bench", store="rocksdb://", datadir=folder, broker="kafka://localhost:1")
        table = app.Table("incidents", default=None, key_type=bytes, value_type=bytes, partitions=4)
        store = table.data
        say(f"writing {args.cases:,} open cases to partition 0 and {args.other:,} to partition 1")
        started = time.perf_counter()
        fill(store._db_for_partition(0), template, 0, args.cases, "INC-")
        fill(store._db_for_partition(1), template, 1, args.other, "OTHER-")
        say(f"  written in {time.perf_counter() - started:.1f} s")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        state = PartitionStates(stage, table, ("incidents/0", "crimes/0")).get(0)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    opened = sum(state.awaiting.values())
    assert len(state.cases) == args.cases and opened == args.cases, (len(state.cases), opened)
    assert not any(key.startswith("OTHER-") for key in state.cases)
    print(
        f"restored partition 0: {len(state.cases):,} cases ({opened:,} open), agenda rebuilt, in {seconds:.1f} s "
        f"= {len(state.cases) / seconds:,.0f} cases/s; peak memory grew by {(after - before) / 2**20:,.2f} GiB; "
        f"none of partition 1's {args.other:,}"
    )


if __name__ == "__main__":
    main()
