"""The raw ceiling: one aiokafka consumer reading every partition of the input topics as fast as it
can, with no group, no processing and no commits. Nothing on the consuming side of a Python worker
can go faster on this machine and broker; the Faust floor (benchmarks/faust_floor.py) shows what
Faust's per-message path costs on top of it.

The consumer is assigned every input partition and seeks to the beginning; the time runs from its
first ``getmany`` (10,000 records at most per call) until it holds every record the topics had.

    python benchmarks/ceiling.py   # reads the input topics of CDI_TOPIC_PREFIX on CDI_KAFKA_BOOTSTRAP
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.drain import PROGRESS_EVERY_S, BrokerWatch, say
from cdi.kafka_security import KafkaSecurity
from cdi.settings import Settings
from cdi.topics import INPUT_ROLES, Topics

MAX_RECORDS = 10_000


@dataclass(frozen=True, slots=True)
class CeilingRun:
    records: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds


def _aiokafka_security(security: KafkaSecurity) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"security_protocol": security.protocol}
    if security.uses_ssl:
        kwargs["ssl_context"] = security.ssl_context()
    if security.uses_sasl:
        kwargs |= {
            "sasl_mechanism": security.sasl_mechanism,
            "sasl_plain_username": security.sasl_username,
            "sasl_plain_password": security.sasl_password,
        }
    return kwargs


async def _drain(settings: Settings, partitions: list[tuple[str, int]], expected: int, timeout_s: float) -> CeilingRun:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="cdi-bench-ceiling",
        **_aiokafka_security(settings.security),
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, partition) for topic, partition in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        seen = 0
        started = last_said = time.perf_counter()
        while seen < expected:
            batches = await consumer.getmany(timeout_ms=500, max_records=MAX_RECORDS)
            seen += sum(len(records) for records in batches.values())
            now = time.perf_counter()
            if now - last_said >= PROGRESS_EVERY_S:
                say(f"  ceiling: {seen:,} of {expected:,} records read")
                last_said = now
            if now - started > timeout_s:
                raise RuntimeError(f"ceiling: read {seen:,} of {expected:,} records in {timeout_s:.0f} s")
        return CeilingRun(seen, time.perf_counter() - started)
    finally:
        await consumer.stop()


def measure(settings: Settings, timeout_s: float = 600) -> CeilingRun:
    """Read every record on the input topics of ``settings``' namespace, once."""
    inputs = [Topics(settings.topic_prefix).name(role) for role in INPUT_ROLES]
    with BrokerWatch(settings) as watch:
        ends = watch.ends(inputs)
    partitions = [(tp.topic, tp.partition) for tp in ends]
    run = asyncio.run(_drain(settings, partitions, sum(ends.values()), timeout_s))
    say(f"  ceiling: {run.records:,} records in {run.seconds:.3f} s = {run.rate:,.0f}/s")
    return run


if __name__ == "__main__":
    measure(Settings.from_env())
