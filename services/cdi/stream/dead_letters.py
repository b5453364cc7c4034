"""What goes to the dead-letter topic for a record the monitor cannot process.

A letter carries the original bytes (so nothing is lost and the record can be replayed once the
cause is fixed) and headers that say where it came from and why, never what it contained:
``cdi-source`` (topic:partition:offset), ``cdi-reason`` (a fixed word) and ``cdi-detail`` (the
rule broken and the field path). With ``CDI_DEAD_LETTER_PAYLOAD=hash`` the topic keeps only a
SHA-256 of the record instead of its bytes; a record too large for the topic also leaves only
such a stub, with its size. See README, "Guarantees".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

H_SOURCE = "cdi-source"  # topic:partition:offset of the original record
H_REASON = "cdi-reason"
H_DETAIL = "cdi-detail"
H_SIZE = "cdi-size"  # bytes of the original record, on a stub
H_SHA256 = "cdi-sha256"  # of the original record, on a stub
H_STUB = "cdi-stub"  # "hash" or "too_large": the value is empty, the record is not kept

# Below the producer's 1 MiB request limit and the broker's default message size, with room for
# the headers: a record larger than this leaves a stub.
MAX_LETTER_BYTES = 900 * 1024
MAX_KEY_BYTES = 1024
MAX_DETAIL_BYTES = 500


class DeadLetterSend(Protocol):
    """Sends a record to the dead-letter topic with its reason and detail; returns once the
    broker has acknowledged it (the route and the stages both send through one)."""

    async def dead_letter(
        self, key: bytes | None, value: bytes | None, source: str, reason: str, detail: str
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class Letter:
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


class DeadLetters:
    def __init__(self, payload: str = "raw") -> None:
        if payload not in {"raw", "hash"}:
            raise ValueError(f"dead-letter payload {payload!r}: use 'raw' or 'hash'")
        self.payload = payload

    @staticmethod
    def _headers(source: str, reason: str, detail: str) -> list[tuple[str, bytes]]:
        return [
            (H_SOURCE, source.encode()),
            (H_REASON, reason.encode()),
            (H_DETAIL, detail.encode()[:MAX_DETAIL_BYTES]),
        ]

    def letter(self, key: bytes | None, raw: bytes | None, source: str, reason: str, detail: str) -> Letter:
        raw = raw or b""
        if self.payload == "hash" or len(raw) > MAX_LETTER_BYTES:
            return self.stub(raw, source, reason, detail)
        if key is not None and len(key) > MAX_KEY_BYTES:
            key = None
        return Letter(key, raw, self._headers(source, reason, detail))

    def stub(self, raw: bytes | None, source: str, reason: str, detail: str) -> Letter:
        raw = raw or b""
        kind = "hash" if self.payload == "hash" else "too_large"
        headers = [
            *self._headers(source, reason, detail),
            (H_SIZE, str(len(raw)).encode()),
            (H_SHA256, hashlib.sha256(raw).hexdigest().encode()),
            (H_STUB, kind.encode()),
        ]
        return Letter(None, b"", headers)
