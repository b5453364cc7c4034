"""Who may use the workbench: sign-in tokens, each mapped to a pseudonymous staff reference and
a role (viewer, operator, registrar).

Tokens come from a TOML file (``CDI_WORKBENCH_TOKENS_FILE``) or the environment
(``CDI_WORKBENCH_TOKENS``). The file may hold only a token's SHA-256, so the file itself signs
nobody in. A token is compared by its digest in constant time and is never logged, echoed or
stored in a session: the session cookie keeps the digest, and a token removed from the file
signs its sessions out at the next restart.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from cdi.settings import SettingsError
from cdi.workbench.casework import OPERATOR, REGISTRAR, ROLES, VIEWER

STAFF = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # as the case-action contract's staff_ref
RANK = {VIEWER: 0, OPERATOR: 1, REGISTRAR: 2}


@dataclass(frozen=True, slots=True)
class Principal:
    staff: str
    role: str
    digest: str  # SHA-256 of the token, hex

    def at_least(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Tokens:
    def __init__(self, principals: list[Principal]) -> None:
        self.by_digest = {p.digest: p for p in principals}

    def __len__(self) -> int:
        return len(self.by_digest)

    def check(self, token: str | None) -> Principal | None:
        if not token:
            return None
        presented = digest(token)
        found = None
        for known, principal in self.by_digest.items():  # constant time per entry
            if hmac.compare_digest(known, presented):
                found = principal
        return found

    def by(self, token_digest: str | None) -> Principal | None:
        return self.by_digest.get(token_digest or "")

    @classmethod
    def parse_env(cls, text: str) -> list[Principal]:
        """``staff:role:token`` entries separated by commas or new lines."""
        out = []
        for n, entry in enumerate(e.strip() for e in re.split(r"[,\n]", text)):
            if not entry:
                continue
            parts = entry.split(":", 2)
            if len(parts) != 3 or not parts[2]:
                raise SettingsError(f"CDI_WORKBENCH_TOKENS entry {n + 1}: write staff:role:token")
            out.append(_principal(parts[0], parts[1], digest(parts[2]), f"CDI_WORKBENCH_TOKENS entry {n + 1}"))
        return out

    @classmethod
    def parse_file(cls, path: Path) -> list[Principal]:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SettingsError(f"CDI_WORKBENCH_TOKENS_FILE={str(path)!r} cannot be read ({exc.strerror})") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"CDI_WORKBENCH_TOKENS_FILE={str(path)!r} is not TOML ({exc})") from None
        out = []
        for n, entry in enumerate(data.get("tokens", [])):
            where = f"{path}: [[tokens]] entry {n + 1}"
            if not isinstance(entry, dict):
                raise SettingsError(f"{where} is not a table")
            if ("sha256" in entry) == ("token" in entry):
                raise SettingsError(f"{where}: give sha256 (preferred) or token, one of the two")
            hexed = str(entry["sha256"] if "sha256" in entry else digest(str(entry["token"]))).lower()
            if not re.fullmatch(r"[0-9a-f]{64}", hexed):
                raise SettingsError(f"{where}: sha256 must be 64 hex digits (cdi serve-token prints it)")
            out.append(_principal(str(entry.get("staff", "")), str(entry.get("role", "")), hexed, where))
        return out

    @classmethod
    def load(cls, env_value: str | None, file_path: str | None) -> Tokens:
        principals: list[Principal] = []
        if env_value:
            principals += cls.parse_env(env_value)
        if file_path:
            principals += cls.parse_file(Path(file_path))
        seen: set[str] = set()
        for p in principals:
            if p.digest in seen:
                raise SettingsError(f"two workbench entries share one token (staff {p.staff}); give each its own")
            seen.add(p.digest)
        return cls(principals)


def _principal(staff: str, role: str, hexed: str, where: str) -> Principal:
    if not STAFF.fullmatch(staff):
        raise SettingsError(f"{where}: staff must be a pseudonymous reference (letters, digits, . _ -), not a name")
    if role not in ROLES:
        raise SettingsError(f"{where}: role must be one of {', '.join(ROLES)}")
    return Principal(staff, role, hexed)
