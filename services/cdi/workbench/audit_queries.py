"""Reading the audit's tables: samples (batches), their items (review tasks) with the verdict
that stands on each, and the stored input events as a history the rules can run over again.
``CaseStore`` (store.py) writes these tables and inherits the queries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cdi.audit.sample import AuditSample
from cdi.audit.verdicts import Verdict, latest
from cdi.core.times import format_time
from cdi.workbench.schema import audit_items, audit_samples, audit_verdicts, events

# How many stored events are read per round trip when the history is rebuilt.
HISTORY_BATCH = 5000


def _verdict(row: Any) -> Verdict:
    return Verdict(
        row.sample_id,
        row.kind,
        row.item_id,
        row.verdict,
        row.by,
        row.at,
        row.event_id,
        row.crime_recorded,
        row.offence_group,
        row.hocr_code,
        row.reason,
        row.note,
    )


def verdict_item(v: Verdict) -> dict[str, Any]:
    """A verdict as the API and the pages show it."""
    return {
        "event_id": v.event_id,
        "verdict": v.verdict,
        "by": v.by,
        "at": format_time(v.at),
        "crime_recorded": v.crime_recorded,
        "offence_group": v.offence_group,
        "hocr_code": v.hocr_code,
        "reason": v.reason,
        "note": v.note,
    }


class AuditQueries:
    engine: Engine
    pipeline: str

    def samples(self) -> list[dict[str, Any]]:
        """Every batch, newest period first, with how many of its items have a verdict."""
        s, v = audit_samples.c, audit_verdicts.c
        judged = (
            sa.select(v.sample_id, sa.func.count(sa.distinct(v.kind + "/" + v.item_id)).label("judged"))
            .where(v.pipeline == self.pipeline)
            .group_by(v.sample_id)
            .subquery()
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(s.sample_id, s.force, s.division, s.period_start, s.period_end, s.seed, s.item_count)
                .add_columns(s.drawn_by, sa.func.coalesce(judged.c.judged, 0).label("judged"))
                .outerjoin(judged, judged.c.sample_id == s.sample_id)
                .where(s.pipeline == self.pipeline)
                .order_by(s.period_end.desc(), s.sample_id)
            ).all()
        return [
            {
                "sample_id": r.sample_id,
                "force": r.force,
                "division": r.division,
                "period": {"start": format_time(r.period_start), "end": format_time(r.period_end)},
                "seed": r.seed,
                "items": r.item_count,
                "judged": r.judged,
                "drawn_by": r.drawn_by,
            }
            for r in rows
        ]

    def sample_event(self, sample_id: str) -> dict[str, Any] | None:
        """The audit.sample event as it was read from the topic."""
        with self.engine.connect() as conn:
            text = conn.execute(
                sa.select(audit_samples.c.event).where(
                    audit_samples.c.pipeline == self.pipeline, audit_samples.c.sample_id == sample_id
                )
            ).scalar()
        return orjson.loads(text) if text is not None else None

    def audit_sample(self, sample_id: str) -> AuditSample | None:
        event = self.sample_event(sample_id)
        return AuditSample.from_event(event) if event is not None else None

    def verdicts(self, sample_id: str) -> list[Verdict]:
        """Every verdict event on the sample, corrections included, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(audit_verdicts)
                .where(audit_verdicts.c.pipeline == self.pipeline, audit_verdicts.c.sample_id == sample_id)
                .order_by(audit_verdicts.c.at, audit_verdicts.c.event_id)
            ).all()
        return [_verdict(r) for r in rows]

    def standing(self, sample_id: str) -> dict[tuple[str, str], Verdict]:
        """The verdict that stands on each item: the latest by event time, then event id."""
        return latest(self.verdicts(sample_id))

    def verdict(self, event_id: str) -> Verdict | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(audit_verdicts).where(
                    audit_verdicts.c.pipeline == self.pipeline, audit_verdicts.c.event_id == event_id
                )
            ).first()
        return _verdict(row) if row is not None else None

    def tasks(self, sample_id: str) -> list[dict[str, Any]]:
        """The sample's items in its order, each with the verdict that stands on it (or None)."""
        standing = self.standing(sample_id)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(audit_items)
                .where(audit_items.c.pipeline == self.pipeline, audit_items.c.sample_id == sample_id)
                .order_by(audit_items.c.position)
            ).all()
        out = []
        for r in rows:
            held = standing.get((r.kind, r.item_id))
            out.append(
                {
                    "kind": r.kind,
                    "id": r.item_id,
                    "division": r.division,
                    "stratum": r.stratum,
                    "weight": r.weight,
                    "verdict": verdict_item(held) if held is not None else None,
                }
            )
        return out

    def task(self, sample_id: str, kind: str, item_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(audit_items).where(
                    audit_items.c.pipeline == self.pipeline,
                    audit_items.c.sample_id == sample_id,
                    audit_items.c.kind == kind,
                    audit_items.c.item_id == item_id,
                )
            ).first()
        if row is None:
            return None
        trail = [v for v in self.verdicts(sample_id) if (v.kind, v.id) == (kind, item_id)]
        return {
            "sample_id": sample_id,
            "kind": kind,
            "id": item_id,
            "division": row.division,
            "stratum": row.stratum,
            "weight": row.weight,
            "verdict": verdict_item(trail[-1]) if trail else None,
            "trail": [verdict_item(v) for v in latest_last(trail)],
        }

    def item_events(self, kind: str, item_id: str) -> list[dict[str, Any]]:
        """What a reviewer reads for an incident or a disposal: the stored events that name the
        incident (its log, and crimes recorded from it), or the disposal's outcome with its crime's
        events, in event-time order. A finding's own timeline is on its case page."""
        e = events.c
        with self.engine.connect() as conn:
            if kind == "incident":
                named = [orjson.dumps({"incident_id": item_id}).decode()[1:-1]]
            else:
                outcome = conn.execute(
                    sa.select(e.payload).where(e.pipeline == self.pipeline, e.event_id == item_id)
                ).scalar()
                crime = orjson.loads(outcome).get("crime_id") if outcome is not None else None
                named = [orjson.dumps({"crime_id": crime}).decode()[1:-1]] if isinstance(crime, str) else []
            if not named:
                return []
            # The payload is stored as orjson writes it (no spaces), so a key and value read as one string.
            names = sa.or_(*(e.payload.contains(text, autoescape=True) for text in named))
            rows = conn.execute(
                sa.select(e.event_id, e.type, e.occurred_at, e.line)
                .where(e.pipeline == self.pipeline, names)
                .order_by(e.at, e.event_id)
                .limit(500)
            ).all()
        return [{"event_id": r.event_id, "type": r.type, "occurred_at": r.occurred_at, "line": r.line} for r in rows]

    def audit_version(self) -> tuple[int, int]:
        """(samples, verdict events): changes whenever the audit's inputs do."""
        with self.engine.connect() as conn:
            samples = conn.execute(
                sa.select(sa.func.count()).select_from(audit_samples).where(audit_samples.c.pipeline == self.pipeline)
            ).scalar()
            verdicts = conn.execute(
                sa.select(sa.func.count()).select_from(audit_verdicts).where(audit_verdicts.c.pipeline == self.pipeline)
            ).scalar()
        return int(samples or 0), int(verdicts or 0)

    def events_count(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(events).where(events.c.pipeline == self.pipeline)
                ).scalar()
                or 0
            )

    def stored_history(self, force: str) -> Iterator[bytes]:
        """The stored input events as history lines, in event-time order (then event id), each
        rebuilt with its whole envelope; ``force`` stands in on rows stored before migration 0003."""
        e = events.c
        columns = (e.event_id, e.type, e.at, e.occurred_at, e.force, e.division, e.schema_version, e.payload)
        after: tuple[int, str] | None = None
        with self.engine.connect() as conn:
            while True:
                query = sa.select(*columns).where(e.pipeline == self.pipeline)
                if after is not None:
                    query = query.where(sa.tuple_(e.at, e.event_id) > sa.tuple_(*after))
                rows = conn.execute(query.order_by(e.at, e.event_id).limit(HISTORY_BATCH)).all()
                for r in rows:
                    yield (
                        b'{"event_id":'
                        + orjson.dumps(r.event_id)
                        + b',"type":'
                        + orjson.dumps(r.type)
                        + b',"schema_version":'
                        + orjson.dumps(r.schema_version or 1)
                        + b',"occurred_at":'
                        + orjson.dumps(r.occurred_at)
                        + b',"force":'
                        + orjson.dumps(r.force or force)
                        + b',"division":'
                        + orjson.dumps(r.division)
                        + b',"payload":'
                        + r.payload.encode()
                        + b"}"
                    )
                if len(rows) < HISTORY_BATCH:
                    return
                after = (rows[-1].at, rows[-1].event_id)


def latest_last(trail: list[Verdict]) -> list[Verdict]:
    """A trail ordered so that the verdict that stands comes last."""
    return sorted(trail, key=lambda v: (v.at, v.event_id))
