"""Shared fixtures. The Kafka broker, in order of preference: CDI_KAFKA_BOOTSTRAP; testcontainers'
Kafka container where a Docker engine answers; otherwise Apache Kafka from Maven Central jars,
started on a loopback port (tests/brokers/kafka_maven.py), which is what CI uses here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `tests.*` imports from any rootdir


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
