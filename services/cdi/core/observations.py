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


Observation = RecordingDelay | RecordingDecision
