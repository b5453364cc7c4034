"""Every Kafka client of the monitor over TLS and SASL, on a real Kafka 4 broker with a SASL_SSL
listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and an SSL listener that requires a client
certificate, both signed by a CA made for the test run: the topic admin, the replay publisher, the
topic-range reader, and a `cdi worker` subprocess (Faust over aiokafka) whose findings must equal the
offline backtest's. Wrong credentials and an untrusted CA fail with an error that says what to set.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from cdi import backtest, exit_codes
from cdi.history import read_lines, write_events
from cdi.kafka_security import KafkaSecurity, KafkaSecurityError
from cdi.publish import publish
from cdi.simulation import SimulationOptions, simulate
from cdi.sources.selection import Selection
from cdi.sources.topic_range import read_range
from cdi.topics import INPUT_ROLES, Topics, ensure_topics
from tests.stream.worker_process import WorkerProcess, findings, isolated_settings, read_topic

from .kafka_maven import KafkaBroker

pytestmark = [pytest.mark.integration, pytest.mark.slow]

USER = "cdi"
PASSWORD = secrets.token_hex(16)
# kafka-python gives up on a broker after 30 s (its bootstrap timeout); a failure must be reported
# by then, with room for a loaded machine, and never turn into a hang.
FAILS_WITHIN = 75.0


@pytest.fixture(scope="module")
def broker() -> Iterator[KafkaBroker]:
    with KafkaBroker(sasl_users={USER: PASSWORD}) as running:
        yield running


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, backtest.BacktestResult]:
    sim = simulate(SimulationOptions(days=4, seed=3))
    path = tmp_path_factory.mktemp("history") / "history.jsonl.gz"
    write_events(path, sim.events)
    return path, backtest.run(path)


def sasl_ssl(broker: KafkaBroker, mechanism: str, password: str = PASSWORD, **changes: object) -> KafkaSecurity:
    fields: dict[str, object] = {
        "protocol": "SASL_SSL",
        "ssl_cafile": broker.tls.ca_file,
        "sasl_mechanism": mechanism,
        "sasl_username": USER,
        "sasl_password": password,
    }
    return KafkaSecurity(**{**fields, **changes})  # type: ignore[arg-type]


def mutual_tls(broker: KafkaBroker) -> KafkaSecurity:
    return KafkaSecurity(protocol="SSL", ssl_cafile=broker.tls.ca_file, ssl_certfile=broker.tls.client_cert_file)


def round_trip(settings, lines: list[bytes]) -> None:  # type: ignore[no-untyped-def]
    """Topics created, the lines published, and the same lines read back as a topic range."""
    counts = ensure_topics(settings)
    assert counts["incidents"] == settings.partitions
    published = publish(settings, lines)
    assert published.events == len(lines) and published.unroutable == 0
    names = [Topics(settings.topic_prefix).name(role) for role in INPUT_ROLES]
    read = read_range(settings.bootstrap, names, Selection(), security=settings.security)
    assert sorted(read) == sorted(lines)  # the end markers the publisher added are not history


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"])
def test_admin_publisher_and_range_reader_over_sasl_ssl(broker, history, mechanism: str) -> None:
    path, _ = history
    lines = [raw for _, raw in read_lines(path)][:3000]
    round_trip(isolated_settings(broker.bootstrap_for("SASL_SSL"), security=sasl_ssl(broker, mechanism)), lines)


def test_admin_publisher_and_range_reader_over_tls_with_a_client_certificate(broker, history) -> None:
    path, _ = history
    lines = [raw for _, raw in read_lines(path)][:1000]
    round_trip(isolated_settings(broker.bootstrap_for("SSL"), security=mutual_tls(broker)), lines)


def test_worker_over_sasl_ssl_with_a_password_file_finds_what_the_backtest_finds(
    broker, history, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, offline = history
    secret = tmp_path / "kafka-password"  # as a Docker or Kubernetes secret is mounted
    secret.write_text(PASSWORD + "\n")
    for name, value in {
        "CDI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "CDI_KAFKA_SSL_CAFILE": str(broker.tls.ca_file),
        "CDI_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "CDI_KAFKA_SASL_USERNAME": USER,
        "CDI_KAFKA_SASL_PASSWORD_FILE": str(secret),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CDI_KAFKA_SASL_PASSWORD", raising=False)
    security = KafkaSecurity.from_env()
    settings = isolated_settings(broker.bootstrap_for("SASL_SSL"), security=security)
    assert settings.to_env()["CDI_KAFKA_SASL_PASSWORD_FILE"] == str(secret)  # the worker reads the file itself
    expected = sorted(
        (f.to_dict() for f in offline.findings), key=lambda r: (r["occurred_at"], r["event_id"], r["type"])
    )
    assert expected, "the simulated history should raise findings"
    with WorkerProcess(settings) as worker:
        published = publish(settings, (raw for _, raw in read_lines(path)))
        got = findings(read_topic(settings, "findings", until=len(expected), timeout=240))
        assert got == expected
        assert published.events == sum(offline.events.values()) + offline.duplicates
        log = worker.log()
    assert PASSWORD not in log


def test_wrong_password_is_reported_not_retried_forever(broker) -> None:
    settings = isolated_settings(
        broker.bootstrap_for("SASL_SSL"), security=sasl_ssl(broker, "SCRAM-SHA-256", password="not-" + PASSWORD)
    )
    started = time.monotonic()
    with pytest.raises(KafkaSecurityError) as raised:
        ensure_topics(settings)
    assert time.monotonic() - started < FAILS_WITHIN
    message = str(raised.value)
    assert "refused the login" in message and "CDI_KAFKA_SASL_PASSWORD" in message
    assert PASSWORD not in message


def test_untrusted_ca_is_reported(broker, history, tmp_path: Path) -> None:
    stranger = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(stranger))
    settings = isolated_settings(
        broker.bootstrap_for("SASL_SSL"), security=sasl_ssl(broker, "PLAIN", ssl_cafile=stranger)
    )
    path, _ = history
    started = time.monotonic()
    with pytest.raises(KafkaSecurityError, match=r"not trusted.*set CDI_KAFKA_SSL_CAFILE"):
        publish(settings, [raw for _, raw in read_lines(path)][:10])
    assert time.monotonic() - started < FAILS_WITHIN


def test_missing_client_certificate_is_reported(broker) -> None:
    settings = isolated_settings(
        broker.bootstrap_for("SSL"), security=KafkaSecurity(protocol="SSL", ssl_cafile=broker.tls.ca_file)
    )
    started = time.monotonic()
    with pytest.raises(KafkaSecurityError, match=r"rejected the client certificate.*CDI_KAFKA_SSL_CERTFILE"):
        read_range(settings.bootstrap, ["any"], Selection(), security=settings.security)
    assert time.monotonic() - started < FAILS_WITHIN


def test_worker_with_a_wrong_password_exits_with_the_reason(broker) -> None:
    settings = isolated_settings(
        broker.bootstrap_for("SASL_SSL"), security=sasl_ssl(broker, "SCRAM-SHA-512", password="not-" + PASSWORD)
    )
    worker = WorkerProcess(settings)
    try:
        process = worker.launch()
        code = process.wait(timeout=FAILS_WITHIN + 30)
        log = " ".join(worker.log().split())  # the console wraps long lines
        # A refusal kafka-python recognises is a bad setting (78); only closed connections look
        # like a broker that does not answer (69). Either way, found before the worker starts.
        assert code in (exit_codes.CONFIG, exit_codes.UNAVAILABLE), log[-3000:]
        # kafka-python sees the broker's login error, or (in some runs) only the connections it
        # then closes: either way the worker names the settings to check.
        assert ("refused the login" in log and "CDI_KAFKA_SASL_PASSWORD" in log) or (
            "CDI_KAFKA_SECURITY_PROTOCOL" in log and "its credentials match the listener" in log
        ), log[-3000:]
        assert PASSWORD not in log
    finally:
        worker.stop()
