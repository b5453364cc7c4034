"""The monitor's settings, from CDI_* environment variables (all optional; cdi.environment
declares them, `cdi config` shows the effective values, the README's Operations section lists
them)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from cdi.kafka_security import KafkaSecurity


class SettingsError(ValueError):
    pass


LIVE = "live"
NAMESPACE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


def namespace_prefix(namespace: str) -> str:
    """Topic prefix of a namespace: live traffic uses ``cdi.``, a replay ``cdi.<namespace>.``."""
    if not NAMESPACE.fullmatch(namespace):
        raise SettingsError(
            f"namespace {namespace!r}: use 1 to 40 lower-case letters, digits or hyphens, "
            "starting with a letter or digit"
        )
    return "cdi." if namespace == LIVE else f"cdi.{namespace}."


def env_secret(name: str) -> str | None:
    """A secret from ``NAME`` or from the file ``NAME_FILE`` names (a mounted secret); not both."""
    value = os.environ.get(name, "").strip()
    path = os.environ.get(f"{name}_FILE", "").strip()
    if value and path:
        raise SettingsError(f"set {name} or {name}_FILE, not both")
    if path:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"{name}_FILE={path!r} cannot be read ({exc.strerror}); check the path") from None
        if not value:
            raise SettingsError(f"{name}_FILE={path!r} is empty")
    return value or None


@dataclass(frozen=True, slots=True)
class Settings:
    bootstrap: str | None = None  # CDI_KAFKA_BOOTSTRAP: host:port[,host:port]; unset = embedded broker (demo)
    topic_prefix: str = "cdi."  # CDI_TOPIC_PREFIX: every topic name and the consumer group start with it
    namespace: str = LIVE  # CDI_NAMESPACE: live, or a replay's name; labels metrics, sets the default prefix
    partitions: int = 4  # CDI_PARTITIONS: partitions of topics the monitor creates
    replication_factor: int = 1  # CDI_REPLICATION_FACTOR
    store: str = "memory"  # CDI_STORE: memory | rocksdb (table state on local disk)
    data_dir: Path = Path(".cdi-data")  # CDI_DATA_DIR: Faust's local data (RocksDB files)
    metrics_host: str = "127.0.0.1"  # CDI_METRICS_HOST: address /metrics binds to
    metrics_port: int = 6066  # CDI_METRICS_PORT
    # CDI_SCRAPE_TARGETS_DIR: where `cdi worker` registers its /metrics for Prometheus' file-based
    # service discovery (cdi.stream.scrape_targets); unset: nothing is written.
    scrape_targets_dir: Path | None = None
    scrape_address: str | None = None  # CDI_SCRAPE_ADDRESS: host[:port] Prometheus reaches /metrics at
    rules_path: Path | None = None  # CDI_RULES: rules TOML; default is the packaged default.toml
    clock: str = "event"  # CDI_CLOCK: event (replay-safe) | live (wall clock floors the watermark)
    progress_interval: float = 1.0  # CDI_PROGRESS_INTERVAL: seconds between watermark progress broadcasts
    session_timeout: float = 10.0  # CDI_SESSION_TIMEOUT: consumer group session timeout, seconds
    heartbeat_interval: float = 1.0  # CDI_HEARTBEAT_INTERVAL
    standby_replicas: int = 0  # CDI_STANDBY_REPLICAS: Faust table standbys
    # CDI_DIRECT_READS: each stage applies the input records already on its own partition instead of
    # sending them round its stage topic (cdi.stream.direct_reads); false sends every record round.
    direct_reads: bool = True
    # CDI_INSTANCE_ID: a name unique to this worker and stable across its restarts (a StatefulSet
    # pod name, a compose service name) makes it a static consumer group member: restarted after a
    # crash it takes its partitions back at once instead of after the session timeout. Unset:
    # dynamic membership. See benchmarks/RESULTS.md, "Catch-up after a crash".
    instance_id: str | None = None
    log_level: str = "info"  # CDI_LOG_LEVEL
    security: KafkaSecurity = field(default_factory=KafkaSecurity)  # CDI_KAFKA_SECURITY_PROTOCOL, _SSL_*, _SASL_*
    # CDI_END_MARKERS: which history.ended markers the worker obeys: reject | accept | signed; the
    # default (auto) rejects them on the live pipeline and, in a replay namespace, accepts them
    # (signed ones only when a replay key is set). See README "Guarantees".
    end_markers: str = "auto"
    # CDI_REPLAY_KEY or CDI_REPLAY_KEY_FILE: the secret `cdi replay` signs its end markers with.
    replay_key: str | None = field(default=None, repr=False)
    dead_letter_payload: str = "raw"  # CDI_DEAD_LETTER_PAYLOAD: raw | hash (only a SHA-256 of the record)
    max_record_bytes: int = 512 * 1024  # CDI_MAX_RECORD_BYTES: larger input records are dead-lettered
    log_format: str = "auto"  # CDI_LOG_FORMAT: auto (text at a terminal, else JSON) | json | text
    connect_timeout: float = 5.0  # CDI_CONNECT_TIMEOUT: seconds a command waits for a bootstrap address to answer

    @classmethod
    def from_env(cls) -> Settings:
        """The settings the CDI_* variables give (cdi.environment declares them), validated all at
        once: a bad value raises SettingsError naming the variable and what to give."""
        from pydantic import ValidationError

        from cdi.environment import Environment, explain

        try:
            env = Environment()
        except ValidationError as exc:
            raise SettingsError(explain(exc)) from None
        return cls(
            bootstrap=env.kafka_bootstrap,
            topic_prefix=env.topic_prefix or namespace_prefix(env.namespace),
            namespace=env.namespace,
            partitions=env.partitions,
            replication_factor=env.replication_factor,
            store=env.store,
            data_dir=env.data_dir,
            metrics_host=env.metrics_host,
            metrics_port=env.metrics_port,
            scrape_targets_dir=env.scrape_targets_dir,
            scrape_address=env.scrape_address,
            rules_path=env.rules,
            clock=env.clock,
            progress_interval=env.progress_interval,
            session_timeout=env.session_timeout,
            heartbeat_interval=env.heartbeat_interval,
            standby_replicas=env.standby_replicas,
            direct_reads=env.direct_reads,
            instance_id=env.instance_id,
            log_level=env.log_level,
            security=KafkaSecurity.from_env(),
            end_markers=env.end_markers,
            replay_key=env_secret("CDI_REPLAY_KEY"),
            dead_letter_payload=env.dead_letter_payload,
            max_record_bytes=env.max_record_bytes,
            log_format=env.log_format,
            connect_timeout=env.connect_timeout,
        )

    def to_env(self) -> dict[str, str]:
        """The inverse of from_env, for starting a worker subprocess with these settings."""
        names = {
            "bootstrap": "CDI_KAFKA_BOOTSTRAP",
            "topic_prefix": "CDI_TOPIC_PREFIX",
            "namespace": "CDI_NAMESPACE",
            "partitions": "CDI_PARTITIONS",
            "replication_factor": "CDI_REPLICATION_FACTOR",
            "store": "CDI_STORE",
            "data_dir": "CDI_DATA_DIR",
            "metrics_host": "CDI_METRICS_HOST",
            "metrics_port": "CDI_METRICS_PORT",
            "scrape_targets_dir": "CDI_SCRAPE_TARGETS_DIR",
            "scrape_address": "CDI_SCRAPE_ADDRESS",
            "rules_path": "CDI_RULES",
            "clock": "CDI_CLOCK",
            "progress_interval": "CDI_PROGRESS_INTERVAL",
            "session_timeout": "CDI_SESSION_TIMEOUT",
            "heartbeat_interval": "CDI_HEARTBEAT_INTERVAL",
            "standby_replicas": "CDI_STANDBY_REPLICAS",
            "direct_reads": "CDI_DIRECT_READS",
            "instance_id": "CDI_INSTANCE_ID",
            "log_level": "CDI_LOG_LEVEL",
            "end_markers": "CDI_END_MARKERS",
            "replay_key": "CDI_REPLAY_KEY",
            "dead_letter_payload": "CDI_DEAD_LETTER_PAYLOAD",
            "max_record_bytes": "CDI_MAX_RECORD_BYTES",
            "connect_timeout": "CDI_CONNECT_TIMEOUT",
            "log_format": "CDI_LOG_FORMAT",
        }
        env = {
            names[f.name]: str(getattr(self, f.name))
            for f in fields(self)
            if f.name in names and getattr(self, f.name) is not None
        }
        return {**env, **self.security.to_env()}

    def end_marker_policy(self) -> str:
        """What the worker does with a ``history.ended`` marker: reject, accept, or signed."""
        if self.end_markers != "auto":
            return self.end_markers
        if self.namespace == LIVE:
            return "reject"  # a forged marker would close every open deadline of the live feed
        return "signed" if self.replay_key else "accept"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]
