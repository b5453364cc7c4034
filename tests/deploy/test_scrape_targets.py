"""Workers register their /metrics with Prometheus by file-based service discovery
(cdi.stream.scrape_targets, CDI_SCRAPE_TARGETS_DIR): the target file's name, content and
atomic write, its removal on a clean stop (and not after a crash), and, on a real Prometheus
with the monitor's scrape job from deploy/prometheus/prometheus.yml, a real replay worker found
from the file it wrote, scraped while it runs and dropped when it stops; a live worker's file
beside its static target is scraped once."""

from __future__ import annotations

import contextlib
import fnmatch
import http.server
import json
import os
import shutil
import socket
import stat
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from cdi import alerting
from cdi.settings import Settings, SettingsError
from cdi.stream import runner
from cdi.stream.scrape_targets import ScrapeTarget, register

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
JOB = alerting.load(ROOT / "deploy" / "prometheus" / "alerting.toml").job


def settings(tmp_path: Path, **changes: Any) -> Settings:
    return Settings(scrape_targets_dir=tmp_path / "targets", metrics_port=6066).with_(**changes)


# -- the target file ----------------------------------------------------------------------


def test_nothing_is_written_without_a_targets_directory(tmp_path):
    assert ScrapeTarget.for_settings(Settings()) is None
    assert register(Settings()) is None
    assert list(tmp_path.iterdir()) == []


def test_the_file_is_named_after_namespace_instance_and_port_and_says_where_to_scrape(tmp_path):
    target = ScrapeTarget.for_settings(settings(tmp_path, namespace="march-check"), hostname="replay-1")
    assert target is not None
    # The server listens on 127.0.0.1 (the default): that is where Prometheus must look.
    assert target.path == tmp_path / "targets" / "march-check-replay-1-6066.json"
    assert target.document() == [{"targets": ["127.0.0.1:6066"], "labels": {"pipeline": "march-check"}}]
    # Every interface: the host name; CDI_INSTANCE_ID names the file instead of the host.
    wildcard = settings(tmp_path, metrics_host="0.0.0.0", metrics_port=6067, instance_id="worker-a")
    target = ScrapeTarget.for_settings(wildcard, hostname="monitor-1")
    assert target is not None
    assert target.path.name == "live-worker-a-6067.json" and target.address == "monitor-1:6067"
    # CDI_SCRAPE_ADDRESS wins: a host, a host and another port, an IPv6 address.
    for address, expected in [
        ("worker.example", "worker.example:6066"),
        ("10.0.0.5:16066", "10.0.0.5:16066"),
        ("fd00::5", "[fd00::5]:6066"),
        ("[fd00::5]:7000", "[fd00::5]:7000"),
    ]:
        target = ScrapeTarget.for_settings(settings(tmp_path, scrape_address=address), hostname="h")
        assert target is not None and target.address == expected, address
    # A host name that is no file name is made one.
    target = ScrapeTarget.for_settings(settings(tmp_path), hostname="odd/host name")
    assert target is not None and target.path.name == "live-odd-host-name-6066.json"


@pytest.mark.parametrize("address", ["http://worker:6066", "worker:port", "worker:0", "a b", "[fd00::5]x"])
def test_a_scrape_address_that_is_no_address_is_refused(tmp_path, address):
    with pytest.raises(SettingsError, match="CDI_SCRAPE_ADDRESS"):
        ScrapeTarget.for_settings(settings(tmp_path, scrape_address=address), hostname="h")


def test_a_port_chosen_by_the_system_cannot_be_registered(tmp_path):
    with pytest.raises(SettingsError, match="CDI_METRICS_PORT"):
        ScrapeTarget.for_settings(settings(tmp_path, metrics_port=0))


def test_the_settings_come_from_the_environment_and_go_back_to_it(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("CDI_"):
            monkeypatch.delenv(name)
    assert (Settings.from_env().scrape_targets_dir, Settings.from_env().scrape_address) == (None, None)
    monkeypatch.setenv("CDI_SCRAPE_TARGETS_DIR", str(tmp_path))
    monkeypatch.setenv("CDI_SCRAPE_ADDRESS", "worker.example")
    loaded = Settings.from_env()
    assert (loaded.scrape_targets_dir, loaded.scrape_address) == (tmp_path, "worker.example")
    env = loaded.to_env()
    assert env["CDI_SCRAPE_TARGETS_DIR"] == str(tmp_path) and env["CDI_SCRAPE_ADDRESS"] == "worker.example"


def test_register_writes_the_file_readable_to_prometheus_and_remove_deletes_it(tmp_path):
    target = register(settings(tmp_path, namespace="replay-x"))  # the directory is created
    assert target is not None and target.path.is_file()
    assert json.loads(target.path.read_text()) == [{"targets": ["127.0.0.1:6066"], "labels": {"pipeline": "replay-x"}}]
    assert stat.S_IMODE(target.path.stat().st_mode) == 0o644  # Prometheus runs as another user
    assert sorted(p.name for p in target.path.parent.iterdir()) == [target.path.name]  # no temporary left
    target.remove()
    assert not target.path.exists()
    target.remove()  # already gone: nothing happens


def test_the_file_is_replaced_atomically(tmp_path, monkeypatch):
    """While the new content is written, the target file keeps the old one whole; the new one is
    complete before the rename, and the temporary file is never a name Prometheus reads."""
    old = ScrapeTarget.for_settings(settings(tmp_path, scrape_address="old-host"), hostname="h")
    new = ScrapeTarget.for_settings(settings(tmp_path, scrape_address="new-host"), hostname="h")
    assert old is not None and new is not None and old.path == new.path
    old.write()
    seen: list[tuple[str, Any, Any]] = []
    real_replace = os.replace

    def replace(source: str, destination: Any) -> None:
        seen.append(
            (Path(source).name, json.loads(Path(source).read_text()), json.loads(Path(destination).read_text()))
        )
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace)
    new.write()
    [(temporary, content, before)] = seen
    assert content == new.document() and before == old.document()
    assert not fnmatch.fnmatch(temporary, "*.json") and temporary.startswith(".")
    assert json.loads(new.path.read_text()) == new.document()

    # A write that fails leaves the old file as it was and no temporary behind.
    def refuse(source: str, destination: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        old.write()
    assert json.loads(new.path.read_text()) == new.document()
    assert sorted(p.name for p in new.path.parent.iterdir()) == [new.path.name]


def test_a_directory_that_cannot_be_written_is_a_settings_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SettingsError, match="CDI_SCRAPE_TARGETS_DIR"):
        register(Settings(scrape_targets_dir=blocker / "targets"))


# -- the worker's runner: written at the start, removed on a clean stop only ----------------


class FakeWorker:
    """Stands in for faust.Worker: records whether the target file existed while it "ran", then
    exits as the test says."""

    exit_code = 0
    crash: BaseException | None = None
    app: Any = None
    file: Path | None = None
    existed_while_running = False

    def __init__(self, app: Any, **kwargs: Any) -> None:
        FakeWorker.app = app

    def execute_from_commandline(self) -> None:
        assert FakeWorker.file is not None
        FakeWorker.existed_while_running = FakeWorker.file.is_file()
        FakeWorker.app.crash_reason = FakeWorker.crash
        raise SystemExit(FakeWorker.exit_code)


@pytest.fixture
def fake_worker(monkeypatch: pytest.MonkeyPatch) -> type[FakeWorker]:
    monkeypatch.setattr(runner, "ensure_topics", lambda settings: {})
    monkeypatch.setattr(runner, "ensure_changelogs", lambda settings, partitions: None)
    monkeypatch.setattr(runner, "STAGE_TOPICS", {})
    monkeypatch.setattr(
        runner,
        "build_app",
        lambda settings, counts: SimpleNamespace(conf=SimpleNamespace(tabledir="."), crash_reason=None),
    )
    monkeypatch.setattr(runner.faust, "Worker", FakeWorker)
    FakeWorker.exit_code, FakeWorker.crash, FakeWorker.existed_while_running = 0, None, False
    return FakeWorker


@pytest.mark.parametrize(
    ("exit_code", "crash", "kept"),
    [(0, None, False), (None, None, False), (1, None, True), (0, RuntimeError("agent crashed"), True)],
    ids=["clean stop", "clean stop without code", "failed exit", "crash"],
)
def test_the_worker_registers_while_it_runs_and_deregisters_on_a_clean_stop(
    tmp_path, fake_worker, exit_code, crash, kept
):
    config = settings(tmp_path, namespace="replay-x", instance_id="w1")
    target = ScrapeTarget.for_settings(config)
    assert target is not None
    fake_worker.file, fake_worker.exit_code, fake_worker.crash = target.path, exit_code, crash
    with pytest.raises(SystemExit):
        runner.run_worker(config)
    assert fake_worker.existed_while_running
    # A crashed worker's target stays: Prometheus keeps trying it and CDIMonitorDown fires.
    assert target.path.exists() is kept


def test_a_worker_without_a_targets_directory_writes_nothing(tmp_path, fake_worker, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fake_worker.file = tmp_path / "none.json"
    with pytest.raises(SystemExit):
        runner.run_worker(Settings(metrics_port=6066))
    assert list(tmp_path.iterdir()) == []


# -- on a real Prometheus -----------------------------------------------------------------


def monitor_job(targets_dir: Path, static: list[str] | None = None) -> dict[str, Any]:
    """The monitor's scrape job as deploy/prometheus/prometheus.yml has it (file discovery and
    relabelling), reading `targets_dir` and with `static` targets instead of the compose ones."""
    # Prometheus watches the directory for changes only if it exists when it starts (else it
    # rereads it every refresh_interval, 5 minutes); the compose volume always does.
    targets_dir.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == JOB]
    [discovery] = job["file_sd_configs"]
    [pattern] = discovery["files"]
    job = dict(job, file_sd_configs=[dict(discovery, files=[str(targets_dir / Path(pattern).name)])])
    job.pop("static_configs")
    if static:
        job["static_configs"] = [{"targets": static}]
    return job


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def prometheus(folder: Path, job: dict[str, Any]) -> Iterator[Callable[..., Any]]:
    """A real Prometheus (Debian package) with one scrape job, scraping every second; yields a
    function that calls its HTTP API."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is missing: install the Debian package prometheus (tests/run.sh does)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "prometheus.yml").write_text(
        yaml.safe_dump({"global": {"scrape_interval": "1s", "evaluation_interval": "1s"}, "scrape_configs": [job]})
    )
    port = free_port()
    log = (folder / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def api(path: str, **params: str) -> Any:
        url = f"http://127.0.0.1:{port}/api/v1/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())["data"]

    try:
        until(lambda: ready(port), 30, lambda: f"prometheus did not start:\n{(folder / 'prometheus.log').read_text()}")
        yield api
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def ready(port: int) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1) as answer:
        return answer.status == 200
    return False


def until(condition: Callable[[], Any], timeout: float, message: Callable[[], str]) -> Any:
    """Poll `condition` until it is truthy; fail with `message()` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(message())
        time.sleep(0.25)


def active(api: Callable[..., Any]) -> list[dict[str, Any]]:
    return api("targets", state="active")["activeTargets"]


@pytest.mark.integration
@pytest.mark.slow
def test_prometheus_scrapes_a_replay_worker_found_from_its_file_until_it_stops(kafka_bootstrap, tmp_path):
    from tests.stream.worker_process import WorkerProcess, isolated_settings

    targets = tmp_path / "targets"
    config = isolated_settings(kafka_bootstrap, partitions=1, namespace="replay-sd", scrape_targets_dir=targets)
    with prometheus(tmp_path / "prometheus", monitor_job(targets)) as api:
        assert active(api) == []
        worker = WorkerProcess(config)
        try:
            worker.start()
            port = worker.settings.metrics_port
            [written] = list(targets.glob("*.json"))
            expected = ScrapeTarget.for_settings(worker.settings)
            assert expected is not None and written == expected.path
            assert written.name.startswith("replay-sd-") and written.name.endswith(f"-{port}.json")
            assert json.loads(written.read_text()) == [
                {"targets": [f"127.0.0.1:{port}"], "labels": {"pipeline": "replay-sd"}}
            ]

            def scraped() -> dict[str, Any] | None:
                found = [t for t in active(api) if t["health"] == "up"]
                return found[0] if found else None

            target = until(scraped, 60, lambda: f"the worker's target never came up: {active(api)}")
            assert target["scrapeUrl"] == f"http://127.0.0.1:{port}/metrics"
            # Job and instance only: the file's pipeline label shows among the discovered labels
            # and is dropped from the target, so `up` has no pipeline (the rules join it per target).
            assert target["labels"] == {"job": JOB, "instance": f"127.0.0.1:{port}"}
            assert target["discoveredLabels"]["pipeline"] == "replay-sd"
            # The worker's own series keep its pipeline, with no exported_pipeline beside it.
            info = until(
                lambda: api("query", query=f'cdi_build_info{{job="{JOB}"}}')["result"],
                30,
                lambda: "cdi_build_info never reached Prometheus",
            )
            assert [r["metric"]["pipeline"] for r in info] == ["replay-sd"]
            assert "exported_pipeline" not in info[0]["metric"]
            assert api("query", query=f'up{{job="{JOB}"}}')["result"][0]["metric"] == {
                "__name__": "up",
                "job": JOB,
                "instance": f"127.0.0.1:{port}",
            }
        finally:
            worker.stop()  # SIGTERM: a clean stop
        assert worker.process is not None and worker.process.returncode == 0, worker.log()[-3000:]
        assert list(targets.iterdir()) == [], "a cleanly stopped worker leaves its target file behind"
        until(lambda: active(api) == [], 60, lambda: f"prometheus still scrapes the stopped worker: {active(api)}")


class Metrics(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'# TYPE cdi_build_info gauge\ncdi_build_info{pipeline="live",version="test"} 1\n'
        self.send_response(200 if self.path == "/metrics" else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def metrics_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Metrics)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_a_live_worker_registered_by_file_and_listed_statically_is_scraped_once(tmp_path, metrics_server):
    """The compose workers are listed in prometheus.yml and register themselves too (they share
    the environment of every worker): the two give one target, not two scrapes of each series."""
    targets = tmp_path / "targets"
    address = f"127.0.0.1:{metrics_server}"
    with prometheus(tmp_path / "prometheus", monitor_job(targets, static=[address])) as api:
        until(lambda: any(t["health"] == "up" for t in active(api)), 60, lambda: f"never scraped: {active(api)}")
        register(Settings(scrape_targets_dir=targets, metrics_port=metrics_server))  # the live worker's file
        # A second file, another address of the same server: once its target is active, discovery
        # has read the first file too (each refresh reads every file) and the scrape job has it.
        probe = f"localhost:{metrics_server}"
        register(
            Settings(
                scrape_targets_dir=targets, metrics_port=metrics_server, namespace="probe", scrape_address="localhost"
            )
        )
        until(
            lambda: any(t["labels"]["instance"] == probe for t in active(api)),
            60,
            lambda: f"the files were never discovered: {active(api)}",
        )
        assert sorted(t["labels"]["instance"] for t in active(api)) == [address, probe]
        assert all(t["labels"] == {"job": JOB, "instance": t["labels"]["instance"]} for t in active(api))
