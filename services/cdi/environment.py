"""The CDI_* environment variables, declared once: type, default, bounds and meaning.

pydantic-settings reads and validates them (``cdi.settings.Settings.from_env``); the same
declaration gives `cdi config` its listing, `cdi worker --help` its epilog and the README test
its list. Bounds are those the worker's parts would reject later, after a connection and a
recovery, so a mistake is found at start-up in one line: a port Faust's web stack cannot bind
(0 lets the system choose one Prometheus cannot know), a log level mode refuses, a topic prefix
Kafka refuses, a heartbeat not shorter than the session timeout (the consumer group would
expire its own members).

The TLS/SASL variables (CDI_KAFKA_SSL_*, CDI_KAFKA_SASL_*) and the replay key, which have
``_FILE`` forms for mounted secrets, are read by ``cdi.kafka_security`` and ``cdi.settings``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "CDI_"


class Environment(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        env_ignore_empty=True,  # VAR= in a compose file means unset, as the README says
        str_strip_whitespace=True,
        extra="ignore",
        frozen=True,
        validate_default=True,
    )

    kafka_bootstrap: str | None = Field(
        None,
        pattern=r"^[^\s,]+:\d+(,[^\s,]+:\d+)*$",
        description="Kafka bootstrap servers, host:port[,host:port]. Unset: `cdi demo` starts an embedded broker; "
        "the other Kafka commands refuse to start",
    )
    namespace: str = Field(
        "live",
        pattern=r"^[a-z0-9][a-z0-9-]{0,39}$",
        description="the pipeline: live, or a replay's name (1 to 40 lower-case letters, digits or hyphens); "
        "labels every metric pipeline=<namespace> and sets the default topic prefix",
    )
    topic_prefix: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9._-]{1,200}$",
        description="prefix of every topic and of the consumer group; default cdi. (cdi.<namespace>. for a replay "
        "namespace); letters, digits, '.', '_' and '-', as Kafka allows in topic names",
    )
    partitions: int = Field(4, ge=1, le=10_000, description="partitions of the topics the monitor creates")
    replication_factor: int = Field(1, ge=1, le=32, description="replication factor of those topics")
    clock: Literal["event", "live"] = Field(
        "event", description="event for replays and tests; live for a production feed (wall-clock floor)"
    )
    store: Literal["memory", "rocksdb"] = Field("memory", description="table store: memory or rocksdb")
    data_dir: Path = Field(Path(".cdi-data"), description="Faust's local data (RocksDB files, the workbench's SQLite)")
    rules: Path | None = Field(
        None, description="rules file (TOML), read by the worker and by backtest and report unless --rules is given"
    )
    metrics_host: str = Field("127.0.0.1", min_length=1, description="address the worker's HTTP server binds to")
    metrics_port: int = Field(6066, ge=1, le=65535, description="port of /metrics, /healthz and /readyz")
    scrape_targets_dir: Path | None = Field(
        None, description="folder where `cdi worker` registers its /metrics for Prometheus' file-based discovery"
    )
    scrape_address: str | None = Field(
        None,
        description="host[:port] Prometheus reaches this worker's /metrics at (default: CDI_METRICS_HOST when it "
        "names one address, else the host name)",
    )
    progress_interval: float = Field(1.0, ge=0.05, le=60, description="seconds between watermark progress broadcasts")
    session_timeout: float = Field(
        10.0,
        ge=1,
        le=1800,
        description="consumer group session timeout, seconds (Apache Kafka accepts 6 to 1800 by default)",
    )
    heartbeat_interval: float = Field(
        1.0, ge=0.1, le=600, description="consumer heartbeat, seconds; must be below the session timeout"
    )
    standby_replicas: int = Field(0, ge=0, le=10, description="Faust standby replicas of the case tables")
    direct_reads: bool = Field(
        True,
        description="a stage applies input records already on its own partition, without the hop through "
        "its stage topic (false: every record goes through the stage topics)",
    )
    instance_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$",
        description="a name unique to this worker and stable across restarts: a static group member",
    )
    log_level: Literal["debug", "info", "warning", "error", "critical"] = Field("info", description="log level")
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", description="json, text, or auto: text at a terminal, JSON otherwise"
    )
    end_markers: Literal["auto", "reject", "accept", "signed"] = Field(
        "auto", description="which history.ended markers the worker obeys (auto: reject on live, accept in a replay)"
    )
    dead_letter_payload: Literal["raw", "hash"] = Field(
        "raw", description="raw keeps a dead-lettered record's bytes; hash keeps only its SHA-256"
    )
    max_record_bytes: int = Field(
        512 * 1024, ge=1024, le=64 * 1024 * 1024, description="larger input records are dead-lettered as too_large"
    )
    connect_timeout: float = Field(
        5.0, ge=0.5, le=300, description="seconds a command waits for the broker to answer before it gives up"
    )

    @model_validator(mode="before")
    @classmethod
    def _lower_case_choices(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in ("log_level", "log_format", "store", "clock", "end_markers", "dead_letter_payload"):
                if isinstance(data.get(name), str):
                    data[name] = data[name].strip().lower()
        return data

    @model_validator(mode="after")
    def _heartbeat_below_session(self) -> Environment:
        if self.heartbeat_interval >= self.session_timeout:
            raise ValueError(
                f"CDI_HEARTBEAT_INTERVAL ({self.heartbeat_interval:g} s) must be below CDI_SESSION_TIMEOUT "
                f"({self.session_timeout:g} s), a third of it or less"
            )
        return self


def variable(field: str) -> str:
    return PREFIX + field.upper()


def explain(error: ValidationError, model: type[BaseSettings] = Environment) -> str:
    """A pydantic validation error as lines an operator acts on: ``CDI_X='value': what to give``."""
    lines = []
    for item in error.errors(include_url=False):
        location = item.get("loc") or ()
        if not location:  # a check across fields: its message names the variables
            lines.append(str(item.get("msg", "")).removeprefix("Value error, "))
            continue
        name = variable(str(location[0]))
        value = item.get("input")
        context = item.get("ctx") or {}
        kind = item.get("type", "")
        spec = model.model_fields[str(location[0])]
        if kind == "literal_error":
            allowed = str(context.get("expected", "")).replace("'", "").replace(" or ", ", ")
            lines.append(f"{name}={value!r}: use one of {allowed}")
        elif kind in ("greater_than_equal", "less_than_equal"):
            low = next((m.ge for m in spec.metadata if hasattr(m, "ge")), None)
            high = next((m.le for m in spec.metadata if hasattr(m, "le")), None)
            span = f"from {low} to {high}" if high is not None else f"at least {low}"
            lines.append(f"{name}={value!r} must be {span}")
        elif kind in ("int_parsing", "float_parsing", "int_from_float"):
            what = "a whole number" if kind != "float_parsing" else "a number"
            lines.append(f"{name}={value!r} is not {what}; unset it or give one")
        elif kind == "bool_parsing":
            lines.append(f"{name}={value!r}: use true or false")
        elif kind == "string_pattern_mismatch":
            lines.append(f"{name}={value!r} is not valid: {spec.description}")
        else:
            lines.append(f"{name}={value!r}: {item.get('msg')}")
    return "; ".join(lines)


def listing(model: type[BaseSettings] = Environment) -> list[tuple[str, str, str]]:
    """(variable, default, meaning) of every variable ``model`` declares, in declaration order."""
    rows = []
    for field, spec in model.model_fields.items():
        default = spec.default
        # Booleans as they are written in the environment (true/false), not as Python prints them.
        shown = "unset" if default is None else str(default).lower() if isinstance(default, bool) else str(default)
        rows.append((variable(field), shown, spec.description or ""))
    return rows
