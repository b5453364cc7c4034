"""finding assessment: breach or review

Revision ID: 0002
Revises: 0001

Every finding.raised carries ``assessment`` since rules 2026.12.1: ``breach`` (the records show the
rule broken) or ``review`` (they cannot settle it). Rows already in the view, and findings written
before that version, are breaches (docs/rules.md, "Breach or review").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("assessment", sa.String(length=16), server_default="breach", nullable=False),
        )


def downgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_column("assessment")
