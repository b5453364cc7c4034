"""The worker's local table files (RocksDB) and whether they can be trusted after the last run.

Faust's RocksDB store writes every table change to the local database at once, and sends it to
the changelog topic later, in the background. After a clean stop both agree. After a crash
(SIGKILL, power loss, OOM) the local files hold changes whose changelog records never went out,
and the stored changelog offset is older still. Recovery then replays the changelog from that
offset over the newer local files: keys the replay touches go back in time, keys it does not
touch stay ahead, and the partition's state is a mix no sequence of events produced (seen in
the crash test: an incident lost its crime link while the clock stayed ahead, so the re-read
crime event was dead-lettered as late and a false "not crimed" finding followed).

The changelog alone is a consistent prefix of what the worker did, so after an unclean stop the
local files are deleted and the tables are rebuilt from the changelog, as the memory store does
on every start. A marker file says a run is in progress: present at start means the last run
did not stop cleanly.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

log = logging.getLogger("cdi.worker")

MARKER = "cdi-worker-running"


class LocalTables:
    def __init__(self, tabledir: Path) -> None:
        self.tabledir = tabledir
        self.marker = tabledir.parent / MARKER

    def open(self) -> bool:
        """Before the worker starts: drop local files a crashed run left; returns True if it did."""
        dropped = False
        if self.marker.exists() and self.tabledir.exists():
            shutil.rmtree(self.tabledir)
            dropped = True
        self.marker.parent.mkdir(parents=True, exist_ok=True)
        self.marker.touch()
        return dropped

    def report(self) -> None:
        """Say what ``open`` did, once the worker's logging is set up."""
        log.warning(
            "the last worker run did not stop cleanly: its local table files (%s) may have been ahead of "
            "the changelog, so they were deleted and the tables are rebuilt from the changelog topics",
            self.tabledir,
        )

    def close(self) -> None:
        """After a clean stop (offsets committed, changelog flushed, stores closed)."""
        self.marker.unlink(missing_ok=True)
