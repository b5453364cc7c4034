"""Faust's consume floor: a bare faust-streaming app with the worker's configuration whose one
agent only counts the input records, so the gap between it and a CDI worker is what the monitor's
own work costs, and the gap between it and the raw aiokafka ceiling (benchmarks/ceiling.py) is
Faust's per-message path.

The app takes the worker's ``faust.App`` keyword arguments (``cdi.stream.app.faust_settings``: the
same commit every 1,000 records, stream buffer, partitions, raw key and value serializers, acks,
session and heartbeat), with a memory store, a private data folder and its own consumer group
(``<prefix>faust-floor``). Its agent iterates ``stream.events()`` over the four input topics, as
the worker's routing agent does, and does nothing else. It runs in a subprocess (a Faust worker
owns its process's signals and event loop); the agent notes the wall time of the first record and
writes a small JSON file when it has counted the expected number, which the parent waits for.

    python benchmarks/faust_floor.py --expected N --out FILE   # settings from CDI_*, as `cdi worker` reads them
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.drain import PROGRESS_EVERY_S, BrokerWatch, say
from cdi.settings import Settings
from cdi.topics import INPUT_ROLES, Topics


@dataclass(frozen=True, slots=True)
class FloorRun:
    records: int
    seconds: float  # from the first record the agent was handed to the last
    config: dict[str, Any]  # the Faust settings that matter here, as the app had them

    @property
    def rate(self) -> float:
        return self.records / self.seconds


def group_id(settings: Settings) -> str:
    return f"{settings.topic_prefix}faust-floor"


def build(settings: Settings, partition_counts: dict[str, int], expected: int, out: Path) -> Any:
    import faust

    from cdi.embedded_broker import free_port
    from cdi.stream.app import faust_settings

    config = {
        **faust_settings(settings, partition_counts),
        "store": "memory://",
        "datadir": str(out.parent / "data"),  # beside the result, removed with it
        # Off, and should it start anyway (broker.md: `faust worker` binds 0.0.0.0:6066), on loopback.
        "web_enabled": False,
        "web_bind": "127.0.0.1",
        "web_port": free_port(),
    }
    app = faust.App(group_id(settings), **config)
    topics = Topics(settings.topic_prefix)
    inputs = app.topic(*(topics.name(role) for role in INPUT_ROLES), key_type=bytes, value_type=bytes)

    @app.agent(inputs, name="count")
    async def count(stream: Any) -> None:
        seen, first = 0, 0.0
        async for _event in stream.events():
            seen += 1
            if seen == 1:
                first = time.time()
            if seen == expected:
                conf = app.conf
                result = {
                    "records": seen,
                    "first": first,
                    "last": time.time(),
                    "config": {
                        "broker_commit_every": conf.broker_commit_every,
                        "broker_commit_interval": conf.broker_commit_interval,
                        "stream_buffer_maxsize": conf.stream_buffer_maxsize,
                        "topic_partitions": conf.topic_partitions,
                        "value_serializer": conf.value_serializer,
                        "producer_acks": conf.producer_acks,
                    },
                }
                partial = out.with_suffix(".partial")
                partial.write_bytes(orjson.dumps(result))
                partial.rename(out)  # the parent sees the file whole or not at all

    return app


def measure(settings: Settings, expected: int, timeout_s: float = 600) -> FloorRun:
    """Run the floor app over the input topics of ``settings``' namespace until it has counted
    ``expected`` records (all of them: the drain is complete when the agent says so)."""
    folder = Path(tempfile.mkdtemp(prefix="cdi-faust-floor-run-"))
    out = folder / "result.json"
    log = folder / "faust.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, __file__, "--expected", str(expected), "--out", str(out)],
            env={**os.environ, **settings.to_env()},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started = time.monotonic()
    last_said = started
    try:
        with BrokerWatch(settings) as watch:
            inputs = [Topics(settings.topic_prefix).name(role) for role in INPUT_ROLES]
            while not out.exists():
                if process.poll() is not None:
                    tail = log.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"Faust floor exited with {process.returncode}:\n{tail}")
                if time.monotonic() - started > timeout_s:
                    raise RuntimeError(f"Faust floor not done after {timeout_s:.0f} s")
                if time.monotonic() - last_said >= PROGRESS_EVERY_S:
                    done, total = watch.progress(group_id(settings), inputs)
                    say(f"  Faust floor: {done:,} of {total:,} input records committed")
                    last_said = time.monotonic()
                time.sleep(0.2)  # a file check: the app is not disturbed
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    result = orjson.loads(out.read_bytes())
    shutil.rmtree(folder, ignore_errors=True)  # kept, with the app's log, when it failed
    run = FloorRun(result["records"], result["last"] - result["first"], result["config"])
    say(f"  Faust floor: {run.records:,} records in {run.seconds:.2f} s = {run.rate:,.0f}/s ({run.config})")
    return run


def main() -> None:
    import faust

    from cdi.topics import ensure_topics

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--expected", type=int, required=True, help="records to count before writing --out")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    settings = Settings.from_env()
    app = build(settings, ensure_topics(settings), args.expected, args.out)
    faust.Worker(app, loglevel="warning", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
