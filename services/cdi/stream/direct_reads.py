"""Which records a stage applies straight from its input topic, without the hop through its
internal topic.

Each input topic is read by one stage (``cdi.core.topology.READER``), the one keyed as the topic
is. A record goes to that stage's internal topic under the same key; with the same partition
count and the producer's partitioner (murmur2, Kafka's default, which the publisher and the
worker's producer both use), it would land on the partition with the input's own number. Faust
assigns topics of equal partition count to workers together (its co-partitioned assignment), so
that partition, its table and the input partition are all this worker's: the hop would only
bring the record back here. Such a record is applied at once instead.

Whatever else arrives is sent on as before: a record keyed differently upstream (another
partitioner, another key), a stage that is not the reader, or topics whose partition counts
differ. So nothing depends on upstream producers partitioning as the monitor would; the saving
depends on it.

The reader's partition p learns input partition p's progress from the records it reads there,
never from the progress markers the route broadcasts about it (``own_roles``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aiokafka.partitioner import DefaultPartitioner

from cdi.core.topology import READER, STAGE_TOPICS

_partitioner = DefaultPartitioner()


def stage_partition(key: bytes, partitions: int) -> int:
    """The partition a keyed record goes to on a topic of ``partitions`` partitions."""
    return _partitioner(key, range(partitions), None)


@dataclass(frozen=True, slots=True)
class DirectReads:
    """``partition_counts``: every topic role's partition count, as the worker found them."""

    partition_counts: Mapping[str, int]
    enabled: bool = True

    def reads_itself(self, role: str) -> bool:
        """True when the reader of the ``role`` input topic applies its records directly: its
        partition p then follows input partition p's progress from the records themselves."""
        count = self.partition_counts[role]
        return self.enabled and count == self.partition_counts[STAGE_TOPICS[READER[role]]]

    def applies(self, stage: str, role: str, partition: int, key: bytes) -> bool:
        """True when ``stage``, reading ``role`` itself, holds the case of a record keyed ``key``
        from ``partition`` of that topic: it applies the record instead of sending it on."""
        return (
            READER[role] == stage
            and self.reads_itself(role)
            and stage_partition(key, self.partition_counts[role]) == partition
        )

    def own_roles(self, stage: str) -> frozenset[str]:
        """The input topics whose partition p ``stage`` partition p follows itself. A progress
        marker about one of them is ignored there: it travels on the stage topic, the records it
        covers on the input topic, and after a crash the two are read again in no fixed order;
        heeded first, it would make the records re-read after it late."""
        return frozenset(role for role, reader in READER.items() if reader == stage and self.reads_itself(role))
