"""The audit of a namespace (issue 12; docs/audit.md): its input topics read back as a history,
and the audit samples and verdicts the case workbench keeps on its case-actions topic.

The input topics are read from their start to each partition's end offset at the moment of
reading, through the same range reader as `cdi export` and `cdi replay --from-topic`, and come back
in event-time order (then topic, partition and offset), so the rules run over them as over a
history file and the same events give the same population. Replay end markers are left out: the
population's run closes every deadline at the history's end itself.

On the case-actions topic, ``audit.sample`` and ``audit.verdict`` events are keyed by sample id;
the workbench's ``case.action`` events (keyed by finding id) share the topic and are skipped, and
a record its contract refuses is counted, never fatal: one bad record must not stop an audit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from kafka import KafkaProducer
from kafka.errors import KafkaError, MessageSizeTooLargeError

from cdi.audit.sample import MAX_SAMPLE_BYTES, AuditSample
from cdi.audit.sample import TYPE as SAMPLE_TYPE
from cdi.audit.verdicts import TYPE as VERDICT_TYPE
from cdi.audit.verdicts import Verdict, Verdicts, checked_record, latest
from cdi.contracts import Contracts, InvalidEvent
from cdi.kafka_security import explained
from cdi.settings import Settings
from cdi.sources import EVENTS
from cdi.sources.selection import Selection
from cdi.sources.topic_range import read_range
from cdi.topics import CASE_ACTIONS, INPUT_ROLES, Topics

Progress = Callable[[int, int], None]  # (records read, records to read)


@dataclass(slots=True)
class TopicHistory:
    """A namespace's input topics as a history: ``cdi.sources.History``'s interface, for
    ``cdi.audit.population.build``."""

    namespace: str
    topics: tuple[str, ...]
    records: list[bytes]  # in event-time order
    kind: str = EVENTS
    notes: list[str] = field(default_factory=list)

    @property
    def paths(self) -> list[Path]:
        # The population names its sources by these: the sample's `sources` are the topic names.
        return [Path(topic) for topic in self.topics]

    @property
    def name(self) -> str:
        return f"the input topics of namespace {self.namespace!r} ({', '.join(self.topics)})"

    def lines(self) -> Iterator[tuple[str, bytes]]:
        return ((f"{self.namespace}#{n}", raw) for n, raw in enumerate(self.records, start=1))


def input_topics(settings: Settings) -> tuple[str, ...]:
    names = Topics(settings.topic_prefix)
    return tuple(names.name(role) for role in INPUT_ROLES)


def case_actions_topic(settings: Settings) -> str:
    return Topics(settings.topic_prefix).name(CASE_ACTIONS)


def read_history(settings: Settings, progress: Progress | None = None) -> TopicHistory:
    """The namespace's input topics, start to end, as a history in event-time order."""
    assert settings.bootstrap
    topics = input_topics(settings)
    # Selection() takes every record (unreadable ones too, for the rules to reject as a file's)
    # but the replay's history.ended markers.
    records = read_range(settings.bootstrap, topics, Selection(), progress, security=settings.security)
    return TopicHistory(settings.namespace, topics, records)


@dataclass(slots=True)
class AuditRecords:
    """What the case-actions topic holds for the audit."""

    samples: dict[str, AuditSample] = field(default_factory=dict)  # by sample id; the latest stands
    verdicts: list[Verdict] = field(default_factory=list)  # every distinct verdict event, any sample
    verdict_events: int = 0  # verdict events read, repeats included
    duplicates: int = 0  # verdict events read again under the same event id
    other: int = 0  # records of other types: the workbench's case.action events
    invalid: int = 0  # records their contract refuses (or no contract knows)

    def verdicts_on(self, sample_id: str) -> Verdicts:
        """The verdicts on one sample, as ``cdi.audit.verdicts.read`` gives a file's."""
        return Verdicts(
            latest(v for v in self.verdicts if v.sample_id == sample_id),
            {v.sample_id for v in self.verdicts},
            events=self.verdict_events,
            duplicates=self.duplicates,
            other_records=self.other,
        )


def audit_records(values: Iterable[bytes], contracts: Contracts | None = None) -> AuditRecords:
    """The audit samples and verdicts among a case-actions topic's record values, in the order
    read (event-time order: a later sample of the same id replaces an earlier one)."""
    contracts = contracts or Contracts()
    out = AuditRecords()
    seen: set[str] = set()
    for raw in values:
        try:
            record = checked_record(contracts, raw)
        except InvalidEvent:
            out.invalid += 1
            continue
        kind = record.get("type")
        if kind == SAMPLE_TYPE:
            drawn = AuditSample.from_event(record)
            out.samples[drawn.sample_id] = drawn
        elif kind == VERDICT_TYPE:
            out.verdict_events += 1
            if record["event_id"] in seen:
                out.duplicates += 1
                continue
            seen.add(record["event_id"])
            out.verdicts.append(Verdict.from_event(record))
        else:
            out.other += 1
    return out


def read_audit(settings: Settings, progress: Progress | None = None) -> AuditRecords:
    """The audit samples and verdicts on the namespace's case-actions topic, start to end."""
    assert settings.bootstrap
    values = read_range(
        settings.bootstrap, (case_actions_topic(settings),), Selection(), progress, security=settings.security
    )
    return audit_records(values)


class PublishError(RuntimeError):
    """The broker did not take the sample; the message says why and what to do."""


def publish_sample(settings: Settings, drawn: AuditSample, timeout: float = 30.0) -> None:
    """Write the sample to the namespace's case-actions topic (keyed by sample id, so its
    verdicts follow it in one partition) and wait for every in-sync replica to have it."""
    assert settings.bootstrap
    topic = case_actions_topic(settings)
    with explained(settings.bootstrap, settings.security):
        producer = KafkaProducer(
            bootstrap_servers=settings.bootstrap,
            client_id="cdi-audit",
            acks="all",
            compression_type="gzip",
            max_request_size=MAX_SAMPLE_BYTES,
            max_block_ms=int(timeout * 1000),
            request_timeout_ms=int(timeout * 1000),
            **settings.security.kafka_python(),
        )
    value = orjson.dumps(drawn.to_event())
    try:
        producer.send(topic, key=drawn.sample_id.encode(), value=value).get(timeout=timeout)
    except MessageSizeTooLargeError:
        raise PublishError(
            f"{topic} refused the sample as too large ({len(value):,} bytes before compression): "
            "draw a smaller sample, or raise the topic's max.message.bytes"
        ) from None
    except KafkaError as exc:
        raise PublishError(f"{topic} did not take the sample ({type(exc).__name__}): try again") from None
    finally:
        producer.close(timeout=5)
