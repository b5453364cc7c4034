"""Loads and validates a rules configuration file (TOML); ``default.toml`` here is the default."""

from __future__ import annotations

import tomllib
from pathlib import Path

from cdi.contracts import Contracts
from cdi.core.rules import LATER_RULES, RulesConfig

DEFAULT = Path(__file__).parent / "default.toml"
# [clock] keys added after the first rules files were written; absent, they take the defaults.
_STATE_KEYS = frozenset({"crime_final_margin_days", "crime_retention_max_days", "final_outcome_types"})


class RulesFileError(ValueError):
    pass


def load(path: str | Path | None = None, contracts: Contracts | None = None) -> RulesConfig:
    source = Path(path) if path else DEFAULT
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RulesFileError(
            f"rules file {source} not found; give an existing file (--rules, or CDI_RULES for every command) "
            f"or copy {DEFAULT} as a starting point"
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
    if "admission" not in data:  # files written before the table existed take the default bounds
        data["admission"] = tomllib.loads(DEFAULT.read_text(encoding="utf-8"))["admission"]
    if "limits" not in data or not data["clock"].keys() >= _STATE_KEYS:
        # Files written before crime retention by outcome and case-size limits take the defaults.
        default = tomllib.loads(DEFAULT.read_text(encoding="utf-8"))
        data.setdefault("limits", default["limits"])
        for key in _STATE_KEYS:
            data["clock"].setdefault(key, default["clock"][key])
    missing = [name for name in LATER_RULES if name not in data["rules"]]
    if missing:  # rules added after the file was written take the default section
        default_rules = tomllib.loads(DEFAULT.read_text(encoding="utf-8"))["rules"]
        for name in missing:
            data["rules"][name] = default_rules[name]
    try:
        return RulesConfig.from_dict(data)
    except ValueError as exc:  # a constraint between values the schema cannot state
        raise RulesFileError(f"rules file {source} is invalid: {exc}") from None
