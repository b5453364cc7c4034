"""Outcome mix: outcomes assigned (``OutcomeCounted``) by outcome type, per division and per
offence group, named from the packaged outcome-type table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from cdi import reference
from cdi.core.observations import Observation, OutcomeCounted


@dataclass(frozen=True, slots=True)
class OutcomeType:
    type: int
    name: str
    out_of_court: bool
    unsuccessful: bool


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    name: str
    counts: dict[int, int]  # outcome type -> outcomes assigned
    total: int

    def count(self, outcome_type: int) -> int:
        return self.counts.get(outcome_type, 0)

    def share(self, outcome_type: int) -> float:
        return self.count(outcome_type) / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class OutcomeMix:
    types: tuple[OutcomeType, ...]  # those seen, by type number
    by_division: tuple[OutcomeRow, ...]
    by_offence_group: tuple[OutcomeRow, ...]
    totals: dict[int, int]  # outcome type -> outcomes assigned, all divisions
    total: int


def outcome_type(number: int) -> OutcomeType:
    known = reference.load().outcome_types.get(number)
    if known is None:
        return OutcomeType(number, f"Outcome {number} (not in the reference table)", False, False)
    return OutcomeType(number, known.name, known.out_of_court, known.unsuccessful)


def _rows(counts: dict[str, Counter[int]]) -> tuple[OutcomeRow, ...]:
    return tuple(
        OutcomeRow(name, dict(sorted(counts[name].items())), sum(counts[name].values())) for name in sorted(counts)
    )


def outcome_mix(observations: Iterable[Observation]) -> OutcomeMix:
    by_division: dict[str, Counter[int]] = {}
    by_group: dict[str, Counter[int]] = {}
    totals: Counter[int] = Counter()
    for obs in observations:
        if not isinstance(obs, OutcomeCounted):
            continue
        by_division.setdefault(obs.division, Counter())[obs.outcome_type] += 1
        by_group.setdefault(obs.offence_group, Counter())[obs.outcome_type] += 1
        totals[obs.outcome_type] += 1
    return OutcomeMix(
        tuple(outcome_type(number) for number in sorted(totals)),
        _rows(by_division),
        _rows(by_group),
        dict(sorted(totals.items())),
        sum(totals.values()),
    )
