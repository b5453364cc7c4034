"""Run a real Apache Kafka 4.x broker (KRaft, one combined broker+controller) for tests.

No Docker and no Kafka download site are reachable here, but Maven Central is: the broker's
jars come from ``kafka-pom.xml`` beside this file, copied once into a cache folder. Each
``KafkaBroker`` then formats a fresh storage folder and runs ``kafka.Kafka`` on free loopback
ports, so tests talk to the same broker production runs.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import fcntl
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

POM = Path(__file__).with_name("kafka-pom.xml")
_MARKER = ".complete"


def kafka_version() -> str:
    """The Kafka version pinned in kafka-pom.xml (the single place it is written)."""
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(POM).getroot().find("m:properties/m:kafka.version", ns)
    if node is None or not (node.text or "").strip():
        raise RuntimeError(f"{POM} has no <kafka.version> property")
    return (node.text or "").strip()


def _log(msg: str) -> None:
    print(f"[kafka-maven] {msg}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # Parallel test workers share one cache: only one of them may run Maven into it.
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def fetch_kafka(cache_dir: Path | None = None) -> Path:
    """Make sure Kafka's jars are cached; return the folder holding them (the classpath).

    The default cache is ``~/.cache/cdi-monitor/kafka-<version>``. Maven runs only when the
    marker written after a complete copy is missing or was made from a different pom.
    """
    version = kafka_version()
    cache = cache_dir or Path.home() / ".cache" / "cdi-monitor" / f"kafka-{version}"
    libs = cache / "libs"
    marker = cache / _MARKER
    pom_digest = hashlib.sha256(POM.read_bytes()).hexdigest()

    with _locked(cache / ".lock"):
        if marker.is_file() and marker.read_text().strip() == pom_digest and libs.is_dir():
            return libs
        mvn = shutil.which("mvn")
        if mvn is None:
            raise RuntimeError(
                "Maven ('mvn') is not on PATH: install Maven 3 (e.g. apt-get install maven) "
                "and Java 17+, then rerun to fetch the Kafka broker jars."
            )
        # Copy into a scratch folder and rename, so an interrupted fetch never looks complete.
        staging = cache / "libs.partial"
        shutil.rmtree(staging, ignore_errors=True)
        _log(f"fetching Apache Kafka {version} jars from Maven Central into {cache} (first run only)")
        started = time.monotonic()
        cmd = [
            mvn, "-q", "-B", "-f", str(POM),
            "dependency:copy-dependencies", f"-DoutputDirectory={staging}",
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
            raise RuntimeError(
                f"Maven could not fetch Kafka {version} (exit {proc.returncode}). Check that "
                "Maven Central is reachable (or that ~/.m2/settings.xml points at a mirror), "
                f"then rerun; to retry by hand: {' '.join(cmd)}\n{tail}"
            )
        if not any(staging.glob("kafka_2.13-*.jar")):
            raise RuntimeError(f"Maven finished but no kafka_2.13 jar is in {staging}")
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
        marker.write_text(pom_digest + "\n")
        count = len(list(libs.glob("*.jar")))
        _log(f"fetched {count} jars in {time.monotonic() - started:.1f}s")
        return libs


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = _free_port()
        if port not in ports:
            ports.append(port)
    return ports


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("Java 17+ is needed to run the Kafka 4 test broker; 'java' is not on PATH")
    return java


def _port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


# Console output goes to broker.log (the process's stdout), which also catches JVM crashes.
_LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.state.name = state.change.logger
logger.state.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
"""

SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
SECURE_LISTENERS = ("SASL_SSL", "SSL")


@dataclass(frozen=True, slots=True)
class BrokerTls:
    """Certificates of a secure test broker, made at start in its folder (deleted on stop)."""

    ca_file: Path  # PEM: the throw-away CA that signed the broker's certificate; clients trust it
    client_cert_file: Path  # PEM: a client key and certificate chain from the same CA (the SSL listener asks for one)


def _write_tls(folder: Path) -> tuple[BrokerTls, Path]:
    """A fresh CA (``trustme``), a server certificate for 127.0.0.1 and localhost written as a PEM
    keystore (key first, then the chain; Kafka reads only PKCS#8 keys) and a client certificate."""
    import trustme  # a test extra, needed only for secure brokers
    from cryptography.hazmat.primitives import serialization

    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="CDI Monitor test CA")
    server = ca.issue_cert("127.0.0.1", "localhost")
    key = serialization.load_pem_private_key(server.private_key_pem.bytes(), password=None)
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    keystore = folder / "server-keystore.pem"
    keystore.write_bytes(pkcs8 + b"".join(blob.bytes() for blob in server.cert_chain_pems))
    tls = BrokerTls(ca_file=folder / "ca.pem", client_cert_file=folder / "client.pem")
    ca.cert_pem.write_to_path(str(tls.ca_file))
    ca.issue_cert("cdi-test-client").private_key_and_cert_chain_pem.write_to_path(str(tls.client_cert_file))
    return tls, keystore


class KafkaBroker:
    """A throw-away single-node Kafka broker on 127.0.0.1 (context manager).

    ``extra_config`` entries override or extend the generated ``server.properties``.

    ``sasl_users`` (name -> password, letters and digits) adds two listeners beside PLAINTEXT,
    which stays the inter-broker and default one: SASL_SSL, where every user can log in with PLAIN,
    SCRAM-SHA-256 and SCRAM-SHA-512 (SCRAM credentials are stored at format time), and SSL, which
    requires a client certificate. Their certificates come from a CA made at start: ``tls``.
    """

    def __init__(
        self,
        cache_dir: Path | None = None,
        *,
        extra_config: Mapping[str, str] | None = None,
        heap: str = "512m",
        start_timeout: float = 60.0,
        stop_timeout: float = 20.0,
        sasl_users: Mapping[str, str] | None = None,
    ) -> None:
        self._cache_dir = cache_dir
        self._extra = dict(extra_config or {})
        self._heap = heap
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_fh: IO[bytes] | None = None
        self._tmp: Path | None = None
        self._port: int | None = None
        self._sasl_users = dict(sasl_users) if sasl_users is not None else None
        self._listener_ports: dict[str, int] = {}
        self._tls: BrokerTls | None = None

    @property
    def bootstrap(self) -> str:
        if self._port is None:
            raise RuntimeError("KafkaBroker is not started")
        return f"127.0.0.1:{self._port}"

    def bootstrap_for(self, listener: str) -> str:
        """``host:port`` of a listener: PLAINTEXT, or SASL_SSL and SSL on a broker with ``sasl_users``."""
        if listener not in self._listener_ports:
            raise RuntimeError(
                f"KafkaBroker has no running {listener} listener (has: {sorted(self._listener_ports)}); "
                "SASL_SSL and SSL need sasl_users"
            )
        return f"127.0.0.1:{self._listener_ports[listener]}"

    @property
    def tls(self) -> BrokerTls:
        if self._tls is None:
            raise RuntimeError("KafkaBroker has no certificates: start it with sasl_users")
        return self._tls

    @property
    def log_path(self) -> Path | None:
        """The broker's log file while it runs (deleted with the temp dir on stop)."""
        return self._tmp / "broker.log" if self._tmp else None

    def __enter__(self) -> KafkaBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> KafkaBroker:
        if self._proc is not None:
            raise RuntimeError("KafkaBroker already started")
        libs = fetch_kafka(self._cache_dir)
        # atexit covers a test run that dies without reaching stop(); stop() unregisters it.
        atexit.register(self.stop)
        try:
            # Free ports can be taken between probing and binding: retry that case only.
            for attempt in range(3):
                try:
                    self._launch(libs)
                    return self
                except _PortClash:
                    if attempt == 2:
                        raise
                    self._cleanup()
        except BaseException:
            self.stop()
            raise
        return self  # pragma: no cover - loop always returns or raises

    def _launch(self, libs: Path) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix="cdi-kafka-"))
        secure = self._sasl_users is not None
        port, controller_port, *secure_ports = _free_ports(2 + len(SECURE_LISTENERS) * secure)
        self._port = port
        self._listener_ports = {"PLAINTEXT": port, **dict(zip(SECURE_LISTENERS, secure_ports, strict=False))}
        endpoints = ",".join(f"{name}://127.0.0.1:{p}" for name, p in self._listener_ports.items())
        protocols = ",".join(f"{name}:{name}" for name in self._listener_ports)
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            # Static quorum: no --standalone at format time and no voter bookkeeping.
            "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
            "listeners": f"{endpoints},CONTROLLER://127.0.0.1:{controller_port}",
            "advertised.listeners": endpoints,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": f"{protocols},CONTROLLER:PLAINTEXT",
            "log.dirs": str(self._tmp / "data"),
            "num.partitions": "1",
            "default.replication.factor": "1",
            # Internal topics default to 3 replicas, which one node can never satisfy.
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # Groups form at once instead of after 3 s; missing topics are errors, as in prod.
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            "log.segment.bytes": str(8 * 1024 * 1024),
            "num.network.threads": "2",
            "num.io.threads": "2",
            **self._secure_config(),
            **self._extra,
        }
        server_props = self._tmp / "server.properties"
        server_props.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        log4j = self._tmp / "log4j2.properties"
        log4j.write_text(_LOG4J2)

        java = [
            _java(),
            f"-Xmx{self._heap}",
            "-Xms256m",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}",
            f"-Dkafka.logs.dir={self._tmp}",
            "-cp",
            f"{libs}/*",
        ]
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        # SCRAM credentials live in the cluster metadata: in KRaft they are added when formatting.
        scram = [
            arg
            for name, password in (self._sasl_users or {}).items()
            for mechanism in SCRAM_MECHANISMS
            for arg in ("--add-scram", f"{mechanism}=[name={name},password={password}]")
        ]
        storage = ["kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}", "-c", str(server_props)]
        fmt = subprocess.run(
            [*java, *storage, *scram],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if fmt.returncode != 0:
            raise RuntimeError(f"StorageTool format failed ({fmt.returncode}):\n{fmt.stdout}{fmt.stderr}")

        log_path = self._tmp / "broker.log"
        self._log_fh = open(log_path, "wb")  # noqa: SIM115 - lives as long as the process
        self._proc = subprocess.Popen(
            [*java, "kafka.Kafka", str(server_props)],
            stdin=subprocess.DEVNULL,
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready(log_path)

    def _secure_config(self) -> dict[str, str]:
        if self._sasl_users is None:
            return {}
        assert self._tmp is not None
        self._tls, keystore = _write_tls(self._tmp / "tls")
        plain_users = " ".join(f'user_{name}="{password}"' for name, password in self._sasl_users.items())
        scram_login = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        return {
            "sasl.enabled.mechanisms": ",".join(("PLAIN", *SCRAM_MECHANISMS)),
            "listener.name.sasl_ssl.plain.sasl.jaas.config": (
                f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};"
            ),
            **{f"listener.name.sasl_ssl.{m.lower()}.sasl.jaas.config": scram_login for m in SCRAM_MECHANISMS},
            # Kafka 4 reads PEM files directly: no JKS or PKCS#12 conversion.
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(keystore),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self._tls.ca_file),
            "listener.name.ssl.ssl.client.auth": "required",
        }

    def _wait_ready(self, log_path: Path) -> None:
        from kafka import KafkaAdminClient  # kafka-python; only needed once a broker runs

        assert self._proc is not None and self._port is not None
        deadline = time.monotonic() + self._start_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                tail = _tail(log_path)
                if "Address already in use" in tail:
                    raise _PortClash(tail)
                raise RuntimeError(f"Kafka broker exited with {self._proc.returncode}; log tail:\n{tail}")
            # The client listener opens only at the end of startup; probe it before the client,
            # which would otherwise log connection errors on every try.
            if all(_port_open(p) for p in self._listener_ports.values()):
                try:
                    admin = KafkaAdminClient(
                        bootstrap_servers=self.bootstrap,
                        client_id="cdi-kafka-ready-probe",
                        bootstrap_timeout_ms=5000,
                        request_timeout_ms=5000,
                    )
                    try:
                        admin.list_topics()
                        return
                    finally:
                        admin.close()
                except Exception as exc:  # any failure just means "not yet"
                    last_error = exc
            time.sleep(0.2)
        raise RuntimeError(
            f"Kafka broker not ready after {self._start_timeout:.0f}s (last error: {last_error!r}); "
            f"log tail:\n{_tail(log_path)}"
        )

    def _cleanup(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()  # SIGTERM: Kafka shuts down cleanly
            try:
                proc.wait(timeout=self._stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        self._port = None
        self._listener_ports = {}
        self._tls = None

    def stop(self) -> None:
        """Stop the broker and delete its folder; safe to call more than once."""
        self._cleanup()
        atexit.unregister(self.stop)


class _PortClash(RuntimeError):
    pass


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no broker log)"
    return "\n".join(text.splitlines()[-lines:])
