"""Live finding latency: how long after a deadline passes on the wall clock its finding is on the
findings topic, for a worker in live mode (CDI_CLOCK=live).

    python benchmarks/live_latency.py [--seconds 30] [--rate 20] [--json FILE]
    # CDI_KAFKA_BOOTSTRAP, else Apache Kafka from Maven Central jars, started as the tests start it

A live deadline fires once the watermark passes it, and in live mode the watermark is at least
the wall clock less the allowed lateness, refreshed by every progress marker
(``CDI_PROGRESS_INTERVAL``). So a finding should be on the topic by its deadline + the allowed
lateness + one progress interval, plus the time to process and send it. To measure that in
seconds rather than hours, the worker runs the default rules with the recording deadline cut to
5 s and the lateness to 3 s (as tests/stream/test_live_clock.py does); nothing else changes.

A publisher sends ``--rate`` crime-indicative incidents a second for ``--seconds``, each dated
at the wall clock when sent, none ever recorded as a crime: each must raise one finding dated at
its deadline. The latency of a finding is its record's timestamp on the findings topic (set by
the worker's producer) less that deadline; the report gives it beside the bound.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.stream.worker_process import WorkerProcess, isolated_settings, read_topic

from benchmarks.drain import say
from benchmarks.run import broker
from cdi import rules
from cdi.core.times import format_time, parse_time
from cdi.publish import publish
from cdi.settings import Settings

LATENESS_S = 3.0
DEADLINE_S = 5.0
FINDING = "CRIME_INDICATIVE_INCIDENT_NOT_CRIMED"


def quick_rules(folder: Path) -> Path:
    """The default rules with a 3-second lateness and a 5-second recording deadline."""
    text = rules.DEFAULT.read_text()
    text = text.replace("allowed_lateness_minutes = 10", f"allowed_lateness_minutes = {LATENESS_S / 60}")
    text = text.replace("deadline_hours = 24", f"deadline_hours = {DEADLINE_S / 3600}", 2)
    path = folder / "quick.toml"
    path.write_text(text)
    return path


def incident(n: int, at_ms: int) -> bytes:
    return orjson.dumps(
        {
            "event_id": f"live-{n}",
            "type": "incident.opened",
            "schema_version": 1,
            "occurred_at": format_time(at_ms),
            "force": "SYNTH",
            "division": "NORTH",
            "payload": {"incident_id": f"LIVE-{n:06d}", "opening_code": "ASSAULT"},
        }
    )


def feed(settings: Settings, seconds: float, rate: float) -> int:
    """Publish ``rate`` incidents a second for ``seconds``, each dated when it is sent."""
    sent = 0
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        due = int(elapsed * rate) + 1 - sent
        if due > 0:
            now = int(time.time() * 1000)
            publish(settings, [incident(sent + i, now) for i in range(due)], end=False)
            sent += due
        time.sleep(max(0.0, (sent / rate) - (time.monotonic() - started)))
    return sent


def latencies(messages: list[Any]) -> dict[str, float]:
    """{finding id: seconds from its deadline to its record's timestamp}, the first of each."""
    latency: dict[str, float] = {}
    for message in messages:
        record = orjson.loads(message.value)
        if record["type"] == "finding.raised" and record["payload"]["rule"] == FINDING:
            due_ms = parse_time(record["occurred_at"])
            latency.setdefault(record["payload"]["finding_id"], (message.timestamp - due_ms) / 1000)
    return latency


def measure(bootstrap: str, seconds: float, rate: float, progress_interval: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cdi-latency-") as scratch:
        settings = isolated_settings(
            bootstrap,
            clock="live",
            progress_interval=progress_interval,
            rules_path=quick_rules(Path(scratch)),
        )
        with WorkerProcess(settings) as worker:
            say(f"worker ready; publishing {rate:g} incidents/s for {seconds:g} s")
            sent = feed(settings, seconds, rate)
            say(f"published {sent:,}; reading their findings")
            messages = read_topic(settings, "findings", until=sent, timeout=DEADLINE_S + LATENESS_S + 120)
            latency = latencies(messages)
            log_tail = worker.log()[-2000:] if len(latency) < sent else ""
    values = sorted(latency.values())
    bound = LATENESS_S + progress_interval
    result: dict[str, Any] = {
        "incidents": sent,
        "findings": len(values),
        "allowed_lateness_s": LATENESS_S,
        "progress_interval_s": progress_interval,
        "bound_s": bound,
    }
    if values:
        result |= {
            "min_s": values[0],
            "median_s": statistics.median(values),
            "p95_s": values[int(0.95 * (len(values) - 1))],
            "max_s": values[-1],
            "over_bound": sum(v > bound for v in values),
        }
    if log_tail:
        result["worker_log_tail"] = log_tail
    return result


def report(result: dict[str, Any]) -> str:
    lines = [
        f"{result['incidents']:,} incidents, {result['findings']:,} findings; allowed lateness "
        f"{result['allowed_lateness_s']:g} s, progress interval {result['progress_interval_s']:g} s, "
        f"bound {result['bound_s']:g} s after the deadline",
    ]
    if result["findings"]:
        lines.append(
            f"seconds from deadline to finding: min {result['min_s']:.2f}, median {result['median_s']:.2f}, "
            f"p95 {result['p95_s']:.2f}, max {result['max_s']:.2f}; "
            f"{result['over_bound']:,} of {result['findings']:,} beyond the bound"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30, help="how long to publish (default 30)")
    parser.add_argument("--rate", type=float, default=20, help="incidents a second (default 20)")
    parser.add_argument(
        "--progress-interval", type=float, default=Settings().progress_interval, help="CDI_PROGRESS_INTERVAL"
    )
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args()
    with broker() as (bootstrap, _):
        result = measure(bootstrap, args.seconds, args.rate, args.progress_interval)
    print(report(result))
    if args.json:
        args.json.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    if result["findings"] < result["incidents"]:
        sys.exit(f"only {result['findings']} of {result['incidents']} findings arrived; see the worker's log")


if __name__ == "__main__":
    main()
