"""The postgres_server fixture is a real PostgreSQL server: SQL goes through SQLAlchemy Core and psycopg 3."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.databases.postgres_server import PostgresServer

_METADATA = sa.MetaData()
_CRIMES = sa.Table(
    "crimes",
    _METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("reference", sa.Text, nullable=False, unique=True),
    sa.Column("recorded", sa.Boolean, nullable=False),
)


def test_server_is_postgresql(postgres_server: PostgresServer) -> None:
    engine = sa.create_engine(postgres_server.create_database("cdi_version_check"))
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("SELECT version()")).scalar_one()
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()
    assert version.startswith("PostgreSQL "), version


def test_databases_hold_their_own_rows(postgres_server: PostgresServer) -> None:
    first = sa.create_engine(postgres_server.create_database("cdi_rows_first"))
    second = sa.create_engine(postgres_server.create_database("cdi_rows_second"))
    try:
        _METADATA.create_all(first)
        with first.begin() as conn:
            conn.execute(
                _CRIMES.insert(),
                [
                    {"reference": "CR-1", "recorded": True},
                    {"reference": "CR-2", "recorded": False},
                ],
            )
        with first.connect() as conn:
            rows = conn.execute(sa.select(_CRIMES.c.reference, _CRIMES.c.recorded).order_by(_CRIMES.c.id)).all()
        assert [tuple(row) for row in rows] == [("CR-1", True), ("CR-2", False)]

        # The constraint is enforced by the server, not by SQLAlchemy.
        with pytest.raises(sa.exc.IntegrityError), first.begin() as conn:
            conn.execute(_CRIMES.insert(), {"reference": "CR-1", "recorded": True})

        # A separate database: the table exists only where it was created.
        assert not sa.inspect(second).has_table("crimes")
        _METADATA.create_all(second)
        with second.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(_CRIMES)).scalar_one() == 0
    finally:
        first.dispose()
        second.dispose()


def test_create_database_rejects_unsafe_names(postgres_server: PostgresServer) -> None:
    with pytest.raises(ValueError, match="lower-case"):
        postgres_server.create_database('x"; DROP DATABASE postgres; --')


def test_missing_binaries_say_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="apt-get install -y postgresql"):
        PostgresServer(root=tmp_path).start()
