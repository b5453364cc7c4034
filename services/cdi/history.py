"""History files: one JSON event per line, plain or gzip-compressed (``.gz``).

Writing is byte-reproducible: the gzip header carries no file name and a zero mtime, so the
same events always give the same bytes (the simulator's same-seed guarantee rests on this).
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson


def _open_read(path: Path) -> IO[bytes]:
    raw = path.open("rb")
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    raw.seek(0)
    return raw


class HistoryFileError(ValueError):
    """A history file that cannot be read, to its end or at all (cdi.sources calls it SourceError)."""


def read_lines(path: str | Path) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, raw line) for every non-blank line; decoding is the caller's."""
    number = 0
    try:
        with _open_read(Path(path)) as fh:
            for number, line in enumerate(fh, start=1):
                line = line.strip()
                if line:
                    yield number, line
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        # A download or copy cut short: say which file and how far it read, not "Aborted!".
        raise HistoryFileError(
            f"{path}: the compressed file is damaged or ends early after line {number:,} "
            f"({type(exc).__name__}); copy or download it again"
        ) from None


def read_events(path: str | Path) -> Iterator[dict[str, Any]]:
    for _, line in read_lines(path):
        yield orjson.loads(line)


class HistoryWriter:
    """Writes events as JSON lines; gzip when the path ends in ``.gz``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._raw = self.path.open("wb")
        self._out: IO[bytes]
        if self.path.suffix == ".gz":
            self._out = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)
        else:
            self._out = io.BufferedWriter(self._raw)  # type: ignore[arg-type]
        self.count = 0

    def write(self, event: dict[str, Any] | bytes) -> None:
        data = event if isinstance(event, bytes) else orjson.dumps(event)
        self._out.write(data)
        self._out.write(b"\n")
        self.count += 1

    def close(self) -> None:
        self._out.close()
        if not self._raw.closed:
            self._raw.close()

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_events(path: str | Path, events: Iterable[dict[str, Any] | bytes]) -> int:
    with HistoryWriter(path) as writer:
        for event in events:
            writer.write(event)
        return writer.count
