"""The cases view in a database: SQLite by default (one file), PostgreSQL when
CDI_CASES_DATABASE_URL says so. Records from the topics are applied in batches, each batch in
one transaction together with the offsets it reached, so a restart resumes exactly where the
view stopped and nothing is applied twice. Replicas sharing PostgreSQL each read every record
and apply their batches one at a time (an advisory lock); records before the stored offsets are
skipped, so two replicas never apply one record twice. Reading the view is queries.py.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from cdi.audit.sample import MAX_SAMPLE_BYTES
from cdi.contracts import Contracts, InvalidEvent
from cdi.core.findings import BREACH
from cdi.core.times import parse_time
from cdi.topics import CASE_ACTIONS, TOPIC_FOR_TYPE
from cdi.workbench import casework
from cdi.workbench.audit_queries import AuditQueries
from cdi.workbench.queries import CaseQueries, case_state
from cdi.workbench.schema import (
    actions,
    audit_items,
    audit_samples,
    audit_verdicts,
    events,
    finding_evidence,
    findings,
    offsets,
)
from cdi.workbench.timeline import Narrator

log = logging.getLogger("cdi.workbench")

FINDINGS_ROLE, ACTIONS_ROLE = "findings", CASE_ACTIONS
MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x0CD1CA5E  # PostgreSQL advisory lock: one replica migrates at a time
APPLY_LOCK = 0x0CD1CA5F  # and one replica applies a batch at a time


@dataclass(frozen=True, slots=True)
class FeedRecord:
    role: str  # findings | case-actions | an input role
    topic: str
    partition: int
    offset: int
    value: bytes | None


@dataclass(slots=True)
class Applied:
    records: int = 0  # read and new to the view
    skipped: int = 0  # already applied by another replica sharing the database
    refused: Counter[str] = field(default_factory=Counter)  # records not applied, by reason
    changed: bool = False  # a finding or an action changed (what the pages show), here or by another replica


def database_url(url: str | None, data_dir: Path) -> str:
    """The configured URL, else an SQLite file in the data directory."""
    if url:
        return url
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(data_dir / 'cases.db').resolve()}"


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi: Any, _record: Any) -> None:
            cursor = dbapi.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers (the web pages) never wait for the feed
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # hide_parameters: a database error's text would otherwise quote the row (notes, references).
    return sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)


UNSTORABLE = "unstorable"


def _savepoint(conn: Connection) -> Any:
    """A savepoint on PostgreSQL, which refuses some values a contract allows (a string too long
    for its column); nothing on SQLite, which stores any value (and whose Python driver needs
    extra set-up for savepoints)."""
    return conn.begin_nested() if conn.dialect.name == "postgresql" else contextlib.nullcontext()


def _insert(conn: Connection, table: sa.Table) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def _upsert(conn: Connection, table: sa.Table, row: dict[str, Any], keys: Sequence[str], update: bool) -> None:
    """Insert ``row``; on a key clash update it (``update``) or leave the stored one."""
    stmt = _insert(conn, table).values(**row)
    changes = {k: v for k, v in row.items() if k not in keys}
    if update and changes:
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=changes)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    conn.execute(stmt)


class CaseStore(CaseQueries, AuditQueries):
    def __init__(
        self,
        url: str,
        pipeline: str,
        narrator: Narrator,
        contracts: Contracts | None = None,
        divisions: tuple[str, ...] = (),
        max_record_bytes: int = 512 * 1024,
    ) -> None:
        self.url = url
        self.max_record_bytes = max_record_bytes  # as the worker's CDI_MAX_RECORD_BYTES
        self.pipeline = pipeline
        # The divisions with their own metric label ([force] in the rules file): an alert for
        # division="other" links here with division=other, meaning any division not listed.
        self.divisions = divisions
        self.narrator = narrator
        self.contracts = contracts or Contracts()
        self.engine = _engine(url)

    def describe(self) -> str:
        """The database without its password, for logs."""
        return self.engine.url.render_as_string(hide_password=True)

    def migrate(self) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def close(self) -> None:
        self.engine.dispose()

    # -- feeding -------------------------------------------------------------------------------

    def stored_offsets(self, topics: Iterable[str]) -> dict[tuple[str, int], int]:
        names = list(topics)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(offsets).where(offsets.c.topic.in_(names))).all()
        return {(r.topic, r.partition): r.next_offset for r in rows}

    def apply(self, records: Sequence[FeedRecord]) -> Applied:
        """Apply one batch in one transaction, with the offsets it reaches."""
        applied = Applied()
        if not records:
            return applied
        parts = sorted({(r.topic, r.partition) for r in records})
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Replicas sharing the database apply one batch at a time: a case's state is folded
                # from rows another transaction may be writing, and no two lock offsets crosswise.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPLY_LOCK})
            for topic, partition in parts:
                _upsert(
                    conn,
                    offsets,
                    {"topic": topic, "partition": partition, "next_offset": 0},
                    ("topic", "partition"),
                    False,
                )
            locked = conn.execute(
                sa.select(offsets)
                .where(sa.tuple_(offsets.c.topic, offsets.c.partition).in_(parts))
                .order_by(offsets.c.topic, offsets.c.partition)
                .with_for_update()
            ).all()
            start = {(r.topic, r.partition): r.next_offset for r in locked}
            reached = dict(start)
            touched: set[str] = set()
            inputs: dict[str, dict[str, Any]] = {}  # input events, inserted in one statement
            for record in records:
                where = (record.topic, record.partition)
                if record.offset < start[where]:
                    # Another replica applied it: the view changed all the same.
                    applied.skipped += 1
                    applied.changed |= record.role in {FINDINGS_ROLE, ACTIONS_ROLE}
                    continue
                reached[where] = max(reached[where], record.offset + 1)
                applied.records += 1
                self._apply_one(conn, record, applied, touched, inputs)
            if inputs:
                self._store_events(conn, list(inputs.values()), applied)
            for fid in sorted(touched):
                self._refold(conn, fid)
            for (topic, partition), nxt in reached.items():
                if nxt != start[(topic, partition)]:
                    conn.execute(
                        offsets.update()
                        .where(offsets.c.topic == topic, offsets.c.partition == partition)
                        .values(next_offset=nxt)
                    )
        applied.changed |= bool(touched)
        return applied

    def _store_events(self, conn: Connection, rows: list[dict[str, Any]], applied: Applied) -> None:
        """Input events in one statement; if the database refuses it, one by one, so a single
        unstorable event is counted and the rest are kept."""
        insert = _insert(conn, events).on_conflict_do_nothing(index_elements=["pipeline", "event_id"])
        try:
            with _savepoint(conn):
                conn.execute(insert, rows)
            return
        except SQLAlchemyError:
            pass
        for row in rows:
            try:
                with _savepoint(conn):
                    conn.execute(insert, [row])
            except SQLAlchemyError:
                applied.refused[UNSTORABLE] += 1

    def _decode(self, record: FeedRecord, applied: Applied) -> dict[str, Any] | None:
        if record.value is None:
            applied.refused["tombstone"] += 1
            return None
        # Audit samples are the one large record: a batch of up to 50,000 items in one event.
        limit = MAX_SAMPLE_BYTES if record.role == ACTIONS_ROLE else self.max_record_bytes
        if len(record.value) > limit:
            applied.refused["too_large"] += 1
            return None
        if b"\\u0000" in record.value:  # valid JSON, but PostgreSQL text cannot hold NUL: refused alike everywhere
            applied.refused["nul_character"] += 1
            return None
        try:
            data = orjson.loads(record.value)
            self.contracts.check(data)
            parse_time(data["occurred_at"])  # valid by pattern, impossible as a time: 23:59:60
        except orjson.JSONDecodeError:
            applied.refused["malformed"] += 1
            return None
        except InvalidEvent as exc:
            applied.refused[exc.reason] += 1
            return None
        except Exception:  # the validator gave up (extreme nesting): refused, never a crash
            applied.refused["malformed"] += 1
            return None
        return data

    def _apply_one(
        self,
        conn: Connection,
        record: FeedRecord,
        applied: Applied,
        touched: set[str],
        inputs: dict[str, dict[str, Any]],
    ) -> None:
        data = self._decode(record, applied)
        if data is None:
            return
        kind = data["type"]
        if TOPIC_FOR_TYPE.get(kind) == record.role:
            inputs.setdefault(data["event_id"], self._event_row(data))  # the first of a re-sent event wins
            return
        write = WRITERS.get((record.role, kind))
        if write is None:
            if kind != "history.ended":
                applied.refused["wrong_topic"] += 1
            return
        try:
            with _savepoint(conn):
                write(self, conn, record, data)
        except SQLAlchemyError:  # a value the database cannot hold: counted, never a stuck feed
            applied.refused[UNSTORABLE] += 1
            return
        if kind in AUDIT_TYPES:
            applied.changed = True
        else:
            touched.add(data["payload"]["finding_id"])

    def _raised(self, conn: Connection, _record: FeedRecord, data: dict[str, Any]) -> None:
        p = data["payload"]
        row = {
            "pipeline": self.pipeline,
            "finding_id": p["finding_id"],
            "rule": p["rule"],
            "severity": p["severity"],
            "force": data["force"],
            "division": data["division"],
            "offence_group": p["offence_group"],
            "subject_kind": p["subject"]["kind"],
            "subject_id": p["subject"]["id"],
            "raised_at": parse_time(data["occurred_at"]),
            "occurred_at": data["occurred_at"],
            "explanation": p["explanation"],
            "guidance": p["guidance"],
            "rules_version": p["rules_version"],
            "evidence": orjson.dumps(p["evidence"]).decode(),
            "assessment": p.get("assessment", BREACH),  # absent before rules 2026.12.1: a breach
            "status": casework.OPEN,
        }
        _upsert(conn, findings, row, ("pipeline", "finding_id"), True)
        self._cite(conn, p["finding_id"], p["evidence"], resolving=False)

    def _resolved(self, conn: Connection, _record: FeedRecord, data: dict[str, Any]) -> None:
        p = data["payload"]
        row = {
            "pipeline": self.pipeline,
            "finding_id": p["finding_id"],
            "resolution": p["resolution"],
            "resolved_at": data["occurred_at"],
            "resolved_explanation": p["explanation"],
            "resolving_evidence": orjson.dumps(p["evidence"]).decode(),
            "status": casework.RESOLVED,
        }
        _upsert(conn, findings, row, ("pipeline", "finding_id"), True)
        self._cite(conn, p["finding_id"], p["evidence"], resolving=True)

    def _cite(self, conn: Connection, finding_id: str, event_ids: list[str], resolving: bool) -> None:
        rows = [
            {"pipeline": self.pipeline, "finding_id": finding_id, "event_id": event_id, "resolving": resolving}
            for event_id in event_ids
        ]
        insert = _insert(conn, finding_evidence).on_conflict_do_nothing(
            index_elements=["pipeline", "finding_id", "event_id"]
        )
        conn.execute(insert, rows)

    def _action(self, conn: Connection, record: FeedRecord, data: dict[str, Any]) -> None:
        p = data["payload"]
        assignee = p.get("assignee") or {}
        row = {
            "pipeline": self.pipeline,
            "action_id": data["event_id"],
            "finding_id": p["finding_id"],
            "partition": record.partition,
            "offset": record.offset,
            "action": p["action"],
            "by": p["by"],
            "role": p["role"],
            "occurred_at": data["occurred_at"],
            "assignee_kind": assignee.get("kind"),
            "assignee_ref": assignee.get("ref"),
            "note": p.get("note"),
            "outcome": p.get("outcome"),
            "reason": p.get("reason"),
        }
        # The first record of an action id wins: a re-sent action is the same action.
        _upsert(conn, actions, row, ("pipeline", "action_id"), False)

    def _event_row(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "event_id": data["event_id"],
            "type": data["type"],
            "at": parse_time(data["occurred_at"]),
            "occurred_at": data["occurred_at"],
            "division": data["division"],
            "line": self.narrator.line(data["type"], data["payload"]),
            "payload": orjson.dumps(data["payload"]).decode(),
            "force": data["force"],
            "schema_version": data["schema_version"],
        }

    def _refold(self, conn: Connection, finding_id: str) -> None:
        """Recompute a finding's derived state from its actions in topic order."""
        known, state = case_state(conn, self.pipeline, finding_id)
        for action_id, why in state.verdicts.items():
            conn.execute(
                actions.update()
                .where(actions.c.pipeline == self.pipeline, actions.c.action_id == action_id)
                .values(refused=why)
            )
        if not known:
            return  # actions for a finding not read yet: kept, and folded when it arrives
        conn.execute(
            findings.update()
            .where(findings.c.pipeline == self.pipeline, findings.c.finding_id == finding_id)
            .values(
                status=state.status,
                acknowledged_by=state.acknowledged_by,
                acknowledged_at=state.acknowledged_at,
                assignee_kind=state.assignee_kind,
                assignee_ref=state.assignee_ref,
                closed_outcome=state.closed_outcome,
                closed_by=state.closed_by,
                closed_at=state.closed_at,
                closed_reason=state.closed_reason,
                last_action_at=state.last_action_at,
            )
        )

    def prune_events(self, older_than: int) -> int:
        """Delete stored input events before ``older_than`` (epoch ms) that no finding cites."""
        cited = sa.select(finding_evidence.c.event_id).where(
            finding_evidence.c.pipeline == self.pipeline, finding_evidence.c.event_id == events.c.event_id
        )
        with self.engine.begin() as conn:
            result = conn.execute(
                events.delete().where(events.c.pipeline == self.pipeline, events.c.at < older_than, ~cited.exists())
            )
        return result.rowcount or 0

    def latest_event_time(self) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(events.c.at)).where(events.c.pipeline == self.pipeline)).scalar()

    def _sample(self, conn: Connection, _record: FeedRecord, data: dict[str, Any]) -> None:
        p = data["payload"]
        row = {
            "pipeline": self.pipeline,
            "sample_id": p["sample_id"],
            "force": data["force"],
            "division": data["division"],
            "period_start": parse_time(p["period"]["start"]),
            "period_end": parse_time(p["period"]["end"]),
            "seed": p["seed"],
            "item_count": len(p["items"]),
            "drawn_by": p.get("drawn_by"),
            "event": orjson.dumps(data).decode(),
        }
        # A sample is drawn once: the first record of a name stands, as a re-sent one is the same.
        if conn.execute(
            sa.select(audit_samples.c.sample_id).where(
                audit_samples.c.pipeline == self.pipeline, audit_samples.c.sample_id == p["sample_id"]
            )
        ).first():
            return
        conn.execute(_insert(conn, audit_samples).values(**row))
        items = [
            {
                "pipeline": self.pipeline,
                "sample_id": p["sample_id"],
                "kind": item["kind"],
                "item_id": item["id"],
                "position": n,
                "division": item["division"],
                "stratum": item["stratum"],
                "weight": item["weight"],
            }
            for n, item in enumerate(p["items"])
        ]
        if items:
            insert = _insert(conn, audit_items).on_conflict_do_nothing(
                index_elements=["pipeline", "sample_id", "kind", "item_id"]
            )
            conn.execute(insert, items)

    def _verdict(self, conn: Connection, _record: FeedRecord, data: dict[str, Any]) -> None:
        p = data["payload"]
        row = {
            "pipeline": self.pipeline,
            "event_id": data["event_id"],
            "sample_id": p["sample_id"],
            "kind": p["item"]["kind"],
            "item_id": p["item"]["id"],
            "verdict": p["verdict"],
            "by": p["by"],
            "at": parse_time(data["occurred_at"]),
            "occurred_at": data["occurred_at"],
            "force": data["force"],
            "division": data["division"],
            "crime_recorded": p.get("crime_recorded"),
            "offence_group": p.get("offence_group"),
            "hocr_code": p.get("hocr_code"),
            "reason": p.get("reason"),
            "note": p.get("note"),
        }
        _upsert(conn, audit_verdicts, row, ("pipeline", "event_id"), False)  # the same event twice counts once


# What each (topic role, event type) does to the view; input events are batched apart.
WRITERS = {
    (FINDINGS_ROLE, "finding.raised"): CaseStore._raised,
    (FINDINGS_ROLE, "finding.resolved"): CaseStore._resolved,
    (ACTIONS_ROLE, "case.action"): CaseStore._action,
    (ACTIONS_ROLE, "audit.sample"): CaseStore._sample,
    (ACTIONS_ROLE, "audit.verdict"): CaseStore._verdict,
}
AUDIT_TYPES = frozenset({"audit.sample", "audit.verdict"})
