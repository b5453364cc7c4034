"""The full-stack deploy, checked as far as this machine allows (no Docker engine): the compose
file validates with docker-compose (which rejects unknown keys), every file it mounts exists, and
the wheel the image installs carries the data files the monitor reads at run time."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "docker-compose.yml"


def docker_compose() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        pytest.fail("docker-compose is missing: install the Debian package docker-compose (tests/run.sh does)")
    return found


# The workbench's sign-in tokens have no default: compose refuses to start without them.
TOKENS_ENV = {**os.environ, "CDI_WORKBENCH_TOKENS": "FCR-7:registrar:example"}


def test_compose_file_is_valid():
    result = subprocess.run(
        [docker_compose(), "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, env=TOKENS_ENV
    )
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_the_workbench_without_sign_in_tokens():
    env = {k: v for k, v in os.environ.items() if k != "CDI_WORKBENCH_TOKENS"}
    result = subprocess.run(
        [docker_compose(), "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, env=env
    )
    assert result.returncode != 0 and "set CDI_WORKBENCH_TOKENS" in result.stderr


def test_compose_validation_rejects_an_unknown_key(tmp_path):
    broken = yaml.safe_load(COMPOSE.read_text())
    broken["services"]["monitor-1"]["restart_policy_typo"] = "always"
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    result = subprocess.run(
        [docker_compose(), "-f", str(path), "config", "-q"], capture_output=True, text=True, env=TOKENS_ENV
    )
    assert result.returncode != 0 and "restart_policy_typo" in result.stderr


def test_every_mounted_file_and_build_context_exists():
    spec = yaml.safe_load(COMPOSE.read_text())
    services = spec["services"]
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
    # The simulation replays the past: its own namespace and an event-clock worker.
    assert services["simulated-worker"]["environment"]["CDI_CLOCK"] == "event"
    assert services["simulated-worker"]["environment"]["CDI_TOPIC_PREFIX"] == "cdi-sim."
    assert services["simulator"]["environment"]["CDI_TOPIC_PREFIX"] == "cdi-sim."


def test_prometheus_config_scrapes_both_workers_with_the_rule_files():
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert jobs == {
        "cdi-monitor": ["monitor-1:6066", "monitor-2:6066"],
        "cdi-simulation": ["simulated-worker:6066"],
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
    ):
        assert data in names
