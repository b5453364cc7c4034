"""Every operator mistake and failure of issue 13's list, as a user meets it: the real `cdi`
command in a subprocess, one or two lines naming the thing and what to do, the documented exit
code (cdi.exit_codes, README "Exit codes"), never a traceback."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cdi import exit_codes
from cdi.cli import main
from cdi.history import write_events
from cdi.rules import DEFAULT
from cdi.simulation import SimulationOptions, simulate

ROOT = Path(__file__).parents[2]


def cdi(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 120) -> tuple[int, str, float]:
    """Exit code, what the user saw (stdout and stderr, wrapping undone) and the seconds taken."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CDI_")}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "cdi", *map(str, args)],
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    said = " ".join((done.stdout + done.stderr).split())
    assert "Traceback" not in said, said
    return done.returncode, said, time.monotonic() - started


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers, as a paused broker or another service."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield s.getsockname()[1]


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("errors") / "h.jsonl.gz"
    write_events(path, simulate(SimulationOptions(days=1, seed=5)).events)
    return path


@pytest.fixture(scope="module")
def bad_rules(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rules") / "bad.toml"
    text = DEFAULT.read_text(encoding="utf-8")
    path.write_text(text.replace('severity = "medium"', 'severity = "loud"', 1), encoding="utf-8")
    return path


UNREACHABLE = {
    "export": ["export", "--out", "{tmp}/x.jsonl.gz"],
    "replay --from-topic": ["replay", "--from-topic", "cdi.incidents", "--namespace", "x"],
    "replay": ["replay", "{history}", "--namespace", "x"],
    "worker": ["worker"],
    "demo": ["demo", "--days", "1"],
    "topics": ["topics"],
    "reset-clock": ["reset-clock", "--yes"],
}


@pytest.mark.parametrize("command", sorted(UNREACHABLE))
def test_a_broker_that_refuses_is_reported_within_seconds(command, history, tmp_path):
    args = [a.format(tmp=tmp_path, history=history) for a in UNREACHABLE[command]]
    code, said, seconds = cdi(*args, env={"CDI_KAFKA_BOOTSTRAP": f"127.0.0.1:{closed_port()}"})
    assert code == exit_codes.UNAVAILABLE, said
    assert "cannot reach Kafka at 127.0.0.1:" in said and "connection refused" in said, said
    assert "check CDI_KAFKA_BOOTSTRAP" in said
    assert seconds < 20, seconds  # CDI_CONNECT_TIMEOUT is 5 s; kafka-python alone takes 30 s
    assert "stopped the" not in said  # the demo stops nothing it never started


def test_a_port_that_accepts_but_never_answers_as_kafka_is_reported_within_seconds(silent_port):
    code, said, seconds = cdi("topics", env={"CDI_KAFKA_BOOTSTRAP": f"127.0.0.1:{silent_port}"})
    assert code == exit_codes.UNAVAILABLE, said
    assert "accepts connections but no Kafka broker answered" in said
    assert seconds < 30, seconds


def test_an_unknown_host_and_a_malformed_address_are_named():
    code, said, _ = cdi("topics", env={"CDI_KAFKA_BOOTSTRAP": "no-such-host.invalid:9092"})
    assert code == exit_codes.UNAVAILABLE and "unknown host" in said, said
    code, said, _ = cdi("topics", env={"CDI_KAFKA_BOOTSTRAP": "kafka"})
    assert code == exit_codes.CONFIG and "CDI_KAFKA_BOOTSTRAP='kafka' is not valid" in said, said
    assert "host:port[,host:port]" in said


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("CDI_METRICS_PORT", "0", "CDI_METRICS_PORT='0' must be from 1 to 65535"),
        ("CDI_METRICS_PORT", "70000", "CDI_METRICS_PORT='70000' must be from 1 to 65535"),
        ("CDI_LOG_LEVEL", "loud", "CDI_LOG_LEVEL='loud': use one of debug, info, warning, error, critical"),
        ("CDI_LOG_FORMAT", "xml", "CDI_LOG_FORMAT='xml': use one of auto, json, text"),
        ("CDI_SESSION_TIMEOUT", "soon", "CDI_SESSION_TIMEOUT='soon' is not a number"),
        ("CDI_STORE", "disk", "CDI_STORE='disk': use one of memory, rocksdb"),
        ("CDI_HEARTBEAT_INTERVAL", "10", "CDI_HEARTBEAT_INTERVAL (10 s) must be below CDI_SESSION_TIMEOUT (10 s)"),
        ("CDI_TOPIC_PREFIX", "cdi monitor.", "CDI_TOPIC_PREFIX='cdi monitor.' is not valid"),
        ("CDI_NAMESPACE", "March", "CDI_NAMESPACE='March' is not valid: the pipeline: live, or a replay's name"),
        ("CDI_RULES", "/no/such/rules.toml", "rules file /no/such/rules.toml not found"),
    ],
)
def test_a_bad_setting_names_the_variable_and_what_to_give(variable, value, said):
    # The bootstrap would refuse: a bad setting must be found first, before any connection.
    env = {"CDI_KAFKA_BOOTSTRAP": f"127.0.0.1:{closed_port()}", variable: value}
    code, text, _ = cdi("worker", env=env)
    assert code == exit_codes.CONFIG, text
    assert said in text, text


def test_a_bad_rules_file_lists_the_allowed_values_without_a_misleading_line(bad_rules, history):
    for args, env in (
        (["worker"], {"CDI_KAFKA_BOOTSTRAP": f"127.0.0.1:{closed_port()}", "CDI_RULES": str(bad_rules)}),
        (["backtest", history, "--rules", bad_rules], {}),
    ):
        code, said, _ = cdi(*args, env=env)
        assert code == exit_codes.CONFIG, said
        assert "severity: 'loud' is not allowed; use one of: low, medium, high, critical" in said
        assert "Unevaluated" not in said and "unexpected" not in said


def test_a_metrics_port_in_use_is_named_before_connecting():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        env = {"CDI_KAFKA_BOOTSTRAP": f"127.0.0.1:{closed_port()}", "CDI_METRICS_PORT": str(port)}
        code, said, _ = cdi("worker", env=env)
    assert code == exit_codes.CONFIG, said
    assert f"127.0.0.1:{port} is in use by another process; set CDI_METRICS_PORT to a free port" in said


def test_no_bootstrap_says_what_to_set():
    code, said, _ = cdi("worker")
    assert code == exit_codes.CONFIG and "CDI_KAFKA_BOOTSTRAP is not set" in said and "cdi demo" in said


@pytest.mark.parametrize("command", ["simulate", "backtest", "report"])
def test_a_missing_output_folder_is_named_before_any_work(command, history, tmp_path):
    out = tmp_path / "missing" / "out.file"
    args = {
        "simulate": ["simulate", "--days", "1", "--out", out],
        "backtest": ["backtest", history, "--out", out],
        "report": ["report", history, "--out", out],
    }[command]
    code, said, _ = cdi(*args)
    assert code == exit_codes.CANNOT_WRITE, said
    assert f"--out {out}: the folder {out.parent} does not exist; create it or choose another path" in said


def test_an_empty_history_or_a_selection_that_matches_nothing_warns_and_fails(history, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    code, said, _ = cdi("backtest", empty)
    assert code == exit_codes.NOTHING and "empty.jsonl holds no events" in said, said
    code, said, _ = cdi("report", empty, "--out", tmp_path / "r.html")
    assert code == exit_codes.NOTHING and "was not written" in said and not (tmp_path / "r.html").exists(), said
    code, said, _ = cdi("backtest", history, "--division", "NOWHERE")
    assert code == exit_codes.NOTHING, said
    assert "no event of h.jsonl.gz matched the selection (divisions NOWHERE)" in said
    # A replay counts its history before it needs the broker.
    code, said, _ = cdi("replay", history, "--to", "2000-01-01", env={"CDI_KAFKA_BOOTSTRAP": "127.0.0.1:1"})
    assert code == exit_codes.NOTHING and "no event to replay" in said, said


def test_an_internal_error_is_one_line_unless_debug_is_asked_for():
    """No traceback (it may quote a record) unless --debug or CDI_DEBUG=1; the line names the
    exception type and the exit code says it is a defect."""

    @click.command("explode")
    def explode() -> None:
        raise ValueError("a record value that must not be shown")

    main.add_command(explode)
    try:
        runner = CliRunner()
        quiet = runner.invoke(main, ["explode"])
        assert quiet.exit_code == exit_codes.INTERNAL
        assert "internal error (ValueError" in quiet.output and "--debug" in quiet.output
        assert "must not be shown" not in quiet.output
        for args, env in ((["--debug", "explode"], {}), (["explode"], {"CDI_DEBUG": "1"})):
            loud = runner.invoke(main, args, env=env)
            assert isinstance(loud.exception, ValueError), loud.output
    finally:
        main.commands.pop("explode")


def test_every_exit_code_is_documented_in_the_readme_and_in_help():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Exit codes") :]
    section = section[: section.index("\n#")]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", section, re.MULTILINE)}
    assert documented == set(exit_codes.MEANINGS)
    code, said, _ = cdi("--help")
    assert code == 0
    assert all(f"{value} {meaning}" in said for value, meaning in exit_codes.MEANINGS.items())
