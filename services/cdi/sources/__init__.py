"""History sources: every file a history command takes, recognised from its content.

- ``events``: the monitor's own JSON-lines histories (plain or gzip), as ``cdi simulate`` and
  ``cdi export`` write them;
- ``findings``: JSON lines of finding.raised / finding.resolved (``cdi backtest --out``,
  ``cdi export --topic findings``), which only ``cdi report`` reads;
- ``police.uk``: the monthly street and outcomes CSV exports of data.police.uk, converted to
  events through the versioned mapping in ``cdi.sources.policeuk``.

Every source yields ``(where, raw line)`` pairs, ``where`` naming the file and line for error
reports, so the offline backtest and the replay publisher treat all sources alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from cdi.history import HistoryFileError, read_lines

EVENTS = "events"
FINDINGS = "findings"
POLICE_UK = "police.uk"


# A file no history command can read (damaged or cut short included), or a mix of kinds.
SourceError = HistoryFileError


def _first_line(path: Path) -> bytes:
    try:
        return next((line for _, line in read_lines(path)), b"")
    except (OSError, EOFError) as exc:
        raise SourceError(f"{path}: cannot be read ({exc})") from None


def kind_of(path: Path) -> str:
    """The kind of one file, from its content (not its name)."""
    from cdi.sources import policeuk

    if policeuk.sniff(path) is not None:
        return POLICE_UK
    first = _first_line(path)
    if not first:
        return EVENTS  # an empty history is a valid, empty history
    try:
        record = orjson.loads(first)
    except orjson.JSONDecodeError:
        raise SourceError(
            f"{path}: neither a JSON-lines history nor a police.uk street/outcomes CSV "
            "(its first line is not JSON and not a police.uk header)"
        ) from None
    if isinstance(record, dict) and str(record.get("type", "")).startswith("finding."):
        return FINDINGS
    return EVENTS


@dataclass(slots=True)
class History:
    kind: str
    paths: list[Path]
    notes: list[str] = field(default_factory=list)  # what a conversion could not carry over
    _converted: list[bytes] | None = None

    @property
    def name(self) -> str:
        return ", ".join(p.name for p in self.paths)

    def lines(self) -> Iterator[tuple[str, bytes]]:
        if self._converted is not None:
            first = self.paths[0].name
            return ((f"{first}#{n}", raw) for n, raw in enumerate(self._converted, start=1))
        return ((f"{path.name}:{n}", raw) for path in self.paths for n, raw in read_lines(path))


def open_history(paths: Sequence[Path | str]) -> History:
    """Recognise the files' kind; they must all be of one kind (a street file and an outcomes file
    of police.uk count as one)."""
    files = [Path(p) for p in paths]
    if not files:
        raise SourceError("no history given")
    for path in files:
        if not path.is_file():
            raise SourceError(f"{path}: no such file")
    kinds = {path: kind_of(path) for path in files}
    found = set(kinds.values())
    if len(found) > 1:
        listing = ", ".join(f"{p.name} ({k})" for p, k in kinds.items())
        raise SourceError(f"the files are of different kinds: {listing}; give one kind per command")
    kind = found.pop()
    history = History(kind, files)
    if kind == POLICE_UK:
        from cdi.sources import policeuk

        imported = policeuk.read(files)
        history._converted = [orjson.dumps(event) for event in imported.events]
        history.notes.append(imported.summary())
    return history
