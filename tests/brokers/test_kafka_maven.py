"""The Maven-fetched Kafka 4 broker works with both clients the project uses."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaConsumer
from kafka import KafkaAdminClient, KafkaProducer
from kafka.errors import KafkaError

from .kafka_maven import KafkaBroker

pytestmark = pytest.mark.integration

N_MESSAGES = 1000


@pytest.fixture(scope="module")
def broker() -> Iterator[KafkaBroker]:
    with KafkaBroker() as running:
        yield running


@pytest.fixture
def admin(broker: KafkaBroker) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)
    try:
        yield client
    finally:
        client.close()


async def _consume_all(bootstrap: str, topic: str, expected: int, timeout: float = 30.0) -> list[bytes]:
    # No group: plain earliest-offset reads, so the count is exact and independent of commits.
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    keys: list[bytes] = []
    try:
        deadline = time.monotonic() + timeout
        while len(keys) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            keys.extend(rec.key for recs in batches.values() for rec in recs if rec.key is not None)
        # One more poll catches duplicates or strays beyond the expected count.
        extra = await consumer.getmany(timeout_ms=500)
        keys.extend(rec.key for recs in extra.values() for rec in recs if rec.key is not None)
    finally:
        await consumer.stop()
    return keys


def test_produce_kafka_python_consume_aiokafka(broker: KafkaBroker, admin: KafkaAdminClient) -> None:
    topic = f"roundtrip-{uuid.uuid4().hex[:8]}"
    admin.create_topics({topic: {"num_partitions": 3, "replication_factor": 1}}, wait_for_metadata=True)
    [described] = admin.describe_topics([topic])
    assert len(described["partitions"]) == 3

    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", linger_ms=5)
    try:
        sent = [f"key-{i:04d}".encode() for i in range(N_MESSAGES)]
        futures = [producer.send(topic, key=key, value=b"v" + key) for key in sent]
        producer.flush(timeout=30)
        partitions = {future.get(timeout=10).partition for future in futures}
    finally:
        producer.close(timeout=10)
    assert partitions == {0, 1, 2}  # keyed messages spread over every partition

    received = asyncio.run(_consume_all(broker.bootstrap, topic, N_MESSAGES))
    assert len(received) == N_MESSAGES
    assert sorted(received) == sorted(sent)


def test_missing_topic_is_not_auto_created(broker: KafkaBroker, admin: KafkaAdminClient) -> None:
    topic = f"missing-{uuid.uuid4().hex[:8]}"
    # The client asks for auto-creation; the broker (auto.create.topics.enable=false) must refuse.
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, max_block_ms=3000, allow_auto_create_topics=True)
    try:
        with pytest.raises(KafkaError):
            producer.send(topic, key=b"k", value=b"v").get(timeout=5)
    finally:
        producer.close(timeout=5)
    assert topic not in admin.list_topics()
