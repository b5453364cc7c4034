"""Settings of `cdi serve`, from environment variables (the README's configuration table).

The Kafka side (CDI_KAFKA_BOOTSTRAP, CDI_NAMESPACE, security) is the worker's own Settings; this
adds the database, the listener, the sign-in tokens and the session key.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field

from cdi.settings import Settings, SettingsError, env_number, env_secret, env_value
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
        kafka = kafka or Settings.from_env()
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
        secure = env_value("CDI_WORKBENCH_SECURE_COOKIES", "false").lower()
        if secure not in {"true", "false"}:
            raise SettingsError(f"CDI_WORKBENCH_SECURE_COOKIES={secure!r}: use true or false")
        return cls(
            kafka=kafka,
            database_url=env_secret("CDI_CASES_DATABASE_URL"),  # it may hold a password: _FILE works too
            host=env_value("CDI_WORKBENCH_HOST", "127.0.0.1"),
            port=int(env_number("CDI_WORKBENCH_PORT", 8080, int, 0)),
            tokens=tokens,
            session_key=key or secrets.token_urlsafe(32),
            secure_cookies=secure == "true",
            event_retention_days=env_number("CDI_CASES_EVENT_RETENTION_DAYS", 400.0, float, 1.0),
        )
