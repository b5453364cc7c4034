"""Loads and validates a rules configuration file (TOML); ``default.toml`` here is the default."""

from __future__ import annotations

import tomllib
from pathlib import Path

from cdi.contracts import Contracts
from cdi.core.rules import RulesConfig

DEFAULT = Path(__file__).parent / "default.toml"


class RulesFileError(ValueError):
    pass


def load(path: str | Path | None = None, contracts: Contracts | None = None) -> RulesConfig:
    source = Path(path) if path else DEFAULT
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RulesFileError(
            f"rules file {source} not found; pass --rules with an existing file or copy {DEFAULT} as a starting point"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesFileError(f"rules file {source} is not valid TOML: {exc}") from None
    errors = (contracts or Contracts()).check_config("rules-config", data)
    if errors:
        listing = "\n  ".join(errors)
        raise RulesFileError(
            f"rules file {source} is invalid:\n  {listing}\n"
            f"Fix these values (see schemas/rules-config.v1.json for what is allowed)."
        )
    return RulesConfig.from_dict(data)
