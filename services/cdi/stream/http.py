"""The worker's HTTP server: ``/metrics``, ``/healthz`` and ``/readyz``, and nothing else.

Faust's own web server (``web_enabled=True``) also serves ``/router/`` and
``/table/<name>/<key>/``, unauthenticated: with the RocksDB store those pages returned whole
case records, an offender's prior disposals included. The worker therefore runs with Faust's
web server off and serves its three pages from this small aiohttp server instead (aiohttp comes
with Faust). It listens on ``CDI_METRICS_HOST:CDI_METRICS_PORT`` (127.0.0.1:6066 by default);
the container images bind 0.0.0.0 for Prometheus, acceptable only because nothing but metrics
and health is served here.

- ``GET /metrics``: the Prometheus exposition of the worker's registry (its own metrics, the
  scrape-time open-case counts and Faust's sensor, all labelled with the pipeline).
- ``GET /healthz``: 200 while the process runs its event loop (liveness). Answers from the
  moment the app starts, through table recovery, so a long RocksDB restore is not mistaken for
  a dead worker.
- ``GET /readyz``: 200 once the worker has its partitions, has recovered its tables and
  resumed consuming (the moment Faust logs "Worker ready"); 503 before that and during every
  later rebalance until it is consuming again.
- anything else: 404.

The server is a child service of the Faust app, started before the app's own services (so
/healthz and /metrics answer during recovery) and stopped after them. Faust's
``App.web_server`` hook is not used: it starts the server only after table recovery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import faust
from aiohttp import web
from faust.sensors.prometheus import FaustMetrics
from mode import Service
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from cdi.stream.faust_sensor import LeanFaustMonitor

log = logging.getLogger("cdi.worker")

#: Name prefix of Faust's sensor metrics (cdi_faust_*, docs/metrics.md).
FAUST_PREFIX = "cdi_faust"
PATHS = ("/metrics", "/healthz", "/readyz")


def port_free(host: str, port: int) -> str | None:
    """None when ``host:port`` can be bound now; else why not, in words (checked before the
    worker connects, so a taken port is one line and not a traceback after the recovery)."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return "is not an address of this machine (unknown host)"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return "is in use by another process"
            if exc.errno == errno.EADDRNOTAVAIL:
                return "is not an address of this machine"
            if exc.errno == errno.EACCES:
                return "needs privileges this user lacks (ports below 1024)"
            return f"cannot be bound ({exc.strerror})"
    return None


def install_faust_sensor(app: faust.App, registry: CollectorRegistry, prefix: str = FAUST_PREFIX) -> None:
    """Faust's Prometheus sensor (consumer offsets, rebalances, ...) in ``registry``: what
    ``faust.sensors.prometheus.setup_prometheus_sensors`` does, without the page it adds to
    Faust's web server, and cheap per message (cdi.stream.faust_sensor)."""
    app.monitor = LeanFaustMonitor(metrics=FaustMetrics.create(registry, prefix))


def worker_ready(app: faust.App) -> bool:
    """Partitions assigned, tables recovered and streams resumed, with no rebalance under way.
    Faust sets ``rebalancing`` when partitions are revoked and clears it at the end of recovery,
    just before it logs "Worker ready"; the recovery's ``completed`` event is set for the first
    time in the same step."""
    if app.should_stop or app.rebalancing:
        return False
    return bool(app.tables.recovery.completed.is_set())


class HttpServer(Service):
    """Serves the worker's registry, liveness and readiness (see the module's docstring)."""

    def __init__(
        self, registry: CollectorRegistry, host: str, port: int, ready: Callable[[], bool], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.registry = registry
        self.host = host
        self.port = port
        self.ready = ready
        self._runner: web.AppRunner | None = None

    def application(self) -> web.Application:
        application = web.Application()
        application.router.add_get("/metrics", self._metrics)
        application.router.add_get("/healthz", self._healthz)
        application.router.add_get("/readyz", self._readyz)
        # Any other path or method: 404, not a 405 that would confirm a page exists.
        application.router.add_route("*", "/{anything:.*}", self._not_found)
        return application

    async def on_start(self) -> None:
        self._runner = web.AppRunner(self.application(), access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port, reuse_address=True).start()
        log.info("serving %s on http://%s:%s", ", ".join(PATHS), self.host, self.port)

    async def on_stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, request: web.Request) -> web.Response:
        # On the event loop, like Faust's page was: the open-case collector reads the loop's state.
        return web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        if self.ready():
            return web.Response(text="ready\n")
        return web.Response(status=503, text="not ready: partitions not assigned, or recovering\n")

    async def _not_found(self, request: web.Request) -> web.Response:
        return web.Response(status=404, text="not found\n")


def serve(app: faust.App, registry: CollectorRegistry, host: str, port: int) -> HttpServer:
    """Install Faust's sensor in ``registry`` and attach the HTTP server to ``app``. The app must
    be built with ``web_enabled=False``."""
    assert not app.conf.web_enabled, "Faust's web server serves table contents: build the app with web_enabled=False"
    install_faust_sensor(app, registry)
    server = HttpServer(registry, host, port, ready=lambda: worker_ready(app))
    app.add_dependency(server)
    return server
