"""The full-stack deploy, checked as far as this machine allows (no Docker engine): the compose
file validates with docker-compose (which rejects unknown keys), every file it mounts exists, every
service has a healthcheck and waits for what it needs, the simulation runs in a namespace of its own,
secrets come from deploy/.env, and the wheel the image installs carries the data files the monitor
reads at run time.

Debian's docker-compose is 1.29, older than the compose file's top-level ``name`` (Compose v2):
``compose_config`` leaves ``name`` out of what it validates, and test_the_project_has_one_name
checks it against the Compose specification's rule instead."""

from __future__ import annotations

import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdi.settings import LIVE, Settings, namespace_prefix

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
ENV_EXAMPLE = DEPLOY / "env.example"
IMAGE = "cdi-monitor:local"


def docker_compose() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        pytest.fail("docker-compose is missing: install the Debian package docker-compose (tests/run.sh does)")
    return found


def spec() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


# The variables compose refuses to start without (${VAR:?...}), set as an operator's deploy/.env would.
REQUIRED_ENV = {"CDI_WORKBENCH_TOKENS": "FCR-7:registrar:example", "CDI_GRAFANA_ADMIN_PASSWORD": "not-admin-example"}
# Only what a test passes: never the CDI_* or compose settings of whoever runs the tests.
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("CDI_", "COMPOSE_"))}


def compose_config(
    tmp_path: Path, compose: dict[str, Any], env: dict[str, str], env_file: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`docker-compose config -q` on ``compose`` as if it were deploy/docker-compose.yml: read from
    stdin in deploy/, so that its relative paths resolve as the real file's do, without ``name``
    (see the module's docstring), and with ``env_file`` (default: an empty one) in place of a
    developer's deploy/.env."""
    if env_file is None:
        env_file = tmp_path / "empty.env"
        env_file.write_text("")
    compose = {key: value for key, value in compose.items() if key != "name"}
    return subprocess.run(
        [docker_compose(), "--env-file", str(env_file), "-f", "-", "config", "-q"],
        input=yaml.safe_dump(compose),
        cwd=DEPLOY,
        capture_output=True,
        text=True,
        env={**BASE_ENV, **env},
    )


def test_compose_file_is_valid(tmp_path):
    result = compose_config(tmp_path, spec(), REQUIRED_ENV)
    assert result.returncode == 0, result.stderr


def test_the_project_has_one_name():
    # Fixed in the file, so every `docker compose -f deploy/docker-compose.yml ...` addresses the same
    # containers and volumes wherever it is run from; the pattern is the Compose specification's.
    assert re.fullmatch(r"[a-z0-9][a-z0-9_-]*", spec()["name"]) and spec()["name"] == "cdi-monitor"
    # ...and no documented command overrides it.
    for path in [ROOT / "README.md", COMPOSE, *(ROOT / "docs").rglob("*.md")]:
        for line in path.read_text().splitlines():
            if "docker compose" in line or "docker-compose " in line:
                assert not re.search(r"\s(-p|--project-name)[\s=]", line), f"{path.name}: {line}"


def test_compose_refuses_to_start_the_workbench_without_sign_in_tokens(tmp_path):
    env = {k: v for k, v in REQUIRED_ENV.items() if k != "CDI_WORKBENCH_TOKENS"}
    result = compose_config(tmp_path, spec(), env)
    assert result.returncode != 0 and "set CDI_WORKBENCH_TOKENS" in result.stderr


@pytest.mark.parametrize("password", [None, ""])
def test_compose_refuses_to_start_grafana_without_an_admin_password(tmp_path, password):
    env = {k: v for k, v in REQUIRED_ENV.items() if k != "CDI_GRAFANA_ADMIN_PASSWORD"}
    if password is not None:
        env["CDI_GRAFANA_ADMIN_PASSWORD"] = password
    result = compose_config(tmp_path, spec(), env)
    assert result.returncode != 0 and "set CDI_GRAFANA_ADMIN_PASSWORD in deploy/.env" in result.stderr
    # Never a literal password, and never Grafana's admin/admin by default.
    grafana = spec()["services"]["grafana"]["environment"]
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"].startswith("${CDI_GRAFANA_ADMIN_PASSWORD:?")


def test_the_env_example_names_every_required_variable_and_works_once_filled_in(tmp_path):
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    assert required == set(REQUIRED_ENV)
    example = ENV_EXAMPLE.read_text()
    values = dict(line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#"))
    assert values == dict.fromkeys(required, ""), "the example ships every required variable, empty"
    # As shipped it starts nothing; filled in, compose reads it (as it reads deploy/.env) and starts.
    result = compose_config(tmp_path, spec(), {}, env_file=ENV_EXAMPLE)
    assert result.returncode != 0 and "in deploy/.env" in result.stderr
    filled = tmp_path / ".env"
    filled.write_text(re.sub(r"^(\w+)=$", lambda m: f"{m[1]}={REQUIRED_ENV[m[1]]}", example, flags=re.MULTILINE))
    result = compose_config(tmp_path, spec(), {}, env_file=filled)
    assert result.returncode == 0, result.stderr
    # The real deploy/.env, which holds the secrets, is never committed.
    assert "deploy/.env" in (ROOT / ".gitignore").read_text().splitlines()


def test_compose_validation_rejects_an_unknown_key(tmp_path):
    broken = spec()
    broken["services"]["monitor-1"]["restart_policy_typo"] = "always"
    result = compose_config(tmp_path, broken, REQUIRED_ENV)
    assert result.returncode != 0 and "restart_policy_typo" in result.stderr


def one_shot(service: dict[str, Any]) -> bool:
    return service.get("restart") == "no"


def test_every_service_has_a_healthcheck_and_waits_for_what_it_needs():
    services = spec()["services"]
    for name, service in services.items():
        check = service.get("healthcheck", {})
        if one_shot(service):
            # A job's health is its exit status, which those that need it wait for.
            assert check == {"disable": True}, name
        else:
            assert check.get("test") and check.get("interval") and check.get("retries"), name
            assert service.get("restart") == "unless-stopped", name
        needs = service.get("depends_on", {})
        assert isinstance(needs, dict), f"{name}: depends_on without conditions waits only for a start"
        for needed, condition in needs.items():
            expected = "service_completed_successfully" if one_shot(services[needed]) else "service_healthy"
            assert condition == {"condition": expected}, f"{name} -> {needed}"
    probes = {name: " ".join(service["healthcheck"].get("test", [])) for name, service in services.items()}
    for worker in ("monitor-1", "monitor-2", "simulated-worker"):
        assert "/healthz" in probes[worker] and "CDI_METRICS_PORT" in probes[worker], worker
    assert "/healthz" in probes["workbench"] and "CDI_WORKBENCH_PORT" in probes["workbench"]
    assert probes["prometheus"].endswith("http://127.0.0.1:9090/-/healthy")
    assert probes["alertmanager"].endswith("http://127.0.0.1:9093/-/healthy")
    assert probes["grafana"].endswith("http://127.0.0.1:3000/api/health")
    assert "kafka-topics.sh --bootstrap-server localhost:9092" in probes["kafka"]
    # The workers' and the simulation's needs, and Prometheus never waits for a worker: one that
    # never comes up must show as down, not keep the alerting from starting.
    assert services["monitor-1"]["depends_on"] == {"topics": {"condition": "service_completed_successfully"}}
    assert services["workbench"]["depends_on"]["cases-db"] == {"condition": "service_healthy"}
    assert services["simulator"]["depends_on"] == {"simulated-worker": {"condition": "service_healthy"}}
    assert set(services["prometheus"]["depends_on"]) == {"alertmanager"}
    assert set(services["grafana"]["depends_on"]) == {"prometheus"}


class Healthz(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def healthz_port() -> Iterator[int]:
    server = http.server.HTTPServer(("127.0.0.1", 0), Healthz)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("service", "variable"), [("monitor-1", "CDI_METRICS_PORT"), ("workbench", "CDI_WORKBENCH_PORT")]
)
def test_the_python_healthchecks_pass_on_healthz_and_fail_without_it(healthz_port, service, variable):
    # The image's python runs the same command: it must exit 0 on a 200 and not on a dead port.
    command = spec()["services"][service]["healthcheck"]["test"]
    assert command[:3] == ["CMD", "python", "-c"]
    run = [sys.executable, "-c", command[3]]
    assert subprocess.run(run, env={**BASE_ENV, variable: str(healthz_port)}, capture_output=True).returncode == 0
    closed = {**BASE_ENV, variable: "9"}  # discard: nothing listens
    assert subprocess.run(run, env=closed, capture_output=True, timeout=30).returncode != 0


def test_prometheus_alertmanager_and_grafana_keep_their_data_on_named_volumes():
    compose = spec()
    services = compose["services"]
    # 45 days of series for the 30-day recording-rule windows; silences and the notification log;
    # Grafana's database. All must survive a restart and a new container.
    kept = {"prometheus": "/prometheus", "alertmanager": "/alertmanager", "grafana": "/var/lib/grafana"}
    for name, path in kept.items():
        volume = f"{name}-data"
        assert f"{volume}:{path}" in services[name]["volumes"], name
        assert volume in compose["volumes"], name
    assert "--storage.tsdb.path=/prometheus" in services["prometheus"]["command"]
    assert "--storage.tsdb.retention.time=45d" in services["prometheus"]["command"]
    assert "--storage.path=/alertmanager" in services["alertmanager"]["command"]


def service_settings(monkeypatch: pytest.MonkeyPatch, service: dict[str, Any]) -> Settings:
    """The settings a cdi command in ``service`` starts with (its environment, nothing else)."""
    for name in list(os.environ):
        if name.startswith("CDI_"):
            monkeypatch.delenv(name)
    for name, value in service.get("environment", {}).items():
        monkeypatch.setenv(name, str(value))
    return Settings.from_env()


def test_the_simulation_runs_in_a_namespace_of_its_own(monkeypatch):
    services = spec()["services"]
    simulation = {name: s for name, s in services.items() if "simulate" in s.get("profiles", [])}
    ours = {name: s for name, s in simulation.items() if s["image"] == IMAGE}
    workers = [name for name, s in ours.items() if "command" not in s and "entrypoint" not in s]  # image CMD: worker
    assert workers == ["simulated-worker"] and set(ours) == set(simulation) == {"simulated-worker", "simulator"}
    namespaces = set()
    for name, service in ours.items():
        settings = service_settings(monkeypatch, service)
        # pipeline="<namespace>" on every metric, and Alertmanager sends nothing but pipeline="live"
        # to the control room (tests/deploy/test_prometheus_rules.py routes a replay's alerts nowhere).
        assert settings.namespace != LIVE, name
        assert settings.topic_prefix == namespace_prefix(settings.namespace) != namespace_prefix(LIVE), name
        namespaces.add(settings.namespace)
    assert len(namespaces) == 1, "the simulator replays into the namespace its worker reads"
    assert services["simulated-worker"]["environment"]["CDI_CLOCK"] == "event"  # it replays the past
    for name in ("monitor-1", "monitor-2", "workbench", "topics"):
        settings = service_settings(monkeypatch, services[name])
        assert (settings.namespace, settings.topic_prefix) == (LIVE, namespace_prefix(LIVE)), name


def test_every_mounted_file_and_build_context_exists():
    services = spec()["services"]
    assert {
        "kafka",
        "topics",
        "monitor-1",
        "monitor-2",
        "simulator",
        "prometheus",
        "alertmanager",
        "grafana",
        "workbench",
        "cases-db",
    } <= set(services)
    assert services["workbench"]["command"] == ["serve"]
    assert services["workbench"]["environment"]["CDI_CASES_DATABASE_URL"].startswith("postgresql+psycopg://")
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE.parent / source).exists(), f"{name} mounts {source}, which does not exist"
        build = service.get("build")
        if build:
            assert (COMPOSE.parent / build["context"] / build["dockerfile"]).is_file()
    assert services["simulator"]["profiles"] == services["simulated-worker"]["profiles"] == ["simulate"]
    assert services["monitor-1"]["environment"]["CDI_CLOCK"] == "live"
    assert ENV_EXAMPLE.is_file()


def test_prometheus_config_scrapes_both_workers_with_the_rule_files():
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert jobs == {
        "cdi-monitor": ["monitor-1:6066", "monitor-2:6066"],
        "cdi-workbench": ["workbench:8080"],
    }
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: install the Debian package prometheus (tests/run.sh does)")


def test_the_wheel_carries_schemas_reference_tables_and_rules(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    [wheel] = tmp_path.glob("cdi_monitor-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for schema in (ROOT / "schemas").glob("*.json"):
        assert f"cdi/schemas/{schema.name}" in names
    for data in (
        "cdi/reference/manifest.toml",
        "cdi/reference/hocr_codes.csv",
        "cdi/reference/incident_codes.csv",
        "cdi/reference/offence_policies.csv",
        "cdi/reference/outcome_types.csv",
        "cdi/rules/default.toml",
        # The workbench's pages, vendored scripts and database migrations.
        "cdi/workbench/templates/cases.html.j2",
        "cdi/workbench/static/workbench.css",
        "cdi/workbench/static/workbench.js",
        "cdi/workbench/static/vendor/htmx-2.0.11.min.js",
        "cdi/workbench/static/vendor/LICENSE-htmx.txt",
        "cdi/workbench/migrations/env.py",
        "cdi/workbench/migrations/versions/0001_cases_view.py",
        "cdi/workbench/migrations/versions/0002_finding_assessment.py",
        # The Prometheus rules' templates (python -m cdi.alerting).
        "cdi/alerting/templates/alerts.yml.j2",
        "cdi/alerting/templates/recording.yml.j2",
        "cdi/alerting/templates/workbench.yml.j2",
    ):
        assert data in names


def test_workers_register_their_scrape_targets_where_prometheus_discovers_them(monkeypatch):
    """Every worker (the simulated force's included) writes its target file into the shared
    scrape-targets volume, which Prometheus reads in the monitor's job (file_sd_configs); the
    simulated force has no static job of its own any more, so it is scraped once."""
    compose = spec()
    services = compose["services"]
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    [monitor_job] = [job for job in config["scrape_configs"] if job["job_name"] == "cdi-monitor"]
    [discovery] = monitor_job["file_sd_configs"]
    [pattern] = discovery["files"]
    targets_in_prometheus = str(Path(pattern).parent)
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in services["prometheus"]["volumes"]}
    assert mounts[targets_in_prometheus] == "scrape-targets"
    assert f"scrape-targets:{targets_in_prometheus}:ro" in services["prometheus"]["volumes"]
    assert "scrape-targets" in compose["volumes"]
    for name in ("monitor-1", "monitor-2", "simulated-worker"):
        settings = service_settings(monkeypatch, services[name])
        assert settings.scrape_targets_dir is not None, name
        assert f"scrape-targets:{settings.scrape_targets_dir}" in services[name]["volumes"], name
        assert settings.metrics_host == "0.0.0.0" and services[name]["hostname"] == name, name
    # The file's pipeline label is dropped from the target (the worker labels its own series).
    assert {"action": "labeldrop", "regex": "pipeline"} in monitor_job["relabel_configs"]
    # Owned by the image's user, who writes the files (the Dockerfile's useradd --uid).
    uid = re.search(r"useradd .*--uid (\d+)", (ROOT / "Dockerfile").read_text())
    assert uid and f"uid={uid[1]}" in compose["volumes"]["scrape-targets"]["driver_opts"]["o"]
