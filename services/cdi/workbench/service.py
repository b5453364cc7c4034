"""`cdi serve`: the case workbench as one process (FastAPI under uvicorn): the feed thread keeps
the view, the JSON API and the pages read it, actions go to the case-actions topic.

/healthz and /readyz carry no case data and need no sign-in; everything else does.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.middleware.sessions import SessionMiddleware

from cdi import log_format
from cdi import reference as reference_tables
from cdi import rules as rules_files
from cdi.contracts import Contracts
from cdi.core.rules import RulesConfig
from cdi.workbench import api, audit_api, audit_pages, pages
from cdi.workbench.audit_desk import AuditDesk
from cdi.workbench.audit_metrics import AuditCollector
from cdi.workbench.case_actions import ActionDesk
from cdi.workbench.config import WorkbenchSettings
from cdi.workbench.feed import Feed
from cdi.workbench.metrics import WorkbenchCollector
from cdi.workbench.signin import SignInRequired
from cdi.workbench.store import CaseStore, database_url
from cdi.workbench.timeline import Narrator

log = logging.getLogger("cdi.workbench")

STATIC = Path(__file__).parent / "static"


@dataclass(slots=True)
class Parts:
    store: CaseStore
    feed: Feed
    desk: ActionDesk
    audit: AuditDesk
    config: RulesConfig


def assemble(ws: WorkbenchSettings) -> Parts:
    contracts = Contracts()
    config = rules_files.load(ws.kafka.rules_path, contracts)
    narrator = Narrator(reference_tables.load())
    url = database_url(ws.database_url, ws.kafka.data_dir)
    store = CaseStore(url, ws.kafka.namespace, narrator, contracts, config.divisions, ws.kafka.max_record_bytes)
    store.migrate()
    feed = Feed(ws.kafka, store, ws.event_retention_days)
    desk = ActionDesk(ws.kafka, store, feed, contracts)
    # Events stored before migration 0003 have no force: the audit gives them this one.
    audit = AuditDesk(store, feed, desk, contracts, ws.kafka.rules_path, force="UNKNOWN")
    return Parts(store, feed, desk, audit, config)


def create_app(ws: WorkbenchSettings, parts: Parts) -> FastAPI:
    config = parts.config

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        parts.feed.start()
        parts.audit.start()
        try:
            yield
        finally:
            parts.audit.stop()
            parts.feed.stop()
            parts.desk.close()
            parts.store.close()

    app = FastAPI(
        title="CDI Monitor case workbench",
        version="1",
        summary="Findings of the crime data integrity monitor, their evidence, and the actions taken on them.",
        lifespan=lifespan,
        # The framework's own viewers load scripts from a CDN; the document itself is /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.store, app.state.feed, app.state.desk = parts.store, parts.feed, parts.desk
    app.state.audit = parts.audit
    app.state.tokens = ws.tokens
    app.state.pipeline = ws.kafka.namespace
    app.state.rule_list = [
        {"rule": r.name, "summary": r.summary, "severity": r.severity, "enabled": r.enabled}
        for r in sorted(config.rules.values(), key=lambda r: r.name)
    ]
    app.add_middleware(
        SessionMiddleware,
        secret_key=ws.session_key,
        session_cookie="cdi_session",
        max_age=12 * 3600,  # one control-room shift
        same_site="strict",
        https_only=ws.secure_cookies,
    )
    app.include_router(api.router)
    app.include_router(audit_api.router)
    app.include_router(audit_pages.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(SignInRequired)
    async def _signin(request: Request, exc: SignInRequired) -> Response:
        return pages.signin_redirect(request, exc.next_path)

    registry = CollectorRegistry()
    registry.register(WorkbenchCollector(parts.store, parts.feed.status, set(config.rules), config.divisions))
    registry.register(AuditCollector(parts.audit.latest, ws.kafka.namespace, set(config.rules), config.divisions))

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        """Counts by closed labels only: no sign-in, no case data (docs/metrics.md)."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok\n")

    @app.get("/readyz", include_in_schema=False)
    def readyz(request: Request) -> JSONResponse:
        """Ready when the database answers and the view has caught up with the topics once."""
        status = request.app.state.feed.status
        body: dict[str, Any] = {"caught_up": status.caught_up, "feed_error": status.error}
        try:
            request.app.state.store.ping()
            body["database"] = "ok"
        except Exception as exc:
            body["database"] = type(exc).__name__
        ready = status.caught_up and status.error is None and body["database"] == "ok"
        return JSONResponse(body, status_code=200 if ready else 503)

    return app


def serve(ws: WorkbenchSettings) -> None:
    parts = assemble(ws)
    app = create_app(ws, parts)
    log.info(
        "case workbench for pipeline %s on http://%s:%d (database %s)",
        ws.kafka.namespace,
        ws.host,
        ws.port,
        parts.store.describe(),
    )
    # The process's logging config for uvicorn's loggers too, so every line has the same form.
    config = log_format.logging_config(ws.kafka.log_level, ws.kafka.log_format)
    uvicorn.run(app, host=ws.host, port=ws.port, log_config=config, log_level=ws.kafka.log_level, access_log=False)
