"""Taking an action on a finding: checked against the view, written to the case-actions topic
(keyed by finding id, so one finding's actions keep their order), then awaited in the view so the
person who acted sees it at once.

The topic is the record: the view's state changes only when the feed reads the action back, the
same way a rebuild or another replica sees it.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from kafka import KafkaProducer
from kafka.errors import KafkaError

from cdi.audit.sample import MAX_SAMPLE_BYTES
from cdi.contracts import Contracts, InvalidEvent
from cdi.settings import Settings
from cdi.topics import Topics
from cdi.workbench import casework
from cdi.workbench.access import Principal
from cdi.workbench.feed import Feed
from cdi.workbench.store import ACTIONS_ROLE, CaseStore

log = logging.getLogger("cdi.workbench")

APPLY_WAIT_S = 10.0


class ActionRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Request:
    finding_id: str
    action: str
    assignee_kind: str | None = None
    assignee_ref: str | None = None
    note: str | None = None
    outcome: str | None = None
    reason: str | None = None


class ActionDesk:
    def __init__(self, settings: Settings, store: CaseStore, feed: Feed, contracts: Contracts) -> None:
        self.store = store
        self.feed = feed
        self.contracts = contracts
        self.topic = Topics(settings.topic_prefix).name(ACTIONS_ROLE)
        self._settings = settings
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def producer(self) -> KafkaProducer:
        with self._lock:  # requests run on a thread pool: one producer for all of them
            if self._producer is None:
                assert self._settings.bootstrap
                self._producer = KafkaProducer(
                    bootstrap_servers=self._settings.bootstrap,
                    client_id="cdi-workbench-actions",
                    acks="all",
                    # A broker that does not answer fails the request in seconds, not a minute:
                    # every waiting request holds one of the server's threads.
                    max_block_ms=5000,
                    request_timeout_ms=10_000,
                    # An audit sample of thousands of items is one event: compressed, it stays
                    # far below a stock broker's 1 MB message limit.
                    compression_type="gzip",
                    max_request_size=MAX_SAMPLE_BYTES,
                    **self._settings.security.kafka_python(),
                )
            return self._producer

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=5)

    def write(self, key: str, event: dict[str, Any], what: str) -> None:
        """Send one event to the case-actions topic and wait for the broker's acknowledgement;
        ActionRefused(503) when Kafka does not take it (nothing was saved)."""
        try:
            self.producer().send(self.topic, key=key.encode(), value=orjson.dumps(event)).get(timeout=15)
        except KafkaError as exc:
            log.warning("%s not written: %s", what, type(exc).__name__)
            raise ActionRefused(503, "it could not be written to Kafka; nothing was saved: try again") from None

    def event(self, who: Principal, req: Request, finding: dict[str, Any]) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "finding_id": req.finding_id,
            "action": req.action,
            "by": who.staff,
            "role": who.role,
        }
        if req.action == casework.ASSIGN:
            payload["assignee"] = {"kind": req.assignee_kind, "ref": req.assignee_ref}
        if req.note:
            payload["note"] = req.note
        if req.action == casework.CLOSE:
            payload["outcome"] = req.outcome
            if req.reason:
                payload["reason"] = req.reason
        return {
            "event_id": f"act-{uuid.uuid4().hex}",
            "type": "case.action",
            "schema_version": 1,
            "occurred_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "force": finding["force"],
            "division": finding["division"],
            "payload": payload,
        }

    def take(self, who: Principal, req: Request) -> tuple[dict[str, Any], bool]:
        """Write the action; return (the action as the view shows it, or as sent; applied?)."""
        finding = self.store.finding(req.finding_id)
        if finding is None:
            raise ActionRefused(
                404,
                f"no finding {req.finding_id!r} in pipeline {self.store.pipeline!r}: check the id "
                "(GET /api/v1/findings lists them); nothing was written",
            )
        if req.action not in casework.ACTIONS:
            raise ActionRefused(422, f"action must be one of {', '.join(casework.ACTIONS)}")
        state = self.store.state(req.finding_id)
        why = casework.refusal(req.action, who.role, state)
        if why is not None:
            raise ActionRefused(403 if req.action not in casework.ALLOWED.get(who.role, ()) else 409, why)
        if any("\x00" in text for text in (req.note, req.reason, req.assignee_ref) if text):
            raise ActionRefused(422, "remove the control characters from the text; nothing was written")
        event = self.event(who, req, finding)
        try:
            self.contracts.check(event)
        except InvalidEvent as exc:
            raise ActionRefused(422, f"the action is incomplete or too long ({exc.detail})") from None
        self.write(req.finding_id, event, f"action {req.action} by staff {who.staff}")
        log.info("action %s written by staff %s (%s)", req.action, who.staff, who.role)
        if self.feed.wait_for(event["event_id"], APPLY_WAIT_S):
            shown = self.store.action(event["event_id"])
            if shown is not None and shown["refused"]:  # another action won a race in the trail
                raise ActionRefused(409, f"saved, but it changed nothing: {shown['refused']}")
            if shown is not None:
                return shown, True
        return {"action_id": event["event_id"], **event["payload"], "at": event["occurred_at"]}, False
