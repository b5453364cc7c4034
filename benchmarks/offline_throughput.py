"""Offline throughput of the core: `cdi backtest` over a simulated history, events per second.

python benchmarks/offline_throughput.py [--days 30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from cdi import backtest
from cdi.history import write_events
from cdi.simulation import SimulationOptions, simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sim = simulate(SimulationOptions(days=args.days, seed=1))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.jsonl.gz"
        write_events(path, sim.events)
        rates = []
        for n in range(args.repeat):
            started = time.perf_counter()
            result = backtest.run(path)
            seconds = time.perf_counter() - started
            rates.append(result.lines / seconds)
            print(
                f"run {n + 1}: {result.lines:,} lines in {seconds:.2f} s = {rates[-1]:,.0f} events/s, "
                f"{len(result.findings):,} findings"
            )
        tracemalloc.start()
        backtest.run(path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(
        f"median {statistics.median(rates):,.0f} events/s over {args.repeat} runs "
        f"({args.days} days, {len(sim.events):,} lines); peak traced memory {peak / 2**20:.0f} MiB"
    )


if __name__ == "__main__":
    main()
