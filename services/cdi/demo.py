"""``cdi demo``: a simulated force streamed through a real worker, with live progress.

With no CDI_KAFKA_BOOTSTRAP it starts the embedded broker (Tansu) itself. Everything it starts
(broker, worker process, temporary folders) it stops again on exit or Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import orjson
from kafka import KafkaConsumer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from cdi.core.times import format_time
from cdi.embedded_broker import EmbeddedBroker, free_port
from cdi.publish import Published, publish
from cdi.scoring import score
from cdi.settings import Settings
from cdi.topics import Topics, ensure_topics
from cdi.workbench.access import new_token

console = Console()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _await_ready(process: subprocess.Popen[bytes], ready: Callable[[], bool], log_path: Path, what: str) -> bool:
    """Wait up to 90 s for ``ready``; if the process dies or time runs out, show its log."""
    deadline = time.monotonic() + 90
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            console.print(log_path.read_text(errors="replace")[-3000:])
            console.print(f"[red]{what} did not start; its log is above[/]")
            return False
        time.sleep(0.3)
    return True


def _start_workbench(settings: Settings, workdir: Path) -> tuple[subprocess.Popen[bytes], str, str, Path]:
    """`cdi serve` on the demo's topics, an SQLite view in the demo's folder, one registrar token."""
    token = new_token()
    port = free_port()
    log_path = workdir / "workbench.log"
    env = {
        **os.environ,
        **settings.to_env(),
        "CDI_DATA_DIR": str(workdir / "workbench"),
        "CDI_WORKBENCH_PORT": str(port),
        "CDI_WORKBENCH_TOKENS": f"DEMO-REGISTRAR:registrar:{token}",
        "CDI_WORKBENCH_SESSION_KEY": new_token(),
    }
    env.pop("CDI_CASES_DATABASE_URL", None)
    env.pop("CDI_WORKBENCH_TOKENS_FILE", None)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cdi", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, f"http://127.0.0.1:{port}", token, log_path


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_demo(
    settings: Settings,
    *,
    days: int,
    seconds: float,
    seed: int,
    exit_after_feed: bool,
    status_file: Path | None = None,
) -> int:
    from cdi.simulation import SimulationOptions, simulate

    workdir = Path(tempfile.mkdtemp(prefix="cdi-demo-"))
    broker: EmbeddedBroker | None = None
    worker: subprocess.Popen[bytes] | None = None
    workbench: subprocess.Popen[bytes] | None = None
    try:
        if settings.bootstrap:
            # Someone else's cluster: a fresh namespace so that reruns and live topics never mix.
            settings = settings.with_(topic_prefix=f"cdi-demo-{uuid.uuid4().hex[:8]}.")
            console.print(f"using the Kafka cluster at {settings.bootstrap}, topics {settings.topic_prefix}*")
        else:
            with console.status("starting the embedded broker (Tansu)..."):
                broker = EmbeddedBroker().start()
            # Tansu answers a group join only after half the session timeout: keep it short.
            settings = settings.with_(bootstrap=broker.bootstrap, session_timeout=4.0, heartbeat_interval=1.0)
            console.print(f"embedded broker on {broker.bootstrap}")
        settings = settings.with_(metrics_port=free_port(), data_dir=workdir / "data", progress_interval=0.5)
        # The demo's feed is a bounded replay it publishes itself: it ends with end markers.
        settings = settings.with_(end_markers="accept")
        with console.status("creating topics and simulating the force..."):
            ensure_topics(settings)
            sim = simulate(SimulationOptions(days=days, seed=seed))
        lines = [orjson.dumps(e) for e in sim.events]
        metrics_url = f"http://{settings.metrics_host}:{settings.metrics_port}/metrics"
        log_path = workdir / "worker.log"
        with log_path.open("wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "cdi", "worker"],
                env={**os.environ, **settings.to_env()},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with console.status("starting the worker..."):
            # Ready: partitions assigned and tables recovered, not just the web server up.
            if not _await_ready(
                worker,
                lambda: _answers(metrics_url) and "Worker ready" in log_path.read_text(errors="replace"),
                log_path,
                "the worker",
            ):
                return 1
        console.print(f"worker up, metrics at [bold]{metrics_url}[/]")
        with console.status("starting the case workbench (cdi serve)..."):
            workbench, workbench_url, token, workbench_log = _start_workbench(settings, workdir)
            if not _await_ready(
                workbench, lambda: _answers(f"{workbench_url}/readyz"), workbench_log, "the case workbench"
            ):
                return 1
        console.print(f"case workbench at [bold]{workbench_url}/cases[/]  sign-in token (registrar): [bold]{token}[/]")
        if status_file is not None:
            status = {"workbench": f"{workbench_url}/cases", "token": token, "metrics": metrics_url}
            status_file.write_bytes(orjson.dumps(status))
        speed = days * 86_400 / seconds
        fed = _Feed(settings, lines, speed)
        fed.start()
        found = _follow(settings, fed, expected=len(sim.truth), total=len(lines), days=days)
        _summary(found, sim.truth)
        if exit_after_feed:
            return 0
        console.print(f"\nmetrics: [bold]{metrics_url}[/]  (worker log: {log_path})")
        console.print(f"case workbench: [bold]{workbench_url}/cases[/]  token: [bold]{token}[/]")
        console.print("serving until Ctrl-C ...")
        with contextlib.suppress(KeyboardInterrupt):
            while worker.poll() is None:
                time.sleep(0.5)
        return 0
    except KeyboardInterrupt:
        console.print("\ninterrupted")
        return 130
    finally:
        started = [name for name, part in (("workbench", workbench), ("worker", worker), ("broker", broker)) if part]
        with console.status("stopping everything the demo started..."):
            _stop(workbench)
            _stop(worker)
            if status_file is not None:
                status_file.unlink(missing_ok=True)
            if broker is not None:
                broker.stop()
            shutil.rmtree(workdir, ignore_errors=True)
        if started:  # say only what it had started
            console.print(f"stopped the {', '.join(started[:-1]) + ' and ' if len(started) > 1 else ''}{started[-1]}")


class _Feed(threading.Thread):
    """Publishes the history at the demo's speed while the main thread follows the findings."""

    def __init__(self, settings: Settings, lines: list[bytes], speed: float) -> None:
        super().__init__(daemon=True)
        self.settings, self.lines, self.speed = settings, lines, speed
        self.state = Published()
        self.done = False
        self.error: BaseException | None = None

    def run(self) -> None:
        def progress(p: Published) -> None:
            self.state = p

        try:
            self.state = publish(self.settings, self.lines, speed=self.speed, source="demo", progress=progress)
        except BaseException as exc:  # reported by the main thread
            self.error = exc
        self.done = True


def _follow(settings: Settings, feed: _Feed, *, expected: int, total: int, days: int) -> list[dict]:
    consumer = KafkaConsumer(
        Topics(settings.topic_prefix).name("findings"),
        bootstrap_servers=settings.bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        **settings.security.kafka_python(),
    )
    found: dict[tuple[str, str], dict] = {}
    by_rule: Counter[str] = Counter()
    started = time.monotonic()
    settle: float | None = None

    def view() -> Group:
        table = Table(title=f"CDI Monitor demo: {days} simulated days", expand=False)
        table.add_column("")
        table.add_column("", justify="right")
        table.add_row("events published", f"{feed.state.events:,} / {total:,}")
        if feed.state.last_event_ms is not None:
            table.add_row("simulated time", format_time(feed.state.last_event_ms))
        table.add_row("elapsed", f"{time.monotonic() - started:.0f} s")
        for rule, n in sorted(by_rule.items()):
            table.add_row(rule, f"{n:,}")
        table.add_row("findings so far", f"{len(found):,} (the simulator expects {expected:,})")
        return Group(table)

    with Live(view(), console=console, refresh_per_second=4) as live:
        while True:
            for records in consumer.poll(timeout_ms=250).values():
                for message in records:
                    record = orjson.loads(message.value)
                    key = (record["type"], record["event_id"])
                    if key not in found:
                        found[key] = record
                        kind = "raised" if record["type"] == "finding.raised" else "resolved"
                        by_rule[f"{record['payload']['rule']} ({kind})"] += 1
            live.update(view())
            if feed.error is not None:
                raise RuntimeError(f"publishing failed: {feed.error}")
            if feed.done:
                settle = settle or time.monotonic()
                if len(found) >= expected or time.monotonic() - settle > 60:
                    break
    consumer.close()
    return list(found.values())


def _summary(found: list[dict], truth: list[dict]) -> None:
    by_division: Counter[tuple[str, str]] = Counter(
        (f["payload"]["rule"], f["division"]) for f in found if f["type"] == "finding.raised"
    )
    divisions = sorted({d for _, d in by_division})
    table = Table(title="Findings raised by rule and division")
    table.add_column("rule")
    for d in divisions:
        table.add_column(d, justify="right")
    for rule in sorted({r for r, _ in by_division}):
        table.add_row(rule, *(str(by_division[(rule, d)]) for d in divisions))
    console.print(table)
    scores = score(truth, found)
    overall = scores[-1]
    console.print(
        f"against the simulator's ground truth: precision {overall.precision:.3f}, "
        f"recall {overall.recall:.3f} ({overall.matched:,} of {overall.expected:,})"
    )
    examples = [f for f in found if f["type"] == "finding.raised"][:2]
    for f in examples:
        console.print(
            f"  e.g. [bold]{f['payload']['rule']}[/] ({f['payload']['severity']}): {f['payload']['explanation']}"
        )
