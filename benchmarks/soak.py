"""Soak: a year of simulated events through one worker at full speed, with its memory over time.

A simulated force (the simulator's defaults, seed 1) from ``--start`` (default 2025-12-01, so a
year ends on 2026-12-01 and no event is in the future) is published to a Kafka broker while one
worker, configured as deployed (RocksDB store, event clock, default progress and session
settings), drains it as fast as it can. Every ``--every`` seconds the worker's resident memory
(VmRSS from /proc, and its peak VmHWM), the events it has counted (applied plus duplicates), its
open incident cases, its event-time watermark and the size of its RocksDB folder are written to a
CSV. The summary gives memory at 10, 25, 50, 75 and 100% of the events, and calls it flat after
warm-up when the second half of the run stays within 10% (``--summarize CSV`` prints it again).

It is a benchmark, not a test: nothing is asserted. Record the git commit and the time it ran at;
state retention changes move these figures.

    python benchmarks/soak.py [--days 365] [--start 2025-12-01] [--store rocksdb] [--out soak.csv]
    # CDI_KAFKA_BOOTSTRAP, else Kafka 4 from Maven (tests/brokers/kafka_maven.py)
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.stream.worker_process import WorkerProcess, isolated_settings

from cdi.publish import Published, publish
from cdi.settings import Settings
from cdi.simulation import SimulationOptions, simulate
from cdi.topics import ensure_topics

FIELDS = (
    "elapsed_s",
    "events_counted",
    "rss_mib",
    "peak_rss_mib",
    "open_cases",
    "watermark",
    "store_mib",
)


@dataclass(slots=True)
class Sample:
    elapsed_s: float
    events_counted: int
    rss_mib: float
    peak_rss_mib: float
    open_cases: int
    watermark: str
    store_mib: float


def proc_memory(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MiB, from /proc (psutil is not a dependency)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024  # kB
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def folder_mib(path: Path) -> float:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):  # RocksDB removes files while we walk
                total += (Path(root) / name).stat().st_size
    return total / 2**20


def git_state() -> str:
    here = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (f" + uncommitted changes in {len(dirty.splitlines())} files" if dirty else "")


def summary(samples: list[Sample], published: int, seconds: float) -> list[str]:
    """Memory at each quarter of the events, and whether it is flat after warm-up."""
    if not samples:
        return ["no samples"]
    last = samples[-1]
    lines = [
        f"{last.events_counted:,} of {published:,} events counted in {seconds:,.0f} s "
        f"({last.events_counted / max(last.elapsed_s, 1e-9):,.0f} events/s overall); "
        f"peak RSS {max(s.peak_rss_mib for s in samples):,.0f} MiB; RocksDB folder {last.store_mib:,.0f} MiB at the end"
    ]
    quarters = []
    for q in (0.1, 0.25, 0.5, 0.75, 1.0):
        at = next((s for s in samples if s.events_counted >= q * published), last)
        quarters.append(at)
        lines.append(
            f"  {q:>4.0%} of events (watermark {at.watermark[:10]}): RSS {at.rss_mib:,.0f} MiB, "
            f"{at.open_cases:,} open incident cases, RocksDB {at.store_mib:,.0f} MiB"
        )
    # Warm-up: the first half. State fills up until retention starts to drop cases (incidents after
    # 35 days, crimes after a final outcome or a year); offenders are kept three years.
    after = [s.rss_mib for s in samples if s.events_counted >= 0.5 * published]
    if after:
        growth = (quarters[-1].rss_mib - quarters[2].rss_mib) / max(quarters[2].rss_mib, 1e-9)
        verdict = "flat" if abs(growth) <= 0.10 else ("growing" if growth > 0 else "shrinking")
        lines.append(
            f"  after warm-up (50% to 100% of events): RSS {min(after):,.0f}-{max(after):,.0f} MiB, "
            f"{growth:+.0%} from 50% to the end: {verdict} (flat = within 10%)"
        )
    return lines


def soak(bootstrap: str, args: argparse.Namespace) -> None:
    started_at = datetime.now(UTC)
    state = git_state()
    options = SimulationOptions(days=args.days, seed=args.seed, start=args.start)
    t0 = time.monotonic()
    lines = [orjson.dumps(e) for e in simulate(options).events]
    print(
        f"simulated {args.days} days from {args.start:%Y-%m-%d}: {len(lines):,} events in {time.monotonic() - t0:.0f} s"
    )
    # The worker's own defaults for progress and the group session, not the tests' faster ones.
    defaults = Settings()
    settings = isolated_settings(
        bootstrap,
        store=args.store,
        progress_interval=defaults.progress_interval,
        session_timeout=defaults.session_timeout,
        heartbeat_interval=defaults.heartbeat_interval,
    )
    ensure_topics(settings)
    worker = WorkerProcess(settings)
    worker.start()
    assert worker.process is not None
    pid = worker.process.pid
    result: list[Published] = []
    publisher = threading.Thread(target=lambda: result.append(publish(settings, lines)), daemon=True)
    began = time.monotonic()
    publisher.start()
    samples: list[Sample] = []
    out = Path(args.out)
    try:
        with out.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(FIELDS)
            while True:
                metrics = worker.metrics()
                counted = sum(
                    v
                    for k, v in metrics.items()
                    if k.startswith(("cdi_events_consumed_total", "cdi_events_duplicate_total"))
                )
                rss, peak = proc_memory(pid)
                watermark = sum(v for k, v in metrics.items() if k.startswith("cdi_watermark_timestamp_seconds"))
                sample = Sample(
                    elapsed_s=round(time.monotonic() - began, 1),
                    events_counted=int(counted),
                    rss_mib=round(rss, 1),
                    peak_rss_mib=round(peak, 1),
                    open_cases=int(sum(v for k, v in metrics.items() if k.startswith("cdi_open_cases"))),
                    watermark=datetime.fromtimestamp(watermark, UTC).isoformat() if watermark > 0 else "",
                    store_mib=round(folder_mib(worker.settings.data_dir), 1),
                )
                samples.append(sample)
                writer.writerow([getattr(sample, f) for f in FIELDS])
                fh.flush()
                print(
                    f"{sample.elapsed_s:7.0f} s  {sample.events_counted:>9,} events  RSS {sample.rss_mib:7.1f} MiB  "
                    f"open {sample.open_cases:>6,}  watermark {sample.watermark[:10]}",
                    flush=True,
                )
                if result and counted >= result[0].events:
                    break
                if worker.process.poll() is not None:
                    print(f"the worker exited:\n{worker.log()[-3000:]}")
                    break
                if time.monotonic() - began > args.limit:
                    print(f"stopped after --limit {args.limit:.0f} s")
                    break
                time.sleep(args.every)
    finally:
        worker.stop()
    published = result[0].events if result else len(lines)
    text = summary(samples, published, time.monotonic() - began)
    header = (
        f"soak at {state}, started {started_at:%Y-%m-%d %H:%M} UTC: {args.days} days from {args.start:%Y-%m-%d}, "
        f"store {args.store}, samples every {args.every:.0f} s in {out}"
    )
    print("\n".join([header, *text]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument(
        "--start",
        type=lambda s: datetime.fromisoformat(s).replace(tzinfo=UTC),
        default=datetime(2025, 12, 1, tzinfo=UTC),
        help="first simulated day (UTC); keep start + days at or before today",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--store", choices=["memory", "rocksdb"], default="rocksdb")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--limit", type=float, default=3600.0, help="stop sampling after this many seconds")
    parser.add_argument("--out", default="soak.csv")
    parser.add_argument("--summarize", metavar="CSV", help="only print the summary of an earlier run's CSV")
    args = parser.parse_args()
    if args.summarize:
        with open(args.summarize, newline="") as fh:
            rows = list(csv.DictReader(fh))
        samples = [
            Sample(
                elapsed_s=float(r["elapsed_s"]),
                events_counted=int(r["events_counted"]),
                rss_mib=float(r["rss_mib"]),
                peak_rss_mib=float(r["peak_rss_mib"]),
                open_cases=int(r["open_cases"]),
                watermark=r["watermark"],
                store_mib=float(r["store_mib"]),
            )
            for r in rows
        ]
        print("\n".join(summary(samples, samples[-1].events_counted, samples[-1].elapsed_s)))
        return
    bootstrap = os.environ.get("CDI_KAFKA_BOOTSTRAP")
    if bootstrap:
        soak(bootstrap, args)
        return
    from tests.brokers.kafka_maven import KafkaBroker

    # A year of input, internal and changelog records: give the broker more heap than the tests do.
    with KafkaBroker(heap="1g") as broker:
        soak(broker.bootstrap, args)


if __name__ == "__main__":
    main()
