"""Reading the cases view: the list with its filters and cursor, counts, one finding with its
timeline and action trail. ``CaseStore`` (store.py) writes the view and inherits these."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cdi.stream.labels import OTHER
from cdi.workbench import casework
from cdi.workbench.schema import actions, events, finding_evidence, findings
from cdi.workbench.timeline import ordered

CURSOR_MAX = 2**63  # event times are epoch ms in a BIGINT


@dataclass(frozen=True, slots=True)
class Filters:
    rule: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()
    division: tuple[str, ...] = ()
    offence_group: tuple[str, ...] = ()
    pipeline: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    assignee: tuple[str, ...] = ()
    assessment: tuple[str, ...] = ()  # breach, review
    since: int | None = None  # raised at or after (event time, epoch ms)
    until: int | None = None  # raised before


class CursorError(ValueError):
    pass


def encode_cursor(raised_at: int, finding_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([raised_at, finding_id])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        at, fid = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if type(at) is not int or not 0 <= at < CURSOR_MAX or not isinstance(fid, str):
            raise TypeError
        return at, fid
    except Exception:
        raise CursorError("cursor is not one this service gave out; start again without it") from None


class CaseQueries:
    engine: Engine
    pipeline: str
    divisions: tuple[str, ...]

    def _where(self, f: Filters) -> list[Any]:
        c = findings.c
        clauses: list[Any] = [c.pipeline == self.pipeline, c.raised_at.is_not(None)]
        if f.division:
            named = [d for d in f.division if d != OTHER]
            clause = c.division.in_(named)
            if OTHER in f.division:
                clause = clause | c.division.not_in(self.divisions)
            clauses.append(clause)
        for column, values in (
            (c.rule, f.rule),
            (c.severity, f.severity),
            (c.offence_group, f.offence_group),
            (c.pipeline, f.pipeline),
            (c.status, f.status),
            (c.assignee_ref, f.assignee),
            (c.assessment, f.assessment),
        ):
            if values:
                clauses.append(column.in_(values))
        if f.since is not None:
            clauses.append(c.raised_at >= f.since)
        if f.until is not None:
            clauses.append(c.raised_at < f.until)
        return clauses

    def list_findings(self, f: Filters, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first (event time, then finding id, both descending); ``next`` pages on."""
        c = findings.c
        clauses = self._where(f)
        if cursor:
            at, fid = decode_cursor(cursor)
            clauses.append((c.raised_at < at) | ((c.raised_at == at) & (c.finding_id < fid)))
        query = sa.select(findings).where(*clauses).order_by(c.raised_at.desc(), c.finding_id.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        items = [finding_item(r) for r in rows[:limit]]
        nxt = encode_cursor(rows[limit - 1].raised_at, rows[limit - 1].finding_id) if len(rows) > limit else None
        return items, nxt

    def counts(self, f: Filters) -> list[dict[str, Any]]:
        """Findings by rule, division, status and assessment: breaches and findings for review are
        never one count (a header sums the rows it wants)."""
        c = findings.c
        query = (
            sa.select(c.rule, c.division, c.status, c.assessment, sa.func.count().label("count"))
            .where(*self._where(f))
            .group_by(c.rule, c.division, c.status, c.assessment)
            .order_by(c.rule, c.division, c.status, c.assessment)
        )
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def case_counts(self) -> list[dict[str, Any]]:
        """Findings by rule, division, severity, status, acknowledged and assessment (for /metrics)."""
        c = findings.c
        acknowledged = c.acknowledged_by.is_not(None).label("acknowledged")
        query = (
            sa.select(
                c.rule, c.division, c.severity, c.status, acknowledged, c.assessment, sa.func.count().label("count")
            )
            .where(c.pipeline == self.pipeline, c.raised_at.is_not(None))
            .group_by(c.rule, c.division, c.severity, c.status, acknowledged, c.assessment)
        )
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def finding(self, finding_id: str) -> dict[str, Any] | None:
        """One finding with its timeline and its action trail."""
        key = (findings.c.pipeline == self.pipeline) & (findings.c.finding_id == finding_id)
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(findings).where(key, findings.c.raised_at.is_not(None))).first()
            if row is None:
                return None
            cited = conn.execute(
                sa.select(finding_evidence.c.event_id, finding_evidence.c.resolving).where(
                    finding_evidence.c.pipeline == self.pipeline, finding_evidence.c.finding_id == finding_id
                )
            ).all()
            ids = [r.event_id for r in cited]
            stored = {
                r.event_id: r
                for r in conn.execute(
                    sa.select(events).where(events.c.pipeline == self.pipeline, events.c.event_id.in_(ids))
                )
            }
            trail = conn.execute(
                sa.select(actions)
                .where(actions.c.pipeline == self.pipeline, actions.c.finding_id == finding_id)
                .order_by(actions.c.partition, actions.c.offset)
            ).all()
        timeline = []
        for ref in cited:
            ev = stored.get(ref.event_id)
            timeline.append(
                {
                    "event_id": ref.event_id,
                    "type": ev.type if ev else None,
                    "occurred_at": ev.occurred_at if ev else None,
                    "at": ev.at if ev else None,
                    "division": ev.division if ev else None,
                    "line": ev.line if ev else "This event is not in the workbench's store (not read, or pruned).",
                    "resolving": bool(ref.resolving),
                    "available": ev is not None,
                }
            )
        item = finding_item(row)
        item["timeline"] = [{k: v for k, v in e.items() if k != "at"} for e in ordered(timeline)]
        item["actions"] = [action_item(a) for a in trail]
        return item

    def state(self, finding_id: str) -> casework.CaseState:
        """The case state as the view holds it now (what an action is checked against)."""
        with self.engine.connect() as conn:
            return case_state(conn, self.pipeline, finding_id)[1]

    def known(self, finding_id: str) -> bool:
        key = (findings.c.pipeline == self.pipeline) & (findings.c.finding_id == finding_id)
        with self.engine.connect() as conn:
            return (
                conn.execute(sa.select(findings.c.finding_id).where(key, findings.c.raised_at.is_not(None))).first()
                is not None
            )

    def action(self, action_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(actions).where(actions.c.pipeline == self.pipeline, actions.c.action_id == action_id)
            ).first()
        return action_item(row) if row else None

    def unmatched_actions(self) -> list[dict[str, Any]]:
        """Actions naming a finding the view does not hold (forged, or written for another pipeline)."""
        known = sa.select(findings.c.finding_id).where(
            findings.c.pipeline == self.pipeline,
            findings.c.finding_id == actions.c.finding_id,
            findings.c.raised_at.is_not(None),
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(actions)
                .where(actions.c.pipeline == self.pipeline, ~known.exists())
                .order_by(actions.c.partition, actions.c.offset)
            ).all()
        return [action_item(r) for r in rows]


def case_state(conn: Connection, pipeline: str, finding_id: str) -> tuple[bool, casework.CaseState]:
    """(whether the view holds a row for the finding, its state folded from its resolution and
    action trail): what the writer stores and what an action is checked against."""
    key = (findings.c.pipeline == pipeline) & (findings.c.finding_id == finding_id)
    row = conn.execute(sa.select(findings.c.resolution).where(key)).first()
    resolved = row is not None and row.resolution is not None
    return row is not None, casework.fold(resolved, trail(conn, pipeline, finding_id))


def trail(conn: Connection, pipeline: str, finding_id: str) -> list[casework.Action]:
    """A finding's actions in topic order, as the fold takes them."""
    rows = conn.execute(
        sa.select(actions)
        .where(actions.c.pipeline == pipeline, actions.c.finding_id == finding_id)
        .order_by(actions.c.partition, actions.c.offset)
    ).all()
    return [
        casework.Action(
            action_id=r.action_id,
            finding_id=r.finding_id,
            action=r.action,
            by=r.by,
            role=r.role,
            at=r.occurred_at,
            assignee_kind=r.assignee_kind,
            assignee_ref=r.assignee_ref,
            note=r.note,
            outcome=r.outcome,
            reason=r.reason,
        )
        for r in rows
    ]


def finding_item(r: Any) -> dict[str, Any]:
    return {
        "finding_id": r.finding_id,
        "pipeline": r.pipeline,
        "rule": r.rule,
        "severity": r.severity,
        "assessment": r.assessment,
        "force": r.force,
        "division": r.division,
        "offence_group": r.offence_group,
        "subject": {"kind": r.subject_kind, "id": r.subject_id},
        "raised_at": r.occurred_at,
        "explanation": r.explanation,
        "guidance": r.guidance,
        "rules_version": r.rules_version,
        "evidence": orjson.loads(r.evidence) if r.evidence else [],
        "status": r.status,
        "resolution": (
            {
                "resolution": r.resolution,
                "at": r.resolved_at,
                "explanation": r.resolved_explanation,
                "evidence": orjson.loads(r.resolving_evidence or "[]"),
            }
            if r.resolution
            else None
        ),
        "acknowledged": {"by": r.acknowledged_by, "at": r.acknowledged_at} if r.acknowledged_by else None,
        "assignee": {"kind": r.assignee_kind, "ref": r.assignee_ref} if r.assignee_ref else None,
        "closed": (
            {"outcome": r.closed_outcome, "by": r.closed_by, "at": r.closed_at, "reason": r.closed_reason}
            if r.closed_outcome
            else None
        ),
    }


def action_item(r: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "action_id": r.action_id,
        "finding_id": r.finding_id,
        "action": r.action,
        "by": r.by,
        "role": r.role,
        "at": r.occurred_at,
        "refused": r.refused,
    }
    if r.assignee_ref:
        item["assignee"] = {"kind": r.assignee_kind, "ref": r.assignee_ref}
    for name in ("note", "outcome", "reason"):
        value = getattr(r, name)
        if value is not None:
            item[name] = value
    return item
