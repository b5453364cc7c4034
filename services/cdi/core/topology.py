"""The stream topology, described once: which input topic carries each event type, which stages
read it and under which key, whose progress drives which stage's clock.

The worker (cdi.stream.app), the offline run (cdi.core.pipeline) and the in-process partitioned
run (cdi.core.partitioned_run) all route by this description, so what the property tests show
of the partitioned run holds of the worker's routing too.

An *origin* is one ordered input of a stage's clock, named ``<role>/<partition>``: a partition
of an input topic (``crimes/3``), or a partition of the crime stage (``crime-stage/1``), whose
disposals and progress the offender stage reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cdi.core.clock import NEVER
from cdi.core.events import Event
from cdi.core.stage import CRIMES, INCIDENTS, OFFENDERS, Stage

STAGES = (INCIDENTS, CRIMES, OFFENDERS)

INPUT_ROLES = ("incidents", "crimes", "outcomes", "offender-history")

# Which input topic each event type belongs on (the publisher's routing).
TOPIC_FOR_TYPE = {
    "incident.opened": "incidents",
    "incident.updated": "incidents",
    "incident.closed": "incidents",
    "crime.recorded": "crimes",
    "crime.reclassified": "crimes",
    "crime.cancelled": "crimes",
    "outcome.assigned": "outcomes",
    "offender.history": "offender-history",
}

# The payload field each input topic is keyed (partitioned) by.
KEY_FIELD = {
    "incidents": "incident_id",
    "crimes": "crime_id",
    "outcomes": "crime_id",
    "offender-history": "offender_ref",
}

# Each stage's internal topic: input events repartitioned by the stage's own key.
STAGE_TOPICS = {INCIDENTS: "case-events", CRIMES: "crime-events", OFFENDERS: "offender-events"}

# Which stages read each event type, in the order they count it (see pipeline.counting_stage).
ROUTES: dict[str, tuple[str, ...]] = {
    "incident.opened": (INCIDENTS,),
    "incident.updated": (INCIDENTS,),
    "incident.closed": (INCIDENTS,),
    "crime.recorded": (INCIDENTS, CRIMES),
    "crime.reclassified": (CRIMES,),
    "crime.cancelled": (CRIMES,),
    "outcome.assigned": (CRIMES,),
    "offender.history": (OFFENDERS,),
}


# The stage that reads each input topic itself, instead of through its internal topic: the one
# that keys its cases as the topic is keyed, so that (with equal partition counts and one
# partitioner) nearly every record is already on the partition that holds its case. Others it
# sends on, as every stage did before (cdi.stream.direct_reads decides per record).
READER: dict[str, str] = {
    "incidents": INCIDENTS,
    "crimes": CRIMES,
    "outcomes": CRIMES,
    "offender-history": OFFENDERS,
}


def _fed_by(role: str) -> tuple[str, ...]:
    types = [event_type for event_type, on in TOPIC_FOR_TYPE.items() if on == role]
    return tuple(name for name in STAGES if any(name in ROUTES[event_type] for event_type in types))


# Which stages' clocks each input topic drives: every stage that reads some of its events, so
# that a stage waits for every input that could still send it something. Derived, not written
# out, so that a new route cannot leave a stage's clock blind to the input it comes on.
FEEDS: dict[str, tuple[str, ...]] = {role: _fed_by(role) for role in INPUT_ROLES}

# The offender stage's input from the crime stage (disposals, then its progress), as an origin role.
CRIME_STAGE = "crime-stage"


def origin_name(role: str, partition: int) -> str:
    return f"{role}/{partition}"


def origin_role(origin: str) -> str:
    return origin.split("/")[0]


def input_route(record: Mapping[str, Any]) -> tuple[str, str]:
    """(topic role, key) of an input record: incidents by incident id, crime events and outcomes
    by crime id, offender history by offender reference."""
    role = TOPIC_FOR_TYPE[record["type"]]
    return role, record["payload"][KEY_FIELD[role]]


def stage_origins(partition_counts: Mapping[str, int]) -> dict[str, tuple[str, ...]]:
    """Every origin each stage's watermark waits for; ``partition_counts`` by topic role."""
    origins: dict[str, list[str]] = {name: [] for name in STAGES}
    for role in INPUT_ROLES:
        for name in FEEDS[role]:
            origins[name] += [origin_name(role, p) for p in range(partition_counts[role])]
    crime_partitions = partition_counts[STAGE_TOPICS[CRIMES]]
    origins[OFFENDERS] += [origin_name(CRIME_STAGE, p) for p in range(crime_partitions)]
    return {name: tuple(found) for name, found in origins.items()}


def targets(stages: Mapping[str, Stage], event: Event) -> tuple[tuple[str, str], ...]:
    """(stage, key) for each stage an input event is sent to, in ROUTES order, keyed as that
    stage keys its cases. A stage that keys no case of it (the crime stage and an N100 record)
    is not sent it: it learns the event's time from the progress its input reports."""
    found = []
    for name in ROUTES.get(event.type, ()):
        key = stages[name].logic.key(event)
        if key is not None:
            found.append((name, key))
    return tuple(found)


@dataclass(slots=True)
class InputProgress:
    """How far each input origin has got, as the route reports it to the stages.

    An origin's low mark is its latest event time less the allowed lateness: an input may be
    disordered within that, so nothing earlier can still come from it. Lows are reported in
    batches (``report``) because each report is a broadcast to every partition of a stage;
    an end marker is reported at once, since nothing more will come to carry it."""

    lateness_ms: int
    lows: dict[str, int] = field(default_factory=dict)
    unsent: set[str] = field(default_factory=set)  # origins whose low moved since the last report

    def saw(self, origin: str, at: int) -> bool:
        """An event at ``at`` from ``origin`` was forwarded; True when the origin's low moved."""
        low = at - self.lateness_ms
        if low <= self.lows.get(origin, NEVER):
            return False
        self.lows[origin] = low
        self.unsent.add(origin)
        return True

    def ended(self, origin: str, at: int) -> dict[str, int]:
        """A ``history.ended`` marker at ``at``: ``origin`` sends nothing at or before it. The
        report to send now."""
        self.lows[origin] = max(self.lows.get(origin, NEVER), at + 1)
        self.unsent.discard(origin)
        return {origin: self.lows[origin]}

    def report(self, live: bool) -> dict[str, int]:
        """The lows to report now: those that moved since the last report or, in live mode, all
        of them (the wall clock rides along, and a quiet origin's stages must hear it too)."""
        report = {origin: self.lows[origin] for origin in (self.lows if live else self.unsent)}
        self.unsent.clear()
        return report

    @staticmethod
    def per_stage(report: Mapping[str, int]) -> dict[str, dict[str, int]]:
        """A report split by stage: each stage hears of the origins that feed its clock."""
        split = {
            name: {origin: low for origin, low in report.items() if name in FEEDS[origin_role(origin)]}
            for name in STAGES
        }
        return {name: mine for name, mine in split.items() if mine}


@dataclass(slots=True)
class CrimeProgress:
    """The crime stage's watermark per partition, as an origin of the offender stage's clock.

    Taken only after the partition's forwarded disposals are sent (``reached``), so that the
    offender stage never learns of progress before the disposals behind it; reported (``report``)
    only where it moved since last sent, since each report is a broadcast."""

    watermarks: dict[int, int] = field(default_factory=dict)
    sent: dict[int, int] = field(default_factory=dict)

    def reached(self, partition: int, watermark: int) -> None:
        self.watermarks[partition] = watermark

    def report(self) -> dict[str, int]:
        """{crime-stage origin: watermark} of the partitions that moved; marked as sent."""
        moved = {p: wm for p, wm in self.watermarks.items() if self.sent.get(p) != wm}
        self.sent.update(moved)
        return {origin_name(CRIME_STAGE, p): wm for p, wm in moved.items()}

    def reset(self) -> None:
        """Forget every partition (after a rebalance: this worker may own others now)."""
        self.watermarks.clear()
        self.sent.clear()
