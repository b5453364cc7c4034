"""Starts a worker process: topics first, then the Faust worker (which handles signals)."""

from __future__ import annotations

import faust

from cdi.settings import Settings
from cdi.stream.app import build_app
from cdi.topics import ensure_topics


def run_worker(settings: Settings) -> None:
    counts = ensure_topics(settings)
    app = build_app(settings, counts)
    worker = faust.Worker(app, loglevel=settings.log_level, quiet=True)
    worker.execute_from_commandline()
