"""Starts a worker process: topics first, then the Faust worker (which handles signals)."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable

import faust

from cdi import log_format
from cdi.core.topology import STAGE_TOPICS
from cdi.settings import Settings
from cdi.stream.app import build_app
from cdi.stream.local_tables import LocalTables
from cdi.stream.scrape_targets import register
from cdi.topics import ensure_changelogs, ensure_topics


def _report(local: LocalTables) -> Callable[[], Awaitable[None]]:
    async def report() -> None:
        local.report()

    return report


def run_worker(settings: Settings) -> None:
    counts = ensure_topics(settings)
    ensure_changelogs(settings, {stage: counts[role] for stage, role in STAGE_TOPICS.items()})
    app = build_app(settings, counts)
    # Only RocksDB keeps table state on disk between runs; the memory store rebuilds every time.
    local = LocalTables(app.conf.tabledir) if settings.store == "rocksdb" else None
    if local is not None and local.open():
        # Faust sets up logging when the worker starts: say it then, with the worker's format.
        app.task(_report(local), on_leader=False)
    # Faust applies the config when the worker starts; stderr is bound now, before Faust
    # redirects the standard streams into logging.
    config = log_format.logging_config(settings.log_level, settings.log_format, sys.stderr)
    worker = faust.Worker(app, loglevel=settings.log_level, quiet=True, logging_config=config)
    target = register(settings)  # CDI_SCRAPE_TARGETS_DIR: Prometheus finds this worker by file
    try:
        worker.execute_from_commandline()
    except SystemExit as stop:
        if local is not None and stop.code in (0, None) and app.crash_reason is None:
            local.close()
        if target is not None and stop.code in (0, None) and app.crash_reason is None:
            target.remove()  # a crashed worker's target stays, so Prometheus sees it down
        raise
