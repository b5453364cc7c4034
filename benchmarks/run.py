"""Every throughput figure in one go, on one broker, from one simulated history.

    python benchmarks/run.py [--days 30] [--seed 1] [--json FILE] [--markdown FILE]
    # CDI_KAFKA_BOOTSTRAP, else Apache Kafka from Maven Central jars, started as the tests start it

In sequence:

1. **offline**: ``cdi backtest`` over the history file, as a subprocess; events per second of the
   whole process by the wall clock (interpreter start and imports included).
2. **one worker**: a ``cdi worker`` subprocess in a fresh namespace, ready before the history is
   published, draining it (benchmarks/stream_throughput.py).
3. **two workers**: the same with two workers in one group, in another fresh namespace.
4. **Faust floor**: a bare Faust app with the worker's settings whose one agent only counts,
   reading the one-worker namespace's input topics (benchmarks/faust_floor.py).
5. **ceiling**: one aiokafka consumer reading those input topics as fast as it can
   (benchmarks/ceiling.py).

The stream figures count input records (the history's events and one end marker per input
partition) per second; nothing polls a worker's /metrics while it works (benchmarks/drain.py).
``kafka_messages_per_event`` is every record the one worker wrote to its namespace's topics (stage
topics, changelogs, findings, dead letters), by end offsets after the drain against before it,
divided by the input records. Writes the figures as JSON (``--json``) and a Markdown table (stdout,
and ``--markdown``). Numbers from a busy machine are not worth committing: the JSON keeps the load
average at the start.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import ceiling, faust_floor
from benchmarks.drain import say
from benchmarks.stream_throughput import run_workers
from cdi.history import write_events
from cdi.settings import Settings
from cdi.simulation import SimulationOptions, simulate

ROOT = Path(__file__).resolve().parent.parent
KEYS = (
    "offline_events_per_s",
    "stream_events_per_s",
    "faust_floor_events_per_s",
    "ceiling_events_per_s",
    "two_worker_speedup",
    "kafka_messages_per_event",
)


def worker_measure(run: Any) -> dict[str, Any]:
    """What the JSON keeps of a workers' run."""
    return {
        "records": run.records,
        "seconds": run.seconds,
        "rate": run.rate,
        "ready_s": run.ready_s,
        "written": run.written,
    }


@contextmanager
def broker() -> Iterator[tuple[str, str]]:
    """(bootstrap, description): CDI_KAFKA_BOOTSTRAP, else a Kafka broker from Maven Central jars,
    started and stopped as the test fixtures do (tests/brokers/kafka_maven.py)."""
    configured = os.environ.get("CDI_KAFKA_BOOTSTRAP", "").strip()
    if configured:
        yield configured, f"given by CDI_KAFKA_BOOTSTRAP, Kafka API {_api_version(configured)}"
        return
    from tests.brokers.kafka_maven import KafkaBroker, kafka_version

    with KafkaBroker() as started:
        yield started.bootstrap, f"Apache Kafka {kafka_version()} (KRaft, single node on loopback, Maven Central jars)"


def _api_version(bootstrap: str) -> str:
    """The broker version kafka-python infers from the API versions it offers (a lower bound)."""
    from kafka import KafkaAdminClient

    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="cdi-bench-version")
        try:
            found = admin._manager.broker_version_data.broker_version  # type: ignore[attr-defined]
            return ".".join(str(part) for part in found) + "+"
        finally:
            admin.close()
    except Exception:  # a description only: never worth failing the run for
        return "unknown"


def machine(broker_description: str) -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    memory = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.MULTILINE)

    def package(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": models[0].strip() if models else platform.processor() or "unknown",
        "memory_gib": round(int(memory.group(1)) / 2**20, 1) if memory else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "faust_streaming": package("faust-streaming"),
        "aiokafka": package("aiokafka"),
        "broker": broker_description,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "commit": commit or None,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def offline(history: Path, folder: Path) -> dict[str, Any]:
    """``cdi backtest`` as a subprocess: events per second of the whole process, wall clock."""
    out = folder / "findings.jsonl"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cdi", "backtest", str(history), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},  # one summary line, unwrapped
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"cdi backtest exited with {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    said = done.stdout + done.stderr  # the summary goes to stderr when that is not a terminal
    counted = re.search(r"([\d,]+) lines:", said)
    if counted is None:
        raise RuntimeError(f"cdi backtest did not say how many lines it read:\n{said[-2000:]}")
    lines = int(counted.group(1).replace(",", ""))
    core = re.search(r"\(([\d,]+)\s+events/s\)", said)
    findings = sum(1 for _ in out.open()) if out.exists() else 0
    say(f"  offline: {lines:,} lines, {findings:,} findings in {seconds:.2f} s = {lines / seconds:,.0f}/s")
    return {
        "records": lines,
        "seconds": seconds,
        "rate": lines / seconds,
        "findings": findings,
        # What the backtest reports of its own run, without the process's start-up.
        "core_events_per_s": float(core.group(1).replace(",", "")) if core else None,
    }


def measure(bootstrap: str, broker_description: str, days: int, seed: int) -> dict[str, Any]:
    about = machine(broker_description)
    cpus = about["cpus"] or 1
    if about["load_average_at_start"][0] > 0.5 * cpus:
        say(
            f"warning: load average {about['load_average_at_start'][0]} on {cpus} cores: "
            "something else is running, and these figures will be low"
        )
    say(f"simulating {days} days (seed {seed})")
    sim = simulate(SimulationOptions(days=days, seed=seed))
    lines = [orjson.dumps(event) for event in sim.events]
    measures: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="cdi-bench-") as scratch:
        folder = Path(scratch)
        history = folder / "history.jsonl.gz"
        write_events(history, sim.events)
        say(f"1/5 offline: cdi backtest over {len(sim.events):,} events")
        measures["offline"] = offline(history, folder)
    say("2/5 one worker")
    one, namespace = run_workers(bootstrap, lines, workers=1)
    measures["one_worker"] = worker_measure(one)
    say("3/5 two workers")
    two, _ = run_workers(bootstrap, lines, workers=2)
    measures["two_workers"] = worker_measure(two)
    say("4/5 Faust floor: a bare Faust app with the worker's settings, counting only")
    floor = faust_floor.measure(namespace, one.records)
    measures["faust_floor"] = {"records": floor.records, "seconds": floor.seconds, "rate": floor.rate, **floor.config}
    say("5/5 ceiling: raw aiokafka consumer")
    top = ceiling.measure(namespace)
    measures["ceiling"] = {"records": top.records, "seconds": top.seconds, "rate": top.rate}
    return {
        "offline_events_per_s": measures["offline"]["rate"],
        "stream_events_per_s": one.rate,
        "two_worker_events_per_s": two.rate,
        "faust_floor_events_per_s": floor.rate,
        "ceiling_events_per_s": top.rate,
        "two_worker_speedup": two.rate / one.rate,
        "kafka_messages_per_event": one.messages_per_record,
        "kafka_messages_by_topic": one.written,
        "days": days,
        "seed": seed,
        "events": len(sim.events),
        "input_records": one.records,
        "measures": measures,
        "machine": about,
        "worker_settings": _worker_settings(namespace),
    }


def _worker_settings(settings: Settings) -> dict[str, Any]:
    return {
        "partitions": settings.partitions,
        "store": settings.store,
        "progress_interval_s": settings.progress_interval,
        "session_timeout_s": settings.session_timeout,
        "clock": settings.clock,
    }


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    ms = result["measures"]
    load = ", ".join(str(x) for x in m["load_average_at_start"])
    rows = [
        ("offline", "`cdi backtest` subprocess, wall clock with start-up", ms["offline"]),
        ("one worker", "`cdi worker`, all rules, first input record to its last write", ms["one_worker"]),
        ("two workers", "two `cdi worker` in one group", ms["two_workers"]),
        ("Faust floor", "bare Faust app, worker's settings, agent only counts", ms["faust_floor"]),
        ("ceiling", "raw aiokafka `getmany`, no group, no processing", ms["ceiling"]),
    ]
    lines = [
        f"Machine: {m['cpus']} cores ({m['cpu_model']}), {m['memory_gib']} GiB, Python {m['python']}, "
        f"faust-streaming {m['faust_streaming']}, aiokafka {m['aiokafka']}, broker {m['broker']}; "
        f"load average at start {load}; {m['date']}, commit {m['commit']}.",
        f"History: {result['days']} simulated days (seed {result['seed']}), {result['events']:,} events, "
        f"{result['input_records']:,} input records with the end markers.",
        "",
        "| measure | what runs | records | seconds | records/s |",
        "|---|---|---:|---:|---:|",
        *(f"| {name} | {what} | {r['records']:,} | {r['seconds']:.2f} | {r['rate']:,.0f} |" for name, what, r in rows),
        "",
        f"Two workers: {result['two_worker_speedup']:.2f}x one worker. Records one worker wrote to Kafka per "
        f"input record: {result['kafka_messages_per_event']:.2f}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30, help="simulated days of history (default 30)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    parser.add_argument("--markdown", type=Path, help="write the Markdown table here too")
    args = parser.parse_args()
    with broker() as (bootstrap, description):
        say(f"broker: {bootstrap} ({description})")
        result = measure(bootstrap, description, args.days, args.seed)
    wrong = [key for key in KEYS if not result[key] > 0]
    if wrong:
        raise SystemExit(f"figures missing or not positive: {wrong}")
    table = markdown(result)
    print(table, flush=True)
    if args.json:
        args.json.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    if args.markdown:
        args.markdown.write_text(table)


if __name__ == "__main__":
    main()
