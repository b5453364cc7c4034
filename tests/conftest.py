"""Shared fixtures. The Kafka broker, in order of preference: CDI_KAFKA_BOOTSTRAP; testcontainers'
Kafka container where a Docker engine answers; otherwise Apache Kafka from Maven Central jars,
started on a loopback port (tests/brokers/kafka_maven.py), which is what CI uses here.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `tests.*` imports from any rootdir

if TYPE_CHECKING:
    from selenium.webdriver import Chrome

    from tests.databases.postgres_server import PostgresServer


# A suite started in the background by a non-interactive shell (`cmd &`, nohup) inherits SIGINT
# ignored, and so would every command it starts: the tests that press Ctrl-C on a replay, the
# broker check or the demo would find it ignored. A Python handler here resets to the default in
# each child at exec.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _docker_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=2)
        client.ping()
        return True
    except Exception:  # no SDK, no socket, no daemon: all mean "no Docker here"
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    configured = os.environ.get("CDI_KAFKA_BOOTSTRAP", "").strip()
    if configured:
        yield configured
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:4.1.2").with_kraft() as container:
            yield container.get_bootstrap_server()
        return
    from tests.brokers.kafka_maven import KafkaBroker

    with KafkaBroker() as broker:
        yield broker.bootstrap


# Imported inside the fixtures so that a run which uses neither never imports psycopg or selenium.
@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster (tests/databases/postgres_server.py); make databases with
    ``create_database(name)``, unique per session."""
    from tests.databases.postgres_server import PostgresServer

    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chrome]:
    """One headless Chromium for the session (tests/browsers/chromium.py); downloads land in a temp dir."""
    from tests.browsers.chromium import chromium_driver

    driver = chromium_driver(download_dir=tmp_path_factory.mktemp("downloads"))
    try:
        yield driver
    finally:
        driver.quit()
