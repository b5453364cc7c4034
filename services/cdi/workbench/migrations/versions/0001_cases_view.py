"""cases view: findings, evidence, events, actions, offsets

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "actions",
        sa.Column("pipeline", sa.String(length=40), nullable=False),
        sa.Column("action_id", sa.String(length=160), nullable=False),
        sa.Column("finding_id", sa.String(length=160), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.String(length=40), nullable=False),
        sa.Column("assignee_kind", sa.String(length=8), nullable=True),
        sa.Column("assignee_ref", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("refused", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("pipeline", "action_id"),
    )
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.create_index("actions_finding", ["pipeline", "finding_id", "partition", "offset"], unique=False)

    op.create_table(
        "events",
        sa.Column("pipeline", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=160), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.String(length=40), nullable=False),
        sa.Column("division", sa.String(length=32), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("pipeline", "event_id"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("events_at", ["pipeline", "at"], unique=False)

    op.create_table(
        "finding_evidence",
        sa.Column("pipeline", sa.String(length=40), nullable=False),
        sa.Column("finding_id", sa.String(length=160), nullable=False),
        sa.Column("event_id", sa.String(length=160), nullable=False),
        sa.Column("resolving", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("pipeline", "finding_id", "event_id"),
    )
    with op.batch_alter_table("finding_evidence", schema=None) as batch_op:
        batch_op.create_index("finding_evidence_event", ["pipeline", "event_id"], unique=False)

    op.create_table(
        "findings",
        sa.Column("pipeline", sa.String(length=40), nullable=False),
        sa.Column("finding_id", sa.String(length=160), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("force", sa.String(length=32), nullable=True),
        sa.Column("division", sa.String(length=32), nullable=True),
        sa.Column("offence_group", sa.String(length=64), nullable=True),
        sa.Column("subject_kind", sa.String(length=16), nullable=True),
        sa.Column("subject_id", sa.String(length=160), nullable=True),
        sa.Column("raised_at", sa.BigInteger(), nullable=True),
        sa.Column("occurred_at", sa.String(length=40), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("guidance", sa.Text(), nullable=True),
        sa.Column("rules_version", sa.Text(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.Column("resolved_at", sa.String(length=40), nullable=True),
        sa.Column("resolved_explanation", sa.Text(), nullable=True),
        sa.Column("resolving_evidence", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_at", sa.String(length=40), nullable=True),
        sa.Column("assignee_kind", sa.String(length=8), nullable=True),
        sa.Column("assignee_ref", sa.String(length=64), nullable=True),
        sa.Column("closed_outcome", sa.String(length=32), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", sa.String(length=40), nullable=True),
        sa.Column("closed_reason", sa.Text(), nullable=True),
        sa.Column("last_action_at", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("pipeline", "finding_id"),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index("findings_newest", ["pipeline", "raised_at", "finding_id"], unique=False)
        batch_op.create_index("findings_rule_division", ["pipeline", "rule", "division", "status"], unique=False)

    op.create_table(
        "offsets",
        sa.Column("topic", sa.String(length=249), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("topic", "partition"),
    )


def downgrade() -> None:
    op.drop_table("offsets")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index("findings_rule_division")
        batch_op.drop_index("findings_newest")

    op.drop_table("findings")
    with op.batch_alter_table("finding_evidence", schema=None) as batch_op:
        batch_op.drop_index("finding_evidence_event")

    op.drop_table("finding_evidence")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("events_at")

    op.drop_table("events")
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index("actions_finding")

    op.drop_table("actions")
