"""Workbench tokens: parsed from the environment or a TOML file of digests, checked by digest."""

from __future__ import annotations

import pytest

from cdi.settings import SettingsError
from cdi.workbench.access import Tokens, digest


def test_tokens_from_the_environment_and_a_file_of_digests(tmp_path):
    path = tmp_path / "tokens.toml"
    path.write_text(f'[[tokens]]\nstaff = "FCR-7"\nrole = "registrar"\nsha256 = "{digest("reg-secret")}"\n')
    tokens = Tokens.load("S-1:operator:op-secret,S-2:viewer:view-secret", str(path))
    assert len(tokens) == 3
    assert tokens.check("op-secret").role == "operator"
    assert tokens.check("reg-secret").staff == "FCR-7"
    assert tokens.check("wrong") is None and tokens.check("") is None and tokens.check(None) is None
    assert tokens.by(digest("view-secret")).staff == "S-2"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ("S-1:admin:x", "role must be one of viewer, operator, registrar"),
        ("Jane Smith:viewer:x", "staff must be a pseudonymous reference"),
        ("S-1:viewer", "write staff:role:token"),
        ("S-1:viewer:same,S-2:operator:same", "two workbench entries share one token"),
    ],
)
def test_bad_entries_say_what_to_fix_and_never_echo_the_token(env, message):
    with pytest.raises(SettingsError) as refused:
        Tokens.load(env, None)
    assert message in str(refused.value)
    assert "same" not in str(refused.value).replace("share", "")


def test_a_tokens_file_must_give_a_digest_or_a_token(tmp_path):
    path = tmp_path / "tokens.toml"
    path.write_text('[[tokens]]\nstaff = "S-1"\nrole = "viewer"\n')
    with pytest.raises(SettingsError, match="give sha256 \\(preferred\\) or token"):
        Tokens.load(None, str(path))
    path.write_text('[[tokens]]\nstaff = "S-1"\nrole = "viewer"\nsha256 = "abc"\n')
    with pytest.raises(SettingsError, match="64 hex digits"):
        Tokens.load(None, str(path))
