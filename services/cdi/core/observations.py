"""Measurements the core hands to the shell as data; the shell turns them into metrics."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RecordingDelay:
    """A linked crime's delay from incident report to crime record."""

    division: str
    offence_group: str
    seconds: float


@dataclass(frozen=True, slots=True)
class RecordingDecision:
    """A crime-indicative incident reached its deadline: recorded, explained or not_recorded."""

    division: str
    offence_group: str
    result: str


@dataclass(frozen=True, slots=True)
class CrimeCounted:
    """A crime record, for rates (cancellations per crime, for instance)."""

    division: str
    offence_group: str
    rape: bool


@dataclass(frozen=True, slots=True)
class OutcomeCounted:
    division: str
    offence_group: str
    outcome_type: int


@dataclass(frozen=True, slots=True)
class CancellationCounted:
    division: str
    offence_group: str
    code: str
    rape: bool


@dataclass(frozen=True, slots=True)
class ReclassificationCounted:
    division: str
    offence_group: str
    direction: str  # down | up | level | unknown


@dataclass(frozen=True, slots=True)
class UnmatchedDecision:
    """An outcome, cancellation or reclassification for a crime the monitor has no record of."""

    type: str


Observation = (
    RecordingDelay
    | RecordingDecision
    | CrimeCounted
    | OutcomeCounted
    | CancellationCounted
    | ReclassificationCounted
    | UnmatchedDecision
)
