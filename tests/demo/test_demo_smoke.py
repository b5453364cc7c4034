"""`cdi demo` on the embedded default: starts Tansu and a worker, shows findings, serves /metrics,
and stops everything it started."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _started_by(parent: int) -> set[int]:
    """Live processes whose parent is ``parent``: the demo's broker, worker and workbench. Only the
    demo's own children count, so another suite's workers on the same machine never do."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the command name (which may hold spaces) start at the last ")".
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == parent and state != "Z":
            found.add(int(entry.name))
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _read(request: urllib.request.Request | str, deadline: float) -> bytes:
    """The body of a GET, retried while the server is too busy to answer (a loaded machine), until
    the test's deadline: a slow answer is not a failure, no answer by the deadline is."""
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
                return response.read()
        except (TimeoutError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _workbench_findings(status_file: Path, deadline: float) -> int:
    """Findings the demo's workbench lists, signed in with the token from its status file."""
    status = json.loads(status_file.read_text())
    request = urllib.request.Request(
        status["workbench"].replace("/cases", "/api/v1/counts"), headers={"Authorization": f"Bearer {status['token']}"}
    )
    return json.loads(_read(request, deadline))["total"]


def test_demo_runs_on_the_embedded_broker_serves_metrics_until_ctrl_c_and_cleans_up(tmp_path):
    started: set[int] = set()
    status_file = tmp_path / "demo-status.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDI_")}
    env["COLUMNS"] = "200"
    demo = subprocess.Popen(
        [sys.executable, "-m", "cdi", "demo", "--days", "1", "--seconds", "10", "--status-file", str(status_file)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert demo.stdout is not None
    output = []
    metrics_text = ""
    metrics_url = ""
    deadline = time.monotonic() + 240
    finished = False
    lines: queue.Queue[bytes | None] = queue.Queue()

    def pump() -> None:  # the demo's output, read beside the test so a silent demo cannot block it
        for raw in demo.stdout:
            lines.put(raw)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        while True:
            try:
                raw = lines.get(timeout=1)
            except queue.Empty:
                if time.monotonic() > deadline:
                    pytest.fail("demo did not finish in time:\n" + "".join(output))
                continue
            if raw is None:
                break
            line = raw.decode(errors="replace")
            output.append(line)
            found = re.search(r"metrics at (http://\S+/metrics)", line)
            if found and not metrics_text:
                metrics_url = found.group(1)
                metrics_text = _read(metrics_url, deadline).decode()
                started |= _started_by(demo.pid)
                assert len(started) >= 2, "the demo should be running a broker and a worker now"
            if "serving until Ctrl-C" in line:
                served = _read(metrics_url, deadline).decode()
                assert 'cdi_findings_raised_total{division="' in served
                assert set(json.loads(status_file.read_text())) == {"workbench", "token", "metrics"}
                # The findings are in the workbench too (its view may trail the topic a while).
                expected = len(re.findall(r"^cdi_findings_raised_total\{", served, flags=re.M))
                assert expected
                started |= _started_by(demo.pid)  # the workbench too
                while _workbench_findings(status_file, deadline) == 0:
                    assert time.monotonic() < deadline, "the workbench listed no finding:\n" + "".join(output)
                    time.sleep(0.5)
                demo.send_signal(signal.SIGINT)
            if time.monotonic() > deadline:
                pytest.fail("demo did not finish in time:\n" + "".join(output))
        finished = True
    finally:
        if not finished and demo.poll() is None:
            # A failed test still stops what the demo started: Ctrl-C makes it clean up.
            demo.send_signal(signal.SIGINT)
            try:
                demo.wait(timeout=60)
            except subprocess.TimeoutExpired:
                demo.kill()
    assert demo.wait(timeout=60) == 0, "".join(output)
    text = "".join(output)
    assert "embedded broker on 127.0.0.1:" in text
    assert "cdi_faust_messages_received" in metrics_text and "cdi_build_info" in metrics_text
    assert re.search(r"precision 1\.000, recall 1\.000 \(\d+ of \d+\)", text), text
    assert "CRIME_INDICATIVE_INCIDENT_NOT_CRIMED" in text
    assert "stopped the workbench, worker and broker" in text
    assert "case workbench at http://127.0.0.1:" in text
    assert not status_file.exists(), "the status file is removed on exit"
    time.sleep(0.5)
    assert _alive(started) == set(), "processes left behind"
