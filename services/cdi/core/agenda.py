"""Due times in event time: which case needs attention once the watermark passes when.

A heap with lazy deletion: entries are never removed when a case changes, the case itself is
asked on pop whether the entry still stands. The agenda is derived state; after a restart or
rebalance it is rebuilt from the case records.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(slots=True)
class Agenda:
    _heap: list[tuple[int, int, str]] = field(default_factory=list)

    def add(self, due: int, kind: int, key: str) -> None:
        heapq.heappush(self._heap, (due, kind, key))

    def has_due(self, watermark: int) -> bool:
        """Whether ``pop_due`` would yield anything: most events pass no due time."""
        heap = self._heap
        return bool(heap) and heap[0][0] < watermark

    def pop_due(self, watermark: int) -> Iterator[tuple[int, int, str]]:
        """Pop entries whose time is strictly before the watermark, earliest first.

        Strictly: a watermark equal to the due time still admits events at that time.
        """
        heap = self._heap
        while heap and heap[0][0] < watermark:
            yield heapq.heappop(heap)

    def __len__(self) -> int:
        return len(self._heap)
