"""The workbench's tables (SQLAlchemy Core). Alembic migrations in ``migrations/`` create them;
this module is what the queries are written against and what a new migration is compared with.

The view is disposable: every row comes from the findings, case-actions and input topics, and
``offsets`` says how far each partition has been read, in the same transaction as the rows.
Every key starts with ``pipeline`` so a live and a replay workbench can share one database.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

findings = Table(
    "findings",
    metadata,
    Column("pipeline", String(40), primary_key=True),
    Column("finding_id", String(160), primary_key=True),
    # From finding.raised (null until it is read: a resolution can be read first after a rebuild).
    Column("rule", String(64)),
    Column("severity", String(16)),
    Column("force", String(32)),
    Column("division", String(32)),
    Column("offence_group", String(64)),
    Column("subject_kind", String(16)),
    Column("subject_id", String(160)),
    Column("raised_at", BigInteger),  # event time, epoch ms
    Column("occurred_at", String(40)),
    Column("explanation", Text),
    Column("guidance", Text),
    Column("rules_version", Text),  # the rules file says what it is; no length limit
    Column("evidence", Text),  # JSON list of event ids, in the finding's order
    # breach or review (cdi.core.findings); a row made by a resolution read first, or a finding
    # written before rules 2026.12.1, is a breach until a raise says otherwise. Migration 0002.
    Column("assessment", String(16), nullable=False, server_default="breach"),
    # From finding.resolved.
    Column("resolution", String(32)),
    Column("resolved_at", String(40)),
    Column("resolved_explanation", Text),
    Column("resolving_evidence", Text),  # JSON list of event ids
    # Derived by cdi.workbench.casework.fold from the actions.
    Column("status", String(16), nullable=False, default="open"),
    Column("acknowledged_by", String(64)),
    Column("acknowledged_at", String(40)),
    Column("assignee_kind", String(8)),
    Column("assignee_ref", String(64)),
    Column("closed_outcome", String(32)),
    Column("closed_by", String(64)),
    Column("closed_at", String(40)),
    Column("closed_reason", Text),
    Column("last_action_at", String(40)),
    Index("findings_newest", "pipeline", "raised_at", "finding_id"),
    Index("findings_rule_division", "pipeline", "rule", "division", "status"),
)

# Which events each finding cites (raised and resolving), for the timeline and for pruning.
finding_evidence = Table(
    "finding_evidence",
    metadata,
    Column("pipeline", String(40), primary_key=True),
    Column("finding_id", String(160), primary_key=True),
    Column("event_id", String(160), primary_key=True),
    Column("resolving", Boolean, nullable=False, default=False),
    Index("finding_evidence_event", "pipeline", "event_id"),
)

# Input events, kept so a finding's timeline can show them; pruned after the retention period
# unless a finding cites them.
events = Table(
    "events",
    metadata,
    Column("pipeline", String(40), primary_key=True),
    Column("event_id", String(160), primary_key=True),
    Column("type", String(40), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("occurred_at", String(40), nullable=False),
    Column("division", String(32), nullable=False),
    Column("line", Text, nullable=False),
    Column("payload", Text, nullable=False),  # JSON
    # The rest of the envelope, so the audit can run the rules over the stored events
    # (cdi.workbench.audit_desk); null on rows stored before migration 0003.
    Column("force", String(32)),
    Column("schema_version", Integer),
    Index("events_at", "pipeline", "at"),
)

actions = Table(
    "actions",
    metadata,
    Column("pipeline", String(40), primary_key=True),
    Column("action_id", String(160), primary_key=True),
    Column("finding_id", String(160), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("action", String(16), nullable=False),
    Column("by", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("occurred_at", String(40), nullable=False),
    Column("assignee_kind", String(8)),
    Column("assignee_ref", String(64)),
    Column("note", Text),
    Column("outcome", String(32)),
    Column("reason", Text),
    Column("refused", Text),  # why the action changed nothing (casework.refusal), else null
    Index("actions_finding", "pipeline", "finding_id", "partition", "offset"),
)

# Audit samples (audit.sample events on the case-actions topic): a named batch of review tasks.
audit_samples = Table(
    "audit_samples",
    metadata,
    Column("pipeline", String(40), primary_key=True),
    Column("sample_id", String(80), primary_key=True),
    Column("force", String(32), nullable=False),
    Column("division", String(32), nullable=False),
    Column("period_start", BigInteger, nullable=False),  # epoch ms
    Column("period_end", BigInteger, nullable=False),  # epoch ms, exclusive
    Column("seed", BigInteger, nullable=False),
    Column("item_count", Integer, nullable=False),
    Column("drawn_by", String(64)),
    Column("event", Text, nullable=False),  # the audit.sample event, JSON: its design and items
)

audit_items = Table(
    "audit_items",
    metadata,
    Column("pipeline", String(40), primary_key=True),
    Column("sample_id", String(80), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("item_id", String(160), primary_key=True),
    Column("position", Integer, nullable=False),  # order in the sample
    Column("division", String(32), nullable=False),
    Column("stratum", String(120), nullable=False),
    Column("weight", Float, nullable=False),
)

# Every verdict event; the latest on an item (event time, then event id) stands.
audit_verdicts = Table(
    "audit_verdicts",
    metadata,
    Column("pipeline", String(40), primary_key=True),
    Column("event_id", String(160), primary_key=True),
    Column("sample_id", String(80), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("item_id", String(160), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("by", String(64), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("occurred_at", String(40), nullable=False),
    Column("force", String(32), nullable=False),
    Column("division", String(32), nullable=False),
    Column("crime_recorded", Boolean),
    Column("offence_group", String(64)),
    Column("hocr_code", String(16)),
    Column("reason", String(64)),
    Column("note", Text),
    Index("audit_verdicts_item", "pipeline", "sample_id", "kind", "item_id"),
)

offsets = Table(
    "offsets",
    metadata,
    Column("topic", String(249), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
)
