"""Event contracts at the edge: decode bytes, validate against ``schemas/``, build typed events.

The JSON Schemas are the single source of truth. A record that fails here never reaches the
core; the caller dead-letters it with the reason. ``InvalidEvent.detail`` may quote values
from the record (it goes to the dead-letter topic only); ``InvalidEvent.summary`` names just
the reason and the field path, so it is safe for logs.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson

from cdi.core.events import Event

COMMON_ID = "urn:cdi:schema:common:1"

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

    def check(self, record: Any) -> None:
        """Raise InvalidEvent unless ``record`` is a known event type valid against its schema."""
        if not isinstance(record, dict):
            raise InvalidEvent(MALFORMED, "an event must be a JSON object")
        key = (record.get("type"), record.get("schema_version"))
        validator = self.validators.get(key) if isinstance(key[0], str) and "." in key[0] else None
        if validator is None:
            raise InvalidEvent(UNKNOWN_TYPE, f"no contract for type {key[0]!r} version {key[1]!r}", "/type")
        if validator.is_valid(record):  # the common case, several times faster than collecting errors
            return
        for error in validator.iter_errors(record):
            path = "/" + "/".join(str(p) for p in error.instance_path)
            raise InvalidEvent(SCHEMA, f"{path}: {error.message}", path)

    def parse(self, record: Any) -> Event:
        self.check(record)
        return Event.from_dict(record)

    def decode(self, raw: bytes) -> Event:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidEvent(MALFORMED, f"not JSON: {exc}") from None
        return self.parse(record)

    def check_config(self, name: str, data: dict[str, Any]) -> list[str]:
        """Errors of a configuration document against ``<name>`` version 1, as readable lines."""
        return [
            f"{'/'.join(str(p) for p in error.instance_path) or '(top level)'}: {error.message}"
            for error in self.validators[(name, 1)].iter_errors(data)
        ]
