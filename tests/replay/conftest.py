"""Replay tests: short handcrafted histories (a replay at 1x takes as long as the history) and
the CLI run as operators run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cdi.settings import Settings
from tests.core.scenario import Scenario

# Outcome rules fire at the outcome's own event time, so a history seconds long raises findings.
BREACHES = (
    ("34B", "robbery", 3, {"exceptional": False}),  # CAUTION_INDICTABLE_ONLY
    ("49", "theft", 3, {"exceptional": False}),  # allowed: no finding
    ("5D", "sexual_offences", 3, {"exceptional": True, "dpp": False}),  # CAUTION_INDICTABLE_ONLY
    ("49", "theft", 6, {"age": 16}),  # PND_ELIGIBILITY: under 18
    ("34B", "robbery", 8, {}),  # CR_INELIGIBLE: community resolution for robbery
)


def short_history(spacing_seconds: float, crimes: int = 8) -> list[dict]:
    """Crimes and their outcomes, one event every ``spacing_seconds`` of event time."""
    s = Scenario()
    step = spacing_seconds / 3600
    t = 0.0
    for n in range(crimes):
        code, group, outcome, options = BREACHES[n % len(BREACHES)]
        s.crime(f"C{n}", None, t, code, group)
        t += step
        s.outcome(f"C{n}", t, outcome, offender=f"PR-{n:08x}", **options)
        t += step
    return s.records


def cli(settings: Settings, *args: str, timeout: float = 300, **popen) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings.to_env(), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "cdi", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **popen,
    )


def written(path: Path, records: list[dict]) -> Path:
    from cdi.history import write_events

    write_events(path, records)
    return path
