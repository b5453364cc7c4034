"""Offline mode: the core over a history (any source ``cdi.sources`` reads), no broker.

The stream processor runs the same ``Monitor`` per partition; the end of the file counts as a
``history.ended`` marker at the latest event time, just as a bounded replay ends in the stream.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cdi import reference as reference_tables
from cdi import rules as rules_files
from cdi.contracts import Contracts, InvalidEvent
from cdi.core.events import Event
from cdi.core.observations import Observation, RecordingDecision
from cdi.core.pipeline import APPLIED, Monitor, OfflineRun, counted, refusals, rejection_detail
from cdi.core.stage import DUPLICATE
from cdi.sources import FINDINGS, History, SourceError, open_history
from cdi.sources.selection import Selection


@dataclass(slots=True)
class DeadLetter:
    line: str  # file:line
    reason: str
    detail: str
    raw: bytes


@dataclass(slots=True)
class BacktestResult:
    findings: list[Event] = field(default_factory=list)
    # Applied, by type, counted as the stream counts them: once, in the first stage that reads the
    # type (an event that stage refused is not counted, even where another stage applied it).
    events: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    # What the stream would dead-letter: one letter per stage that refused a record, the stage
    # named in its detail, so a record two stages refused has two.
    dead_letters: list[DeadLetter] = field(default_factory=list)
    decisions: Counter[str] = field(default_factory=Counter)
    observations: list[Observation] = field(default_factory=list)
    open_cases: dict[str, int] = field(default_factory=dict)
    lines: int = 0
    seconds: float = 0.0

    @property
    def rejected(self) -> Counter[str]:
        return Counter(d.reason for d in self.dead_letters)

    @property
    def refused_lines(self) -> int:
        """Lines with a dead letter (a record two stages refused has two letters)."""
        return len({d.line for d in self.dead_letters})


# Full collections during a run: one in this many of the middle generation's (the default is 10).
FULL_COLLECTION_EVERY = 100


@contextmanager
def rare_full_collections() -> Iterator[None]:
    """The case tables grow for the whole run, and every full collection walks all of them: three
    on 30 days cost ~7 % of the run. What a run leaves behind is young (events, steps) and freed
    as soon as it is done with, so full collections can wait; the young generations are collected
    as before. The process's thresholds are restored afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(before[0], before[1], max(before[2], FULL_COLLECTION_EVERY))
    try:
        yield
    finally:
        gc.set_threshold(*before)


def run(
    history: str | Path | Sequence[str | Path] | History,
    rules_path: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    keep_observations: bool = False,
    selection: Selection | None = None,
) -> BacktestResult:
    """Run the rules over ``history`` (a file, several files of one kind, or an opened source),
    taking only the events ``selection`` takes."""
    with rare_full_collections():
        return _run(history, rules_path, progress, keep_observations, selection)


def _run(
    history: str | Path | Sequence[str | Path] | History,
    rules_path: str | Path | None,
    progress: Callable[[int], None] | None,
    keep_observations: bool,
    selection: Selection | None,
) -> BacktestResult:
    if not isinstance(history, History):
        history = open_history([history] if isinstance(history, str | Path) else list(history))
    if history.kind == FINDINGS:
        raise SourceError(f"{history.name} holds findings, not events: give the history they came from")
    # No filter, no second parse of every line (the backtest's hot path).
    lines = history.lines() if selection is None or selection.everything else selection.apply(history.lines())
    contracts = Contracts()
    offline = OfflineRun.start(Monitor(rules_files.load(rules_path, contracts), reference_tables.load()))
    result = BacktestResult()
    started = time.perf_counter()

    def take(step_findings: list[Event], observations: list[Observation]) -> None:
        result.findings.extend(step_findings)
        for obs in observations:
            if isinstance(obs, RecordingDecision):
                result.decisions[obs.result] += 1
        if keep_observations:
            result.observations.extend(observations)

    for number, (where, raw) in enumerate(lines, start=1):
        result.lines = number
        try:
            event = contracts.decode(raw)
        except InvalidEvent as exc:
            result.dead_letters.append(DeadLetter(where, exc.reason, exc.detail, raw))
            continue
        step = offline.process(event)
        # As the stream counts it: a letter from each stage that refused it (future, too old, late,
        # or a case past its bound), once as applied or duplicate in the stage that counts it, and
        # the findings and observations of every stage that applied it.
        for reason, stage in refusals(step):
            result.dead_letters.append(DeadLetter(where, reason, rejection_detail(reason, stage), raw))
        how = counted(event.type, step)
        if how == APPLIED:
            result.events[event.type] += 1
        elif how == DUPLICATE:
            result.duplicates += 1
        take(step.findings, step.observations)
        if progress is not None and number % 5000 == 0:
            progress(number)
    step = offline.finish()
    take(step.findings, step.observations)
    result.open_cases = offline.open_cases()
    result.seconds = time.perf_counter() - started
    return result
