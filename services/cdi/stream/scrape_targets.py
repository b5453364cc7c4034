"""A worker's scrape target, registered with Prometheus by file-based service discovery.

With ``CDI_SCRAPE_TARGETS_DIR`` set, ``cdi worker`` writes a target file into that directory
when it starts and removes it when it stops cleanly, so a replay's worker (``CDI_NAMESPACE=<name>
cdi worker``) is scraped while it runs without anyone editing prometheus.yml; the job that reads
the directory is ``file_sd_configs`` of the monitor's job there (docs/alerting.md, "Pipelines").
Unset: nothing is written.

- **Name:** ``<namespace>-<instance>-<port>.json``, the instance being ``CDI_INSTANCE_ID`` or the
  host name: one file per worker, the same across its restarts, so a restart rewrites it.
- **Content:** Prometheus' file_sd format, ``[{"targets": ["<host>:<port>"], "labels":
  {"pipeline": "<namespace>"}}]``. The host is ``CDI_SCRAPE_ADDRESS`` (a host, or host:port when
  Prometheus reaches the worker through another port), else ``CDI_METRICS_HOST`` when it is a
  specific address, else (the server listens on every interface) the host name. The pipeline
  label says whose target it is on Prometheus' service-discovery page; the scrape job drops it
  from the target, since the worker labels its own series and ``up`` must keep one series per
  target whatever pipeline it served (the rules join ``up`` on job and instance).
- **Atomic:** written to a temporary file in the same directory (a dot-name that no ``*.json``
  pattern matches), made readable to all (Prometheus runs as another user), synced and renamed
  over the target file, so Prometheus never reads half a file.
- **Clean stop only:** a worker that crashes or is killed leaves its file behind, so Prometheus
  keeps scraping the dead address and CDIMonitorDown fires for its pipeline, as it does for a
  live worker that dies. Delete the file by hand to retire a crashed replay worker's target.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdi.settings import Settings, SettingsError

log = logging.getLogger("cdi.worker")

#: Bind addresses that mean "every interface": the target names the host instead.
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]", "*"})
HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*|\[[0-9A-Fa-f:.]+\]")
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def _host_port(address: str, default_port: int, variable: str = "CDI_SCRAPE_ADDRESS") -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]``, ``[v6]:port`` or a bare IPv6 address, as (host, port);
    an IPv6 host comes back in brackets, as a target address writes it. ``variable`` names the
    setting it came from, for the error."""
    problem = f"{variable}={address!r}: use host, host:port or [ipv6]:port"
    host, port = address, str(default_port)
    if address.startswith("["):
        host, _, rest = address.partition("]")
        host += "]"
        if rest:
            if not rest.startswith(":"):
                raise SettingsError(problem)
            port = rest[1:]
    elif address.count(":") == 1:
        host, port = address.split(":")
    elif address.count(":") > 1:
        host = f"[{address}]"
    if not HOST.fullmatch(host) or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(problem)
    return host, int(port)


@dataclass(frozen=True, slots=True)
class ScrapeTarget:
    """One worker's target file: where it goes and what it says."""

    path: Path
    address: str  # host:port, as Prometheus scrapes it
    pipeline: str

    @classmethod
    def for_settings(cls, settings: Settings, hostname: str | None = None) -> ScrapeTarget | None:
        """The target of a worker started with `settings`; None without CDI_SCRAPE_TARGETS_DIR."""
        if settings.scrape_targets_dir is None:
            return None
        if settings.metrics_port == 0:
            raise SettingsError(
                "CDI_SCRAPE_TARGETS_DIR is set but CDI_METRICS_PORT is 0 (any free port): "
                "set a fixed port, so the target file can say where Prometheus finds the worker"
            )
        hostname = hostname or socket.gethostname()
        if settings.scrape_address:
            host, port = _host_port(settings.scrape_address, settings.metrics_port)
        elif settings.metrics_host.strip() not in WILDCARD_HOSTS:
            host, port = _host_port(settings.metrics_host.strip(), settings.metrics_port, "CDI_METRICS_HOST")
        else:
            host, port = _host_port(hostname, settings.metrics_port, "the host name")
        instance = UNSAFE_NAME.sub("-", settings.instance_id or hostname).strip("-.") or "worker"
        name = f"{settings.namespace}-{instance}-{settings.metrics_port}.json"
        return cls(path=Path(settings.scrape_targets_dir) / name, address=f"{host}:{port}", pipeline=settings.namespace)

    def document(self) -> list[dict[str, Any]]:
        """The file's content: one target group in Prometheus' file_sd format."""
        return [{"targets": [self.address], "labels": {"pipeline": self.pipeline}}]

    def write(self) -> Path:
        """Write the file atomically (temporary file, fsync, rename); creates the directory."""
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{self.path.name}.", suffix=".tmp")
        except OSError as exc:
            raise SettingsError(
                f"CDI_SCRAPE_TARGETS_DIR={str(directory)!r}: cannot write the scrape target there ({exc.strerror})"
            ) from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                os.fchmod(out.fileno(), 0o644)  # mkstemp makes it 0600; Prometheus runs as another user
                out.write(json.dumps(self.document(), indent=2) + "\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        with contextlib.suppress(OSError):  # the rename itself, durable where the system allows
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        log.info("scrape target %s registered in %s", self.address, self.path)
        return self.path

    def remove(self) -> None:
        """Delete the file (a clean stop); nothing happens if it is already gone."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
            log.info("scrape target %s removed from %s", self.address, self.path)


def register(settings: Settings) -> ScrapeTarget | None:
    """Write the worker's target file if CDI_SCRAPE_TARGETS_DIR is set; the caller removes it
    (``remove()``) on a clean stop."""
    target = ScrapeTarget.for_settings(settings)
    if target is not None:
        target.write()
    return target
