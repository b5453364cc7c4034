"""Runs ``cdi serve`` as a real subprocess for tests, and talks to it over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
from kafka import KafkaProducer

from cdi.embedded_broker import free_port
from cdi.settings import Settings
from cdi.topics import Topics

# One token per role (staff:role:token), as CDI_WORKBENCH_TOKENS takes them.
TOKENS = {
    "viewer": ("S-0001", "viewer-token-0001"),
    "operator": ("S-1042", "operator-token-1042"),
    "registrar": ("FCR-7", "registrar-token-0007"),
}


def tokens_env() -> str:
    return ",".join(f"{staff}:{role}:{token}" for role, (staff, token) in TOKENS.items())


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


class ServeProcess:
    def __init__(self, settings: Settings, database_url: str | None = None, data_dir: Path | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="cdi-serve-"))
        self.settings = settings.with_(data_dir=data_dir or self.dir / "data")
        self.port = free_port()
        self.database_url = database_url
        self.log_path = self.dir / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            **self.settings.to_env(),
            "CDI_WORKBENCH_PORT": str(self.port),
            "CDI_WORKBENCH_TOKENS": tokens_env(),
            "CDI_WORKBENCH_SESSION_KEY": "test-session-key-not-secret",
        }
        if self.database_url:
            env["CDI_CASES_DATABASE_URL"] = self.database_url
        return env

    def start(self, timeout: float = 90) -> ServeProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cdi", "serve"],
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"cdi serve did not become ready:\n{self.log()[-4000:]}")
            time.sleep(0.2)
        return self

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def client(self, role: str = "registrar") -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {TOKENS[role][1]}"}, timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def all_findings(client: httpx.Client, limit: int = 100, **params: Any) -> list[dict[str, Any]]:
    """Every page of GET /api/v1/findings."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = client.get(
            "/api/v1/findings", params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        )
        response.raise_for_status()
        body = response.json()
        items += body["items"]
        cursor = body["next"]
        if cursor is None:
            return items


def send_findings(settings: Settings, raised: list[Any]) -> None:
    """Raised findings (cdi.core events) written straight to the findings topic, as a worker
    would: tests of the view need no worker."""
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap)
    for f in raised:
        producer.send(
            Topics(settings.topic_prefix).name("findings"),
            key=f.payload.subject.id.encode(),
            value=orjson.dumps(f.to_dict()),
        )
    producer.flush()
    producer.close()
