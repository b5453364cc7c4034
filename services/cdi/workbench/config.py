"""Settings of `cdi serve`, from environment variables (the README's configuration table).

The Kafka side (CDI_KAFKA_BOOTSTRAP, CDI_NAMESPACE, security) is the worker's own Settings; this
adds the database, the listener, the sign-in tokens and the session key.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cdi.settings import Settings, SettingsError, env_secret
from cdi.workbench.access import Tokens

log = logging.getLogger("cdi.workbench")


@dataclass(frozen=True, slots=True)
class WorkbenchSettings:
    kafka: Settings
    # CDI_CASES_DATABASE_URL: an SQLAlchemy URL, e.g. postgresql+psycopg://user@host/cases;
    # unset: an SQLite file, CDI_DATA_DIR/cases.db
    database_url: str | None = None
    host: str = "127.0.0.1"  # CDI_WORKBENCH_HOST
    port: int = 8080  # CDI_WORKBENCH_PORT
    tokens: Tokens = field(default_factory=lambda: Tokens([]))  # CDI_WORKBENCH_TOKENS / CDI_WORKBENCH_TOKENS_FILE
    # CDI_WORKBENCH_SESSION_KEY(_FILE): signs session cookies; replicas behind one address need the
    # same key. Unset: a random key per process (sign-ins end when it restarts).
    session_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    secure_cookies: bool = False  # CDI_WORKBENCH_SECURE_COOKIES: true behind TLS
    # CDI_CASES_EVENT_RETENTION_DAYS: input events no finding cites are dropped from the view after
    # this long (event time); long enough for an outcome months after its crime was recorded.
    event_retention_days: float = 400.0

    @classmethod
    def from_env(cls, kafka: Settings | None = None) -> WorkbenchSettings:
        from pydantic import ValidationError

        from cdi.environment import explain

        kafka = kafka or Settings.from_env()
        try:
            env = WorkbenchEnvironment()
        except ValidationError as exc:
            raise SettingsError(explain(exc, WorkbenchEnvironment)) from None
        tokens = Tokens.load(os.environ.get("CDI_WORKBENCH_TOKENS"), os.environ.get("CDI_WORKBENCH_TOKENS_FILE"))
        if not len(tokens):
            raise SettingsError(
                "no workbench sign-in tokens: set CDI_WORKBENCH_TOKENS_FILE to a tokens file "
                "(`cdi serve-token --staff S-1042 --role operator` prints an entry) or "
                "CDI_WORKBENCH_TOKENS=staff:role:token"
            )
        key = env_secret("CDI_WORKBENCH_SESSION_KEY")
        if key is None:
            log.warning("CDI_WORKBENCH_SESSION_KEY is not set: sign-ins last until this process restarts")
        return cls(
            kafka=kafka,
            database_url=env_secret("CDI_CASES_DATABASE_URL"),  # it may hold a password: _FILE works too
            host=env.workbench_host,
            port=env.workbench_port,
            tokens=tokens,
            session_key=key or secrets.token_urlsafe(32),
            secure_cookies=env.workbench_secure_cookies,
            event_retention_days=env.cases_event_retention_days,
        )


class WorkbenchEnvironment(BaseSettings):
    """The workbench's own plain CDI_* variables (the secrets, with _FILE forms, are read above)."""

    model_config = SettingsConfigDict(
        env_prefix="CDI_", env_ignore_empty=True, str_strip_whitespace=True, extra="ignore", frozen=True
    )

    workbench_host: str = Field("127.0.0.1", min_length=1, description="address the page and API listen on")
    workbench_port: int = Field(8080, ge=1, le=65535, description="port of the page and API")
    workbench_secure_cookies: bool = Field(
        False, description="true behind TLS: the session cookie goes over HTTPS only"
    )
    cases_event_retention_days: float = Field(
        400.0, ge=1, le=3650, description="days (event time) input events no finding cites stay in the view"
    )
