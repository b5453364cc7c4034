"""Every record of a stage partition, in offset order: a stage notices when Faust skips some.

Under load Faust has been seen to hand a stage agent a partition's records with a hole in them:
in the crash test, offsets 180 and 181 of a crime-events partition never reached the agent
while 179 and 182 did, with no rebalance logged. Faust counted the missing records as done, so
nothing would have delivered them again; the event was lost, the stage's clock moved past it on
the next progress marker, and after a restart the re-read record was dead-lettered as late.

A jump in offsets is taken for a skip: the agent seeks the partition back to the first missing
offset and drops what arrives before the re-delivery; records delivered twice are harmless,
because every stage drops events it has already applied (by event id). Records already queued
when the seek is made all lie beyond the one that revealed the hole, and the re-delivery starts
at or before it, so the first record at or before it ends the wait. If that record is not the
first missing offset, the offsets in between hold no record (an upstream producer's
transaction markers on an input topic; stage topics have none): nothing was lost. A wait that
never ends (the records deleted by retention meanwhile) is given up after ``patience`` dropped
records, and reported as lost.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

APPLY = "apply"  # process the record
SEEK = "seek"  # records are missing before it: seek back to ``target(partition)``; it comes again
DROP = "drop"  # past a hole, before the seek's re-delivery: it comes again
REFILLED = "refilled"  # the re-delivery has begun: process it
LOST = "lost"  # the seek never brought the hole back: process the record, report the hole

# Records a stage may drop while it waits for a seek to take effect: Faust's stream buffer
# (4,096 by default) plus what the consumer has prefetched, with a wide margin.
PATIENCE = 50_000


@dataclass(slots=True)
class DeliveryOrder:
    """Per partition (any hashable name: a number, a topic-partition), the next offset expected and
    the hole being waited for."""

    patience: int = PATIENCE
    following: dict[Hashable, int] = field(default_factory=dict)  # next expected offset
    seeking: dict[Hashable, int] = field(default_factory=dict)  # first missing offset, seek issued
    trigger: dict[Hashable, int] = field(default_factory=dict)  # the record that revealed the hole
    dropped: dict[Hashable, int] = field(default_factory=dict)  # records dropped while seeking

    def check(self, partition: Hashable, offset: int) -> str:
        target = self.seeking.get(partition)
        if target is not None:
            if offset < target:
                return APPLY  # older than the hole: a re-delivery
            if offset <= self.trigger[partition]:
                self._settle(partition)
                return self._accept(partition, offset, REFILLED)
            self.dropped[partition] += 1
            if self.dropped[partition] > self.patience:
                self._settle(partition)
                return self._accept(partition, offset, LOST)
            return DROP
        expected = self.following.get(partition)
        if expected is None or offset == expected:
            return self._accept(partition, offset, APPLY)
        if offset < expected:
            return APPLY  # a re-delivery (at start-up, or after a seek)
        self.seeking[partition] = expected
        self.trigger[partition] = offset
        self.dropped[partition] = 0
        return SEEK

    def target(self, partition: Hashable) -> int:
        return self.seeking[partition]

    def reset(self) -> None:
        """After a rebalance: partitions restart from their committed offsets."""
        self.following.clear()
        self.seeking.clear()
        self.trigger.clear()
        self.dropped.clear()

    def _settle(self, partition: Hashable) -> None:
        del self.seeking[partition]
        del self.trigger[partition]
        del self.dropped[partition]

    def _accept(self, partition: Hashable, offset: int, verdict: str) -> str:
        self.following[partition] = offset + 1
        return verdict
