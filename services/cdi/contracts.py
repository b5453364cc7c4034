"""Event contracts at the edge: decode bytes, validate against ``schemas/``, build typed events.

The JSON Schemas are the single source of truth. A record that fails here never reaches the
core; the caller dead-letters it with the reason. Neither ``InvalidEvent.detail`` (the
dead-letter header) nor ``InvalidEvent.summary`` (logs) quotes a value from the record: a
rejected field may hold a name or a date of birth. They name the reason, the field path and
the schema keyword that failed.

Anything the decoder raises, however unforeseen (a leap second, nesting deep enough to exhaust
the validator's recursion, a year out of range), becomes an ``InvalidEvent``: a record can be
rejected, never crash its reader.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson

from cdi.core.events import PAYLOAD_TYPES, Event

COMMON_ID = "urn:cdi:schema:common:1"
SAFE_SEGMENT = re.compile(r"[a-z_][a-z0-9_]{0,39}|[0-9]{1,6}")
KEYWORD = re.compile(r"[A-Za-z$][A-Za-z]{0,39}")  # a JSON Schema keyword, e.g. unevaluatedProperties

MALFORMED = "malformed"
UNKNOWN_TYPE = "unknown_type"
SCHEMA = "schema"


def schema_dir() -> Path:
    """Schemas ship inside the wheel; an editable checkout reads the repository's own folder."""
    packaged = Path(__file__).parent / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "schemas"


class InvalidEvent(Exception):
    def __init__(self, reason: str, detail: str, path: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.path = path

    @property
    def summary(self) -> str:
        return f"{self.reason} at {self.path or '/'}"


class Contracts:
    """All event schemas, compiled once."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or schema_dir()
        self.schemas: dict[str, dict[str, Any]] = {}
        for path in sorted(self.directory.glob("*.json")):
            schema = orjson.loads(path.read_bytes())
            self.schemas[schema["$id"]] = schema
        if COMMON_ID not in self.schemas:
            raise FileNotFoundError(f"{self.directory} has no {COMMON_ID} schema: is the checkout complete?")
        self.registry = jsonschema_rs.Registry([(COMMON_ID, self.schemas[COMMON_ID])])
        self.validators: dict[tuple[str, int], Any] = {}
        for schema_id, schema in self.schemas.items():
            parts = schema_id.split(":")  # urn:cdi:schema:<name>:<version>
            self.validators[(parts[3], int(parts[4]))] = jsonschema_rs.validator_for(
                schema, registry=self.registry, validate_formats=True
            )

    @cached_property
    def event_types(self) -> list[str]:
        return sorted(name for name, _ in self.validators if "." in name)

    def validator(self, name: str, version: int = 1) -> Any:
        return self.validators[(name, version)]

    @staticmethod
    def _where(error: Any) -> tuple[str, str]:
        """(field path, failed keyword) of a validation error, with no record value in either.
        A path segment that is not a plain field name or index (it came from the record's own
        keys) is masked."""
        parts = [str(p) if SAFE_SEGMENT.fullmatch(str(p)) else "*" for p in error.instance_path]
        keyword = str(error.schema_path[-1]) if error.schema_path else "schema"
        return "/" + "/".join(parts), keyword if KEYWORD.fullmatch(keyword) else "schema"

    def check(self, record: Any) -> None:
        """Raise InvalidEvent unless ``record`` is a known event type valid against its schema."""
        if not isinstance(record, dict):
            raise InvalidEvent(MALFORMED, "an event must be a JSON object")
        key = (record.get("type"), record.get("schema_version"))
        validator = self.validators.get(key) if isinstance(key[0], str) and "." in key[0] else None
        if validator is None:
            raise InvalidEvent(UNKNOWN_TYPE, "no contract for this type and schema_version", "/type")
        if validator.is_valid(record):  # the common case, several times faster than collecting errors
            return
        for error in validator.iter_errors(record):
            path, keyword = self._where(error)
            raise InvalidEvent(SCHEMA, f"{path}: fails the contract's '{keyword}' rule", path)
        raise InvalidEvent(SCHEMA, "fails its contract")  # is_valid and iter_errors disagreed

    def parse(self, record: Any) -> Event:
        try:
            self.check(record)
        except InvalidEvent:
            raise
        except Exception as exc:  # the validator itself gave up, e.g. on extreme nesting
            raise InvalidEvent(MALFORMED, f"cannot be validated ({type(exc).__name__})") from None
        # A contract of another component, validated here but never an event the core reads: the
        # workbench's case.action, the audit's audit.sample and audit.verdict (cdi.audit).
        if record["type"] not in PAYLOAD_TYPES:
            raise InvalidEvent(UNKNOWN_TYPE, "not an event the monitor reads", "/type")
        try:
            return Event.from_dict(record)
        except Exception as exc:  # valid by pattern, impossible as a value: 23:59:60, year 0
            raise InvalidEvent(SCHEMA, f"a time or value is out of range ({type(exc).__name__})") from None

    def decode(self, raw: bytes) -> Event:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidEvent(MALFORMED, f"not JSON: {exc}") from None
        return self.parse(record)

    def check_config(self, name: str, data: dict[str, Any]) -> list[str]:
        """Errors of a configuration document against ``<name>`` version 1, as readable lines."""
        errors = list(self.validators[(name, 1)].iter_errors(data))
        paths = [tuple(str(p) for p in error.instance_path) for error in errors]
        lines = []
        for error, path in zip(errors, paths, strict=True):
            # An object whose member failed also fails unevaluatedProperties (a failed subschema
            # evaluates nothing): that line names every key and hides the real error, so drop it.
            if type(error.kind).__name__ == "UnevaluatedProperties" and any(
                len(other) > len(path) and other[: len(path)] == path for other in paths
            ):
                continue
            lines.append(f"{'/'.join(path) or '(top level)'}: {_readable(error)}")
        return lines


def _readable(error: Any) -> str:
    """The validator's message, with every allowed value for an enum (it lists only two)."""
    kind = error.kind
    if type(kind).__name__ == "Enum":
        allowed = ", ".join(str(option) for option in kind.options)
        return f"{error.instance!r} is not allowed; use one of: {allowed}"
    return str(error.message)
