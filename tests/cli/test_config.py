"""`cdi config`, `cdi worker --help` and the README's settings table come from one declaration
of the CDI_* variables (cdi.environment), and secrets never show."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import orjson

from cdi import exit_codes
from cdi.effective_config import MASK, OTHER_VARIABLES
from cdi.environment import listing

ROOT = Path(__file__).parents[2]
PASSWORD = "correct-horse-battery"


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CDI_")}
    return subprocess.run(
        [sys.executable, "-m", "cdi", *args], env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def test_config_shows_each_setting_its_source_and_masks_secrets(tmp_path):
    env = {
        "CDI_KAFKA_BOOTSTRAP": "kafka-1:9092,kafka-2:9092",
        "CDI_NAMESPACE": "march-check",
        "CDI_STORE": "ROCKSDB",
        "CDI_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "CDI_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "CDI_KAFKA_SASL_USERNAME": "cdi-worker",
        "CDI_KAFKA_SASL_PASSWORD": PASSWORD,
        "CDI_REPLAY_KEY": PASSWORD,
        "CDI_WORKBENCH_SESSION_KEY": PASSWORD,
        "CDI_CASES_DATABASE_URL": f"postgresql+psycopg://cases:{PASSWORD}@db/cases",
    }
    done = run("config", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    shown = orjson.loads(done.stdout)
    assert shown["CDI_KAFKA_BOOTSTRAP"] == {"value": "kafka-1:9092,kafka-2:9092", "source": "environment"}
    assert shown["CDI_TOPIC_PREFIX"] == {"value": "cdi.march-check.", "source": "default"}
    assert shown["CDI_STORE"] == {"value": "rocksdb", "source": "environment"}
    assert shown["CDI_METRICS_PORT"] == {"value": "6066", "source": "default"}
    for secret in ("CDI_KAFKA_SASL_PASSWORD", "CDI_REPLAY_KEY", "CDI_WORKBENCH_SESSION_KEY"):
        assert shown[secret]["value"] == MASK
    assert shown["CDI_CASES_DATABASE_URL"]["value"] == "postgresql+psycopg://cases:***@db/cases"
    assert shown["CDI_KAFKA_SASL_USERNAME"]["value"] == "cdi-worker"
    text = run("config", env=env)
    assert text.returncode == 0 and PASSWORD not in text.stdout


def test_config_fails_on_a_bad_setting_as_the_worker_would():
    done = run("config", env={"CDI_PARTITIONS": "0"})
    assert done.returncode == exit_codes.CONFIG
    assert "CDI_PARTITIONS='0' must be from 1 to 10000" in " ".join(done.stderr.split())


def test_worker_help_lists_every_variable_with_its_default():
    done = run("worker", "--help", env={})
    said = " ".join(done.stdout.split())
    for name, default, _ in listing():
        assert f"{name} (default {default})" in said, name


def test_the_readme_lists_every_variable_with_its_default():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (`CDI_[^|]+) \| ([^|]+) \|", readme, re.MULTILINE))
    documented = {}
    for names, default in rows.items():
        for name in re.findall(r"`(CDI_[A-Z_]+)`", names):
            documented[name] = default.strip()
    for name, default, _ in listing():
        assert name in documented, f"{name} missing from the README's settings table"
        if default != "unset" and name != "CDI_TOPIC_PREFIX":
            assert default.removesuffix(".0") in documented[name], (name, default, documented[name])
    for name in OTHER_VARIABLES:
        if not name.endswith("_FILE"):
            assert name in documented, f"{name} missing from the README's settings table"
