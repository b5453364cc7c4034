"""What `cdi config` shows: every CDI_* setting a command would use, its effective value and
where the value came from, with secrets masked (a password, key or token is shown as set or
unset, never its value; a database URL loses its password)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from cdi.environment import Environment, listing
from cdi.kafka_security import VARIABLES as SECURITY_VARIABLES

MASK = "****"
ENVIRONMENT = "environment"
DEFAULT = "default"

# Read outside cdi.environment: with _FILE forms (cdi.kafka_security, cdi.settings) or by the
# workbench only (cdi.workbench.config); CDI_DEBUG by the command line.
OTHER_VARIABLES = (
    *SECURITY_VARIABLES,
    "CDI_REPLAY_KEY",
    "CDI_REPLAY_KEY_FILE",
    "CDI_DEBUG",
    "CDI_CASES_DATABASE_URL",
    "CDI_CASES_DATABASE_URL_FILE",
    "CDI_WORKBENCH_TOKENS",
    "CDI_WORKBENCH_TOKENS_FILE",
    "CDI_WORKBENCH_SESSION_KEY",
    "CDI_WORKBENCH_SESSION_KEY_FILE",
)
SECRET_SUFFIXES = ("PASSWORD", "_KEY", "TOKENS")


@dataclass(frozen=True, slots=True)
class Row:
    variable: str
    value: str
    source: str  # environment | default


def secret(variable: str) -> bool:
    return variable.endswith(SECRET_SUFFIXES)


def shown(variable: str, value: str) -> str:
    if secret(variable):
        return MASK
    if variable == "CDI_CASES_DATABASE_URL":
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            return make_url(value).render_as_string(hide_password=True)
        except ArgumentError:
            return "(not a database URL)"
    return value


def effective(environ: dict[str, str] | None = None) -> list[Row]:
    """Rows for the validated settings (call Settings.from_env first: this assumes they parse)."""
    environ = dict(os.environ if environ is None else environ)
    env = Environment()
    rows = []
    for variable, _default, _ in listing():
        field = variable.removeprefix("CDI_").lower()
        value = getattr(env, field)
        if variable == "CDI_TOPIC_PREFIX" and value is None:
            from cdi.settings import namespace_prefix

            value = namespace_prefix(env.namespace)
        given = environ.get(variable, "").strip() != ""
        rows.append(Row(variable, "unset" if value is None else str(value), ENVIRONMENT if given else DEFAULT))
    from pydantic import ValidationError

    from cdi.environment import explain
    from cdi.settings import SettingsError
    from cdi.workbench.config import WorkbenchEnvironment

    try:
        workbench = WorkbenchEnvironment()
    except ValidationError as exc:
        raise SettingsError(explain(exc, WorkbenchEnvironment)) from None
    for variable, _default, _ in listing(WorkbenchEnvironment):
        value = getattr(workbench, variable.removeprefix("CDI_").lower())
        given = environ.get(variable, "").strip() != ""
        rows.append(
            Row(
                variable,
                str(value).lower() if isinstance(value, bool) else str(value),
                ENVIRONMENT if given else DEFAULT,
            )
        )
    for variable in OTHER_VARIABLES:
        raw = environ.get(variable, "").strip()
        if raw:
            rows.append(Row(variable, shown(variable, raw), ENVIRONMENT))
    return rows


def described() -> dict[str, str]:
    """Variable -> meaning, for the rows the two settings models declare."""
    from cdi.workbench.config import WorkbenchEnvironment

    return {
        variable: meaning for model in (Environment, WorkbenchEnvironment) for variable, _, meaning in listing(model)
    }
