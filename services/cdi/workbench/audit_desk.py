"""The audit in the workbench (issue 12, docs/audit.md): a registrar draws a period's sample as a
named batch, reviewers record verdicts on its items, and everyone reads the estimates.

Samples and verdicts are events on the case-actions topic, keyed by sample id (so a sample comes
before its verdicts in its partition): the view changes only when the feed reads them back, as
with case actions. The population is rebuilt by running the rules over the input events the view
stores, in event-time order, through the same code as `cdi audit sample`; the estimates come from
``cdi.audit.assessment.assess``, as in `cdi audit estimate` and `cdi report --verdicts`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdi.audit import population
from cdi.audit.assessment import assess
from cdi.audit.estimates import BREAKDOWNS, AuditEstimates, Joined
from cdi.audit.sample import ALL_DIVISIONS, AuditSample, draw_sample
from cdi.audit.verdicts import Verdict, latest
from cdi.contracts import Contracts, InvalidEvent
from cdi.sources import EVENTS
from cdi.workbench.access import Principal
from cdi.workbench.case_actions import APPLY_WAIT_S, ActionDesk, ActionRefused
from cdi.workbench.feed import Feed
from cdi.workbench.store import CaseStore

log = logging.getLogger("cdi.workbench")

# A population is rebuilt at most this often while input events keep arriving; a new sample or
# verdict is shown at once all the same (the estimates are recomputed, the population reused).
POPULATION_REUSE_S = 60.0
REFRESH_EVERY_S = 5.0  # how often the figures for /metrics look for new verdicts


@dataclass(frozen=True, slots=True)
class DrawRequest:
    start: int
    end: int
    seed: int
    size: int | None = None
    target_width: float | None = None
    prior: float = 0.5
    findings_per_rule: int = 30
    disposals: int = 100
    divisions: tuple[str, ...] = ()
    name: str | None = None


@dataclass(frozen=True, slots=True)
class VerdictRequest:
    sample_id: str
    kind: str
    item_id: str
    verdict: str
    crime_recorded: bool | None = None
    offence_group: str | None = None
    hocr_code: str | None = None
    reason: str | None = None
    note: str | None = None


@dataclass(slots=True)
class StoredHistory:
    """The view's stored input events as a history for ``cdi.audit.population.build``."""

    store: CaseStore
    force: str
    kind: str = EVENTS
    paths: list[Path] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"the workbench's stored events (pipeline {self.store.pipeline})"

    def lines(self) -> Iterator[tuple[str, bytes]]:
        for number, raw in enumerate(self.store.stored_history(self.force), start=1):
            yield f"stored#{number}", raw


@dataclass(slots=True)
class Assessed:
    sample: AuditSample
    estimates: AuditEstimates
    joined: Joined
    computed_at: float


class AuditDesk:
    def __init__(
        self, store: CaseStore, feed: Feed, writer: ActionDesk, contracts: Contracts, rules_path: Any, force: str
    ) -> None:
        self.store = store
        self.feed = feed
        self.writer = writer
        self.contracts = contracts
        self.rules_path = rules_path
        self.force = force  # stands in for the force of events stored before migration 0003
        self._lock = threading.Lock()  # one population build at a time
        self._populations: dict[tuple[int, int, tuple[str, ...]], tuple[int, float, population.Population]] = {}
        self._assessed: dict[str, tuple[tuple[int, int], Assessed]] = {}
        self._latest: Assessed | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._refresh, name="cdi-workbench-audit", daemon=True)

    # -- the population ---------------------------------------------------------------------------

    def population(self, start: int, end: int, divisions: tuple[str, ...]) -> population.Population:
        """The period's population from the stored events; reused while no event arrived, or for
        POPULATION_REUSE_S while they keep arriving."""
        key = (start, end, tuple(sorted(divisions)))
        with self._lock:
            count = self.store.events_count()
            held = self._populations.get(key)
            if held is not None and (held[0] == count or time.monotonic() - held[1] < POPULATION_REUSE_S):
                return held[2]
            history = StoredHistory(self.store, self.force, paths=[Path(f"workbench:{self.store.pipeline}")])
            found = population.build(history, self.rules_path, start=start, end=end, divisions=divisions)
            self._populations[key] = (count, time.monotonic(), found)
            return found

    # -- drawing a sample ---------------------------------------------------------------------------

    def draw(self, who: Principal, req: DrawRequest) -> tuple[dict[str, Any], bool]:
        """Draw the sample, write it to the topic; (its summary, whether the view shows it yet)."""
        if (req.size is None) == (req.target_width is None):
            raise ActionRefused(422, "give either a sample size or a target interval width, one of the two")
        if req.end <= req.start:
            raise ActionRefused(422, "the period's end must be after its start")
        found = self.population(req.start, req.end, req.divisions)
        if not found.units:
            raise ActionRefused(
                422,
                f"the stored events hold no incident, finding or disposal in {found.describe()}"
                + (f" in {', '.join(req.divisions)}" if req.divisions else "")
                + ": choose another period or division",
            )
        drawn = draw_sample(
            found,
            req.seed,
            size=req.size,
            target_width=req.target_width,
            prior=req.prior,
            findings_per_rule=req.findings_per_rule,
            disposals=req.disposals,
            sample_id=req.name,
        )
        if self.store.sample_event(drawn.sample_id) is not None:
            raise ActionRefused(409, f"a sample named {drawn.sample_id} exists: give the new one another name")
        event = drawn.to_event()
        event["payload"]["drawn_by"] = who.staff
        try:
            self.contracts.check(event)
        except InvalidEvent as exc:
            raise ActionRefused(422, f"the sample is not valid ({exc.detail})") from None
        self.writer.write(drawn.sample_id, event, f"sample {drawn.sample_id} drawn by staff {who.staff}")
        log.info("audit sample %s (%d items) drawn by staff %s", drawn.sample_id, len(drawn.items), who.staff)
        applied = self.feed.wait_until(lambda: self.store.sample_event(drawn.sample_id) is not None, APPLY_WAIT_S)
        summary = {
            "sample_id": drawn.sample_id,
            "items": len(drawn.items),
            "period": event["payload"]["period"],
            "seed": drawn.seed,
            "drawn_by": who.staff,
        }
        return summary, applied

    # -- verdicts -----------------------------------------------------------------------------------

    def judge(self, who: Principal, req: VerdictRequest) -> tuple[dict[str, Any], bool]:
        """Record a verdict on a sample item; (the verdict, whether the view shows it yet)."""
        drawn = self.store.audit_sample(req.sample_id)
        if drawn is None:
            raise ActionRefused(404, f"no sample {req.sample_id!r} in pipeline {self.store.pipeline!r}")
        item = next((i for i in drawn.items if (i.kind, i.id) == (req.kind, req.item_id)), None)
        if item is None:
            raise ActionRefused(404, f"sample {req.sample_id} has no {req.kind} {req.item_id!r}; nothing was written")
        if any("\x00" in text for text in (req.note, req.hocr_code) if text):
            raise ActionRefused(422, "remove the control characters from the text; nothing was written")
        verdict = Verdict(
            req.sample_id,
            req.kind,
            req.item_id,
            req.verdict,
            who.staff,
            int(time.time() * 1000),
            f"verdict-{uuid.uuid4().hex}",
            req.crime_recorded,
            req.offence_group,
            req.hocr_code,
            req.reason,
            req.note,
        )
        event = verdict.to_event(drawn.force, item.division)
        try:
            self.contracts.check(event)
        except InvalidEvent as exc:
            raise ActionRefused(422, f"the verdict is incomplete or does not fit the item ({exc.detail})") from None
        self.writer.write(req.sample_id, event, f"verdict on a {req.kind} of sample {req.sample_id} by {who.staff}")
        log.info("audit verdict %s on a %s of sample %s by staff %s", req.verdict, req.kind, req.sample_id, who.staff)
        applied = self.feed.wait_until(lambda: self.store.verdict(verdict.event_id) is not None, APPLY_WAIT_S)
        return {"event_id": verdict.event_id, **event["payload"], "at": event["occurred_at"]}, applied

    # -- estimates ----------------------------------------------------------------------------------

    def assessed(self, sample_id: str) -> Assessed | None:
        """The sample's estimates from the verdicts that stand, as `cdi audit estimate --sample`
        makes them (every breakdown); None for an unknown sample."""
        drawn = self.store.audit_sample(sample_id)
        if drawn is None:
            return None
        verdicts = self.store.verdicts(sample_id)
        version = (len(verdicts), self.store.events_count())
        held = self._assessed.get(sample_id)
        if held is not None and held[0][0] == version[0]:
            same_events = held[0][1] == version[1]
            if same_events or time.monotonic() - held[1].computed_at < POPULATION_REUSE_S:
                return held[1]
        divisions = (drawn.division,) if drawn.division != ALL_DIVISIONS else ()
        found = self.population(drawn.start, drawn.end, divisions)
        estimates, joined = assess(found, latest(verdicts), drawn, BREAKDOWNS)
        out = Assessed(drawn, estimates, joined, time.monotonic())
        self._assessed[sample_id] = (version, out)
        return out

    def latest(self) -> AuditEstimates | None:
        """The figures /metrics shows: the newest sample (by period) with a verdict, as last
        computed in the background (a scrape never waits for the rules to run)."""
        return self._latest.estimates if self._latest is not None else None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _refresh(self) -> None:
        seen: tuple[int, int] | None = None
        while not self._stop.wait(REFRESH_EVERY_S):
            try:
                version = self.store.audit_version()
                if version == seen and (
                    self._latest is None or time.monotonic() - self._latest.computed_at < POPULATION_REUSE_S
                ):
                    continue
                seen = version
                judged = [s for s in self.store.samples() if s["judged"]]
                self._latest = self.assessed(judged[0]["sample_id"]) if judged else None
            except Exception:  # a database outage, say: the figures stay as they were
                log.exception("audit figures for /metrics not refreshed; trying again")
