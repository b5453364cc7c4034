"""Run a real, throwaway PostgreSQL server for tests, from Debian's ``postgresql`` package.

Each ``PostgresServer`` runs ``initdb`` into a fresh temp folder and starts ``postgres`` on a free
loopback port, with trust auth and durability off: the data is thrown away with the folder.
PostgreSQL refuses to run as root, so as root every server command runs as the ``postgres``
system user (created by the Debian package) through ``runuser``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO

import psycopg
from psycopg import sql

DEBIAN_ROOT = Path("/usr/lib/postgresql")
INSTALL_HINT = "install Debian's PostgreSQL server: apt-get install -y postgresql"
_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class _PortClash(RuntimeError):
    pass


def find_bin_dir(root: Path = DEBIAN_ROOT) -> Path:
    """``<root>/<highest major version>/bin``, the folder holding initdb, pg_ctl and postgres."""
    versions = [p.parent.parent for p in root.glob("*/bin/initdb") if p.parent.parent.name.isdigit()]
    if not versions:
        raise RuntimeError(f"no PostgreSQL server binaries under {root}/<version>/bin: {INSTALL_HINT}")
    return max(versions, key=lambda p: int(p.name)) / "bin"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (context manager); ``user`` is ``postgres``."""

    def __init__(self, root: Path = DEBIAN_ROOT, *, start_timeout: float = 30.0) -> None:
        self._root = root
        self._start_timeout = start_timeout
        self._bin: Path | None = None
        self._tmp: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_fh: IO[bytes] | None = None
        self.port: int | None = None

    @property
    def data_dir(self) -> Path:
        if self._tmp is None:
            raise RuntimeError("PostgresServer is not started")
        return self._tmp / "data"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / "server.log"

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> PostgresServer:
        if self._proc is not None:
            raise RuntimeError("PostgresServer already started")
        self._bin = find_bin_dir(self._root)
        # atexit covers a run that dies without reaching stop(); stop() unregisters it.
        atexit.register(self.stop)
        try:
            self._tmp = self._make_tmp()
            self._initdb()
            # A free port can be taken between probing and binding: retry that case only.
            for attempt in range(3):
                try:
                    self._launch()
                    return self
                except _PortClash:
                    self._kill()
                    if attempt == 2:
                        raise
        except BaseException:
            self.stop()
            raise
        return self  # pragma: no cover - the loop returns or raises

    def create_database(self, name: str) -> str:
        """Create database ``name``; return its SQLAlchemy URL (psycopg 3 driver)."""
        if not _DB_NAME.fullmatch(name):
            raise ValueError(f"database name {name!r}: use lower-case letters, digits and '_'")
        # CREATE DATABASE cannot run inside a transaction.
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        atexit.unregister(self.stop)
        if self._proc is not None:
            if self._proc.poll() is None:
                self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate", "-w", check=False)
            self._kill()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        self.port = None

    # -- internals -----------------------------------------------------------------------------

    @staticmethod
    def _as_root() -> bool:
        return os.geteuid() == 0

    def _make_tmp(self) -> Path:
        tmp = Path(tempfile.mkdtemp(prefix="cdi-postgres-"))
        if self._as_root():
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError(f"running as root needs the 'postgres' system user: {INSTALL_HINT}") from None
            os.chown(tmp, owner.pw_uid, owner.pw_gid)
        return tmp

    def _command(self, tool: str, *args: str) -> list[str]:
        assert self._bin is not None
        cmd = [str(self._bin / tool), *args]
        return ["runuser", "-u", "postgres", "--", *cmd] if self._as_root() else cmd

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # cwd: as root, the caller's folder (e.g. /root) is often unreadable by 'postgres'.
        proc = subprocess.run(
            self._command(tool, *args), cwd=self._tmp, capture_output=True, text=True, timeout=60, check=False
        )
        if check and proc.returncode != 0:
            raise RuntimeError(f"{tool} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
        return proc

    def _initdb(self) -> None:
        # --no-sync: nothing here needs to survive a crash, and syncing is most of initdb's time.
        self._run(
            "initdb", "-D", str(self.data_dir), "-U", "postgres",
            "--auth-local=trust", "--auth-host=trust", "--encoding=UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        # Trust only the unix socket and IPv4 loopback, the only places the server listens.
        hba = "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        (self.data_dir / "pg_hba.conf").write_text(hba)

    def _launch(self) -> None:
        assert self._tmp is not None
        self.port = _free_port()
        # A fresh log per attempt, so a port clash is only ever read from this attempt's output.
        self._log_fh = open(self.log_path, "wb")  # noqa: SIM115 - lives as long as the process
        settings = {
            "port": str(self.port),
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self._tmp),
            # Test data is disposable: trade durability for speed.
            "fsync": "off",
            "synchronous_commit": "off",
        }
        args = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
        self._proc = subprocess.Popen(
            self._command("postgres", "-D", str(self.data_dir), *args),
            cwd=self._tmp,
            stdin=subprocess.DEVNULL,
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _dsn(self, dbname: str) -> str:
        if self.port is None:
            raise RuntimeError("PostgresServer is not started")
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname} connect_timeout=2"

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self._start_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                tail = _tail(self.log_path)
                if "Address already in use" in tail:
                    raise _PortClash(tail)
                raise RuntimeError(f"postgres exited with {self._proc.returncode}; server log tail:\n{tail}")
            try:
                with psycopg.connect(self._dsn("postgres")) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:  # not listening yet, or still starting up
                last_error = exc
                time.sleep(0.05)
        raise RuntimeError(
            f"PostgreSQL did not accept connections on 127.0.0.1:{self.port} within {self._start_timeout:.0f}s "
            f"(last error: {last_error}); server log tail:\n{_tail(self.log_path)}"
        )

    def _kill(self) -> None:
        """Make sure the postmaster is gone, then reap our child (runuser or postgres)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            # pg_ctl failed or never ran: SIGQUIT is PostgreSQL's immediate shutdown. Signal the
            # postmaster itself, which is runuser's child when running as root.
            pid_file = self.data_dir / "postmaster.pid"
            with contextlib.suppress(OSError, ValueError, IndexError):
                os.kill(int(pid_file.read_text().splitlines()[0]), signal.SIGQUIT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None
