"""audit: samples, their items, verdicts; the events' envelope

Revision ID: 0003
Revises: 0002

Issue 12: audit samples and verdicts travel on the case-actions topic and are kept here beside
the cases. The events table gains the rest of each event's envelope (force, schema version) so
that the rules can run over the stored events to build an audit population; rows stored before
this migration have neither, and the audit fills them in (docs/audit.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("force", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("schema_version", sa.Integer(), nullable=True))
    op.create_table(
        "audit_samples",
        sa.Column("pipeline", sa.String(length=40), nullable=False),
        sa.Column("sample_id", sa.String(length=80), nullable=False),
        sa.Column("force", sa.String(length=32), nullable=False),
        sa.Column("division", sa.String(length=32), nullable=False),
        sa.Column("period_start", sa.BigInteger(), nullable=False),
        sa.Column("period_end", sa.BigInteger(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("drawn_by", sa.String(length=64), nullable=True),
        sa.Column("event", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("pipeline", "sample_id"),
    )
    op.create_table(
        "audit_items",
        sa.Column("pipeline", sa.String(length=40), nullable=False),
        sa.Column("sample_id", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.String(length=160), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("division", sa.String(length=32), nullable=False),
        sa.Column("stratum", sa.String(length=120), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("pipeline", "sample_id", "kind", "item_id"),
    )
    op.create_table(
        "audit_verdicts",
        sa.Column("pipeline", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=160), nullable=False),
        sa.Column("sample_id", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.String(length=160), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.String(length=40), nullable=False),
        sa.Column("force", sa.String(length=32), nullable=False),
        sa.Column("division", sa.String(length=32), nullable=False),
        sa.Column("crime_recorded", sa.Boolean(), nullable=True),
        sa.Column("offence_group", sa.String(length=64), nullable=True),
        sa.Column("hocr_code", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("pipeline", "event_id"),
    )
    with op.batch_alter_table("audit_verdicts", schema=None) as batch_op:
        batch_op.create_index("audit_verdicts_item", ["pipeline", "sample_id", "kind", "item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_verdicts", schema=None) as batch_op:
        batch_op.drop_index("audit_verdicts_item")
    op.drop_table("audit_verdicts")
    op.drop_table("audit_items")
    op.drop_table("audit_samples")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("schema_version")
        batch_op.drop_column("force")
