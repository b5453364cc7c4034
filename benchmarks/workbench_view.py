"""The case workbench's view: how fast it applies topic records to its database, and how many
bytes a stored event takes, over a simulated history.

    python benchmarks/workbench_view.py [--days 30] [--database-url URL] [--batch 2000]

Records go straight to ``CaseStore.apply`` in batches as the feed would hand them over (one
transaction per batch, offsets included); no broker, so this measures the database side alone.
Without ``--database-url`` an SQLite file in a temporary folder is used.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import orjson
import sqlalchemy as sa

from cdi import backtest, reference
from cdi.history import write_events
from cdi.simulation import SimulationOptions, simulate
from cdi.topics import TOPIC_FOR_TYPE
from cdi.workbench.queries import Filters
from cdi.workbench.store import CaseStore, FeedRecord
from cdi.workbench.timeline import Narrator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="cdi-bench-workbench-"))
    print(f"simulating {args.days} days ...", flush=True)
    sim = simulate(SimulationOptions(days=args.days, seed=args.seed))
    history = folder / "history.jsonl"
    write_events(history, sim.events)
    found = backtest.run(history).findings
    records = [
        FeedRecord(TOPIC_FOR_TYPE[e["type"]], f"bench.{TOPIC_FOR_TYPE[e['type']]}", 0, n, orjson.dumps(e))
        for n, e in enumerate(sim.events)
        if e["type"] in TOPIC_FOR_TYPE
    ]
    records += [FeedRecord("findings", "bench.findings", 0, n, orjson.dumps(f.to_dict())) for n, f in enumerate(found)]
    url = args.database_url or f"sqlite:///{folder / 'cases.db'}"
    store = CaseStore(url, "bench", Narrator(reference.load()))
    store.migrate()
    print(f"applying {len(records):,} records ({len(found):,} findings) to {store.describe()} ...", flush=True)
    started = time.perf_counter()
    for n in range(0, len(records), args.batch):
        store.apply(records[n : n + args.batch])
        if (n // args.batch) % 25 == 0:
            print(f"  {n + args.batch:,} / {len(records):,}", flush=True)
    seconds = time.perf_counter() - started
    print(f"applied {len(records):,} records in {seconds:.1f} s: {len(records) / seconds:,.0f} records/s")
    if url.startswith("sqlite"):
        store.close()  # the last connection to close checkpoints the write-ahead log into the file
        size = Path(url.removeprefix("sqlite:///")).stat().st_size
        print(f"database file: {size / 1e6:.1f} MB, {size / len(records):.0f} bytes per record")
    else:
        with store.engine.connect() as conn:
            size = conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar() or 0
        print(f"database: {size / 1e6:.1f} MB (including PostgreSQL's own catalogue)")
    started = time.perf_counter()
    some = [i["finding_id"] for i in store.list_findings(Filters(), 50, None)[0]]
    for fid in some:
        store.finding(fid)
    print(f"list of 50 and their 50 timelines: {1000 * (time.perf_counter() - started):.0f} ms")


if __name__ == "__main__":
    main()
