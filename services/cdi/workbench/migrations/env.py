"""Alembic environment: migrations run inside `cdi serve` at start-up (cdi.workbench.store), on
the connection it passes in, so no alembic.ini is needed."""

from __future__ import annotations

from alembic import context

from cdi.workbench.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through cdi.workbench.store.CaseStore.migrate")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
