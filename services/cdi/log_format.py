"""How the monitor's processes log: JSON lines with stable keys for a log platform, or text for
a person at a terminal (CDI_LOG_FORMAT: auto picks text when stderr is a terminal, else JSON).

Every JSON line has ``time`` (RFC 3339, UTC, milliseconds), ``level``, ``logger`` and ``message``,
plus ``process`` and any extra fields a message was logged with. Messages never carry record
values (docs/architecture.md, "Personal data"): the format only shapes what is logged.
"""

from __future__ import annotations

import logging
import logging.config
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

FORMATS = ("auto", "json", "text")
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# python-json-logger's record attribute -> the key a log platform sees (stable: dashboards and
# alerts on logs match these).
KEYS = {"asctime": "time", "levelname": "level", "name": "logger", "process": "process"}


def resolve(format_: str, stream: Any = None) -> str:
    """``json`` or ``text`` for ``auto|json|text``, by whether ``stream`` (stderr) is a terminal."""
    if format_ != "auto":
        return format_
    stream = stream if stream is not None else sys.stderr
    try:
        return "text" if stream.isatty() else "json"
    except (AttributeError, ValueError):
        return "json"


def logging_config(level: str, format_: str, stream: Any = None) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` document: one handler on ``stream`` (default stderr) for
    the root logger, so Faust's, aiokafka's, uvicorn's and the monitor's lines look alike."""
    chosen = resolve(format_, stream)
    formatter: dict[str, Any]
    if chosen == "json":
        formatter = {
            "()": "cdi.log_format.UtcJsonFormatter",
            "fmt": " ".join(f"%({name})s" for name in KEYS) + " %(message)s",
            "rename_fields": KEYS,
        }
    else:
        formatter = {"format": TEXT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"cdi": formatter},
        "handlers": {
            "cdi": {
                "class": "logging.StreamHandler",
                "formatter": "cdi",
                "stream": stream if stream is not None else "ext://sys.stderr",
            }
        },
        "root": {"level": level.upper(), "handlers": ["cdi"]},
    }


def configure(level: str, format_: str) -> None:
    """Set up logging for a command that is not a Faust worker (the worker passes
    ``logging_config`` to Faust, which applies it when it starts)."""
    logging.config.dictConfig(logging_config(level, format_))


def _utc_time(record: logging.LogRecord) -> str:
    import datetime as dt

    moment = dt.datetime.fromtimestamp(record.created, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class UtcJsonFormatter(JsonFormatter):
    """python-json-logger's formatter with the time in UTC with milliseconds, the form log
    platforms parse without a pattern."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _utc_time(record)
