"""Dead letters and end markers, without a broker: what a letter holds, and which markers count."""

from __future__ import annotations

import hashlib

import pytest

from cdi.settings import Settings
from cdi.stream.dead_letters import (
    H_DETAIL,
    H_REASON,
    H_SHA256,
    H_SIZE,
    H_SOURCE,
    H_STUB,
    MAX_LETTER_BYTES,
    DeadLetters,
)
from cdi.stream.end_markers import H_SIGNATURE, EndMarkerPolicy, signature

RAW = b'{"division": "John Smith"}'


def test_a_letter_keeps_the_record_and_says_where_and_why():
    letter = DeadLetters("raw").letter(b"INC-1", RAW, "cdi.incidents:2:17", "schema", "/division: fails 'pattern'")
    assert (letter.key, letter.value) == (b"INC-1", RAW)
    assert dict(letter.headers) == {
        H_SOURCE: b"cdi.incidents:2:17",
        H_REASON: b"schema",
        H_DETAIL: b"/division: fails 'pattern'",
    }


def test_hash_mode_keeps_only_a_digest_and_the_size():
    letter = DeadLetters("hash").letter(b"INC-1", RAW, "cdi.incidents:2:17", "schema", "x")
    assert letter.value == b"" and letter.key is None
    headers = dict(letter.headers)
    assert headers[H_SHA256] == hashlib.sha256(RAW).hexdigest().encode()
    assert headers[H_SIZE] == str(len(RAW)).encode() and headers[H_STUB] == b"hash"
    assert b"John" not in b"".join(headers.values())


def test_a_record_too_large_for_the_topic_leaves_a_stub():
    raw = b"x" * (MAX_LETTER_BYTES + 1)
    letter = DeadLetters("raw").letter(b"k" * 5000, raw, "cdi.incidents:0:1", "too_large", "big")
    assert letter.value == b"" and dict(letter.headers)[H_STUB] == b"too_large"
    assert dict(letter.headers)[H_SIZE] == str(len(raw)).encode()
    small = DeadLetters("raw").letter(b"k" * 5000, RAW, "s", "r", "d")
    assert small.key is None  # an oversized key is dropped, the record is kept


def test_end_markers_follow_the_deployment_policy():
    marker = b'{"type": "history.ended"}'
    assert EndMarkerPolicy("reject", None).refusal(marker, {}) is not None
    assert EndMarkerPolicy("accept", None).refusal(marker, {}) is None
    signed = EndMarkerPolicy("signed", "k3y")
    assert signed.refusal(marker, {}) == "end marker is not signed with the replay key"
    assert signed.refusal(marker, {H_SIGNATURE: signature("other", marker)}) is not None
    assert signed.refusal(marker + b" ", {H_SIGNATURE: signature("k3y", marker)}) is not None
    assert signed.refusal(marker, {H_SIGNATURE: signature("k3y", marker)}) is None
    with pytest.raises(ValueError, match="CDI_REPLAY_KEY"):
        EndMarkerPolicy("signed", None)


def test_the_live_pipeline_refuses_end_markers_unless_told_otherwise():
    assert Settings().end_marker_policy() == "reject"
    assert Settings(namespace="march-check").end_marker_policy() == "accept"
    assert Settings(namespace="march-check", replay_key="k").end_marker_policy() == "signed"
    assert Settings(replay_key="k").end_marker_policy() == "reject"
    assert Settings(end_markers="signed", replay_key="k").end_marker_policy() == "signed"


def test_the_replay_key_comes_from_a_file(tmp_path, monkeypatch):
    secret = tmp_path / "replay.key"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("CDI_REPLAY_KEY_FILE", str(secret))
    settings = Settings.from_env()
    assert settings.replay_key == "s3cret"
    assert "s3cret" not in repr(settings)
