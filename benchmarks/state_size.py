"""Stored state per case: the bytes a worker writes to its changelogged table for each case (key
plus value, serialised by ``cdi.stream.partitions``), per stage, over a simulated history.

    python benchmarks/state_size.py [--days 30] [--every 5]

The history runs through the offline pipeline (the same core the worker runs per partition).
Every ``--every`` days of event time and at the end (before the history's end marker, as a live
worker would hold it) each stage's cases are written to a table through ``PartitionStates.write``
and measured. Incident cases are split into open (awaiting their recording check) and the rest;
offender cases into named offenders and disposals with no offender (``crime:`` keys).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

import orjson

from cdi import reference, rules
from cdi.contracts import Contracts
from cdi.core.pipeline import CRIMES, INCIDENTS, OFFENDERS, Monitor, OfflineRun
from cdi.core.stage import PartitionState
from cdi.core.times import MS_PER_DAY, format_time
from cdi.simulation import SimulationOptions, simulate
from cdi.stream.partitions import PartitionStates, TrackedCases


def stored(monitor: Monitor, name: str, state: PartitionState) -> dict[str, int]:
    """Bytes per case key as ``PartitionStates.write`` writes them (partition 0)."""
    table: dict[bytes, bytes] = {}
    cases = TrackedCases(state.cases)
    cases.dirty = set(cases)
    PartitionStates(monitor.stages[name], table, ()).write(0, PartitionState(cases=cases, clock=state.clock))
    return {key.decode(): len(key) + len(value) for key, value in table.items()}


def groups(monitor: Monitor, run: OfflineRun) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    incidents = run.states[INCIDENTS]
    logic = monitor.stages[INCIDENTS].logic
    for key, size in stored(monitor, INCIDENTS, incidents).items():
        kind = "incident (open)" if logic.is_open(incidents.cases[key]) else "incident (closed or judged)"
        out.setdefault(kind, []).append(size)
    crimes = run.states[CRIMES]
    for key, size in stored(monitor, CRIMES, crimes).items():
        kind = "crime (final decision)" if crimes.cases[key].final_at is not None else "crime (no final decision)"
        out.setdefault(kind, []).append(size)
    for key, size in stored(monitor, OFFENDERS, run.states[OFFENDERS]).items():
        kind = "offender (no offender ref)" if key.startswith("crime:") else "offender"
        out.setdefault(kind, []).append(size)
    return out


def summary(sizes: list[int]) -> str:
    ordered = sorted(sizes)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{len(sizes):>7,} cases  mean {statistics.fmean(sizes):>6,.0f} B  median {statistics.median(sizes):>6,.0f} B"
        f"  p99 {p99:>6,} B  max {ordered[-1]:>7,} B  total {sum(sizes) / 2**20:>6.2f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--every", type=int, default=5, help="sample every N days of event time")
    args = parser.parse_args()
    contracts = Contracts()
    monitor = Monitor(rules.load(contracts=contracts), reference.load())
    sim = simulate(SimulationOptions(days=args.days, seed=1))
    events = [contracts.parse(record) for record in sim.events]
    run = OfflineRun.start(monitor)
    started = time.perf_counter()
    next_sample = events[0].at + args.every * MS_PER_DAY
    print(f"{args.days}-day history, seed 1: {len(events):,} events")
    print("event time                 incidents (open)   crimes   offenders   stored total")
    for event in events:
        if event.at >= next_sample:
            sample(monitor, run, event.at)
            next_sample += args.every * MS_PER_DAY
        run.process(event)
    sample(monitor, run, max(e.at for e in events))
    print(f"\nat the end of the history ({time.perf_counter() - started:.1f} s):")
    for kind, sizes in sorted(groups(monitor, run).items()):
        print(f"  {kind:<28} {summary(sizes)}")
    largest(monitor, run)
    flood(monitor, contracts)


def flood(monitor: Monitor, contracts: Contracts, snapshots: int = 30, disposals: int = 500) -> None:
    """The issue's oversized history: one offender, 30 schema-valid snapshots of 500 disposals
    each (dated within the last two years, so none is too old to keep), a minute apart and an
    hour apart. Reports the largest stored offender record and the snapshots rejected."""
    from datetime import date, timedelta

    base = 1_772_409_600_000  # 2026-03-02
    listed = [
        {
            "disposal": "conviction",
            "offence_group": "theft",
            "hocr_code": "46",
            "disposed_on": (date(2026, 3, 1) - timedelta(days=n)).isoformat(),
        }
        for n in range(disposals)
    ]
    for gap_ms, label in ((60_000, "a minute"), (3_600_000, "an hour")):
        run = OfflineRun.start(monitor)
        biggest, rejected = 0, Counter()
        for n in range(snapshots):
            at = base + n * gap_ms
            for record in (
                {
                    "event_id": f"snap-{n}",
                    "type": "offender.history",
                    "schema_version": 1,
                    "occurred_at": format_time(at),
                    "force": "F",
                    "division": "D",
                    "payload": {"offender_ref": "PR-0000f100d", "disposals": listed},
                },
                {  # the crime stage moves too, so the offender stage's watermark can
                    "event_id": f"tick-{n}",
                    "type": "crime.recorded",
                    "schema_version": 1,
                    "occurred_at": format_time(at),
                    "force": "F",
                    "division": "D",
                    "payload": {"crime_id": f"T{n}", "incident_id": None, "hocr_code": "49", "offence_group": "theft"},
                },
            ):
                step = run.process(contracts.parse(record))
                rejected[step.rejected] += record["type"] == "offender.history"
            biggest = max(biggest, *stored(monitor, OFFENDERS, run.states[OFFENDERS]).values())
        print(
            f"  {snapshots} snapshots of {disposals} disposals {label} apart: largest stored offender record "
            f"{biggest:,} B; snapshots rejected as too large: {rejected.get('case_too_large', 0)}"
        )
    # Cautions for 600 different crimes of one offender within five minutes: each crime takes
    # one, the offender case holds every disposal pending until the watermark passes them.
    run = OfflineRun.start(monitor)
    for n in range(600):
        for kind, payload in (
            ("crime.recorded", {"crime_id": f"K{n}", "incident_id": None, "hocr_code": "49", "offence_group": "theft"}),
            (
                "outcome.assigned",
                {
                    "crime_id": f"K{n}",
                    "outcome_type": 3,
                    "offender_ref": "PR-0000f100d",
                    "offender_age": 30,
                    "decision_maker_rank": "sergeant",
                    "exceptional_circumstances": False,
                    "dpp_consent": False,
                    "penalty_value": None,
                    "domestic_abuse": False,
                },
            ),
        ):
            record = {
                "event_id": f"{kind}-{n}",
                "type": kind,
                "schema_version": 1,
                "occurred_at": format_time(base + n * 500),
                "force": "F",
                "division": "D",
                "payload": payload,
            }
            run.process(contracts.parse(record))
    tick = {  # the crime stage's watermark passes the cautions: it judges them and forwards the disposals
        "event_id": "tick-end",
        "type": "crime.recorded",
        "schema_version": 1,
        "occurred_at": format_time(base + 20 * 60_000),
        "force": "F",
        "division": "D",
        "payload": {"crime_id": "K-end", "incident_id": None, "hocr_code": "49", "offence_group": "theft"},
    }
    run.process(contracts.parse(tick))
    case = run.states[OFFENDERS].cases["PR-0000f100d"]
    size = stored(monitor, OFFENDERS, run.states[OFFENDERS])["PR-0000f100d"]
    print(
        f"  600 cautions of one offender within five minutes: {len(case.seen)} applied, stored record {size:,} B "
        f"({size // len(case.seen):,} B per pending disposal)"
    )


def sample(monitor: Monitor, run: OfflineRun, at: int) -> None:
    found = groups(monitor, run)
    total = sum(sum(s) for s in found.values())
    open_incidents = len(found.get("incident (open)", []))
    print(
        f"{format_time(at)[:16]:<26} {len(run.states[INCIDENTS].cases):>7,} ({open_incidents:>4,})"
        f" {len(run.states[CRIMES].cases):>8,} {len(run.states[OFFENDERS].cases):>11,}"
        f" {total / 2**20:>11.2f} MiB"
    )


def largest(monitor: Monitor, run: OfflineRun) -> None:
    """What the biggest case of each stage holds, field by field (serialised bytes)."""
    for name in (INCIDENTS, CRIMES, OFFENDERS):
        state = run.states[name]
        sizes = stored(monitor, name, state)
        key = max(sizes, key=sizes.__getitem__)
        fields = state.cases[key].to_dict()
        parts: Iterable[tuple[str, Any]] = sorted(fields.items(), key=lambda kv: -len(orjson.dumps(kv[1])))
        listing = ", ".join(f"{field} {len(orjson.dumps(value))}" for field, value in list(parts)[:4])
        print(f"  largest {name} case: {sizes[key]:,} B ({listing})")


if __name__ == "__main__":
    main()
