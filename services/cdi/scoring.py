"""Compares findings with an expected set (simulator ground truth or another run), per rule.

Two findings match when type, finding id and event time agree; evidence and wording are
compared elsewhere (the streaming-equals-offline tests compare whole records).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Key = tuple[str, str, str]


def key_of(record: dict[str, Any]) -> Key:
    payload = record.get("payload", record)
    return (record["type"], payload["finding_id"], record["occurred_at"])


def rule_of(record: dict[str, Any]) -> str:
    return record.get("payload", record)["rule"]


@dataclass(frozen=True, slots=True)
class Score:
    rule: str
    expected: int
    found: int
    matched: int

    @property
    def precision(self) -> float:
        return self.matched / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.expected if self.expected else 1.0


def score(expected: Iterable[dict[str, Any]], found: Iterable[dict[str, Any]]) -> list[Score]:
    """Per rule and finding type, plus an ``all`` row last."""
    exp: dict[Key, str] = {key_of(r): rule_of(r) for r in expected}
    got: dict[Key, str] = {key_of(r): rule_of(r) for r in found}
    labels = sorted({f"{rule} ({k[0].split('.')[1]})" for k, rule in (exp | got).items()})
    rows = []
    for label in labels:
        e = {k for k, r in exp.items() if f"{r} ({k[0].split('.')[1]})" == label}
        g = {k for k, r in got.items() if f"{r} ({k[0].split('.')[1]})" == label}
        rows.append(Score(label, len(e), len(g), len(e & g)))
    rows.append(Score("all", len(exp), len(got), len(exp.keys() & got.keys())))
    return rows


def differences(expected: Iterable[dict[str, Any]], found: Iterable[dict[str, Any]]) -> tuple[list[Key], list[Key]]:
    """(missing from found, unexpected in found), sorted."""
    exp = {key_of(r) for r in expected}
    got = {key_of(r) for r in found}
    return sorted(exp - got), sorted(got - exp)
