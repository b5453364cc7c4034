"""Which ``history.ended`` markers a worker obeys.

A marker closes every deadline up to its time on the input partition it arrives on, so a forged
one is as harmful as a clock set years ahead. A live pipeline refuses them by default: a live
feed has no end. Elsewhere a worker accepts them (``accept``), or only those signed by
``cdi replay`` (``signed``): the replay tool puts an HMAC-SHA256 of the marker's bytes, keyed with
the replay key both sides are given (``CDI_REPLAY_KEY`` or ``CDI_REPLAY_KEY_FILE``), in the
``cdi-signature`` header. Kafka itself cannot tell a consumer who produced a record; the
signature is how the worker knows the marker came from the replay tool, and topic ACLs (README,
"Guarantees") keep everyone else off the input topics.
"""

from __future__ import annotations

import hashlib
import hmac

H_SIGNATURE = "cdi-signature"

REJECT, ACCEPT, SIGNED = "reject", "accept", "signed"


def signature(key: str, raw: bytes) -> bytes:
    return hmac.new(key.encode(), raw, hashlib.sha256).hexdigest().encode()


class EndMarkerPolicy:
    def __init__(self, policy: str, key: str | None) -> None:
        if policy not in {REJECT, ACCEPT, SIGNED}:
            raise ValueError(f"end-marker policy {policy!r}: use reject, accept or signed")
        if policy == SIGNED and not key:
            raise ValueError("CDI_END_MARKERS=signed needs CDI_REPLAY_KEY or CDI_REPLAY_KEY_FILE")
        self.policy = policy
        self.key = key

    def refusal(self, raw: bytes, headers: dict[str, bytes]) -> str | None:
        """None to obey the marker, else why it is refused (for the dead-letter detail)."""
        if self.policy == REJECT:
            return "end markers are refused on this pipeline (CDI_END_MARKERS)"
        if self.policy == ACCEPT:
            return None
        given = headers.get(H_SIGNATURE)
        if given is None:
            return "end marker is not signed with the replay key"
        if not hmac.compare_digest(given, signature(self.key or "", raw)):
            return "end marker's signature does not match the replay key"
        return None
