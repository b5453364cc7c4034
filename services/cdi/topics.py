"""Topic names and creation. Every name starts with the configured prefix, so a replay can run
in its own namespace beside live traffic.

Which input topics there are, which carries each event type and how each is keyed belong to the
topology (cdi.core.topology); INPUT_ROLES, TOPIC_FOR_TYPE and KEY_FIELD are re-exported here.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from cdi.broker_reach import BrokerUnreachable
from cdi.core.topology import INPUT_ROLES, STAGE_TOPICS, input_route
from cdi.core.topology import KEY_FIELD as KEY_FIELD
from cdi.core.topology import TOPIC_FOR_TYPE as TOPIC_FOR_TYPE
from cdi.kafka_security import KafkaSecurity, explained
from cdi.settings import Settings

OUTPUT_ROLES = ("findings", "dead-letters")
# Written by the case workbench (cdi serve): people's actions on findings, keyed by finding id.
CASE_ACTIONS = "case-actions"
CASE_ROLES = (CASE_ACTIONS,)
# Events repartitioned by the key of the stage that reads them (see cdi.core.topology).
INTERNAL_ROLES = tuple(STAGE_TOPICS.values())

DAY_MS = 24 * 60 * 60 * 1000
KEEP_FOREVER = "-1"

# How long each topic the monitor creates keeps its records (retention.ms), by role. The reasons,
# which README "Topics" repeats for operators:
# - findings: the record of every case. The workbench's view is rebuilt from it and an audit may
#   ask for a finding years later, so nothing is deleted. (Not compacted: every finding about a
#   subject, raised or resolved, under any rule, shares the subject's key.)
# - case-actions: the trail of who acknowledged, assigned and closed each case; kept as long as
#   the findings it acts on.
# - dead-letters: raw rejected records, which may hold personal data in the wrong field: 30 days
#   to investigate and replay a fault, and no longer.
# - inputs: 400 days, as long as the workbench keeps input events no finding cites
#   (CDI_CASES_EVENT_RETENTION_DAYS), so a rebuilt view holds the same timelines, and a year back
#   (a crime awaits its outcome up to a year) can be replayed or exported.
# Roles not listed (the internal stage topics) take the cluster's defaults, as before: they are
# read within seconds and the workers' state is in the changelogs; the default (7 days on a stock
# broker) bounds how long a stopped pipeline keeps what it repartitioned but had not yet read.
# A topic that exists already is never altered (`cdi topics` shows where it differs).
RETENTION_MS: dict[str, str] = {
    "findings": KEEP_FOREVER,
    "case-actions": KEEP_FOREVER,
    "dead-letters": str(30 * DAY_MS),
    **{role: str(400 * DAY_MS) for role in INPUT_ROLES},
}


def topic_configs(role: str) -> dict[str, str]:
    """The topic-level configs a new topic of ``role`` is created with; none for internal roles."""
    retention = RETENTION_MS.get(role)
    if retention is None:
        return {}
    # Deletion by time only: a cluster-wide retention.bytes or compaction default would otherwise
    # cut the record short.
    return {"cleanup.policy": "delete", "retention.ms": retention, "retention.bytes": "-1"}


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str

    def name(self, role: str) -> str:
        return f"{self.prefix}{role}"

    @property
    def app_id(self) -> str:
        return f"{self.prefix}monitor"

    def all_roles(self) -> tuple[str, ...]:
        return INPUT_ROLES + OUTPUT_ROLES + CASE_ROLES + INTERNAL_ROLES


# The publisher's routing: (topic role, key) of an input record.
route = input_route


def admin(bootstrap: str, timeout: float = 30.0, security: KafkaSecurity | None = None) -> KafkaAdminClient:
    """An admin client, retrying until ``timeout`` while the broker is unreachable; a TLS or SASL
    failure raises KafkaSecurityError (a RuntimeError) without retrying, saying what to set."""
    security = security or KafkaSecurity()
    deadline = time.monotonic() + timeout
    while True:
        try:
            with explained(bootstrap, security):
                return KafkaAdminClient(
                    bootstrap_servers=bootstrap,
                    client_id="cdi-admin",
                    request_timeout_ms=10_000,
                    **security.kafka_python(),
                )
        except KafkaError as exc:
            if time.monotonic() > deadline:
                raise BrokerUnreachable(
                    f"cannot reach Kafka at {bootstrap} ({exc}); check CDI_KAFKA_BOOTSTRAP "
                    f"and that the broker is running{security.listener_hint()}"
                ) from None
            time.sleep(0.5)


def ensure_topics(settings: Settings, timeout: float = 30.0) -> dict[str, int]:
    """Create the monitor's topics where missing, with their role's configs (topic_configs);
    return every role's partition count. A topic that exists is left as it is."""
    assert settings.bootstrap, "ensure_topics needs a broker"
    topics = Topics(settings.topic_prefix)
    client = admin(settings.bootstrap, timeout, settings.security)
    try:
        existing = set(client.list_topics())
        wanted = [
            NewTopic(
                topics.name(role), settings.partitions, settings.replication_factor, topic_configs=topic_configs(role)
            )
            for role in topics.all_roles()
            if topics.name(role) not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker created them first
                client.create_topics(wanted, timeout_ms=int(timeout * 1000))
        return partition_counts(client, topics, timeout)
    finally:
        client.close()


def ensure_changelogs(settings: Settings, partitions: dict[str, int], timeout: float = 30.0) -> None:
    """Create the workers' table changelog topics (``partitions``: table name -> partition count)
    before Faust starts, and wait until the cluster's metadata shows them.

    Left to Faust, a changelog is created while the worker joins its group; on a busy broker the
    assignment can come before the new topic is in the metadata, and Faust then ignores it until
    the next rebalance, refusing every write to that table meanwhile (PartitionsMismatch)."""
    assert settings.bootstrap, "ensure_changelogs needs a broker"
    app_id = Topics(settings.topic_prefix).app_id
    names = {f"{app_id}-{table}-changelog": n for table, n in partitions.items()}
    client = admin(settings.bootstrap, timeout, settings.security)
    try:
        existing = set(client.list_topics())
        wanted = [
            NewTopic(name, n, settings.replication_factor, topic_configs={"cleanup.policy": "compact"})
            for name, n in names.items()
            if name not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker created them first
                client.create_topics(wanted, timeout_ms=int(timeout * 1000))
        deadline = time.monotonic() + timeout
        while True:
            described = client.describe_topics(list(names))
            if all(not d.get("error_code") and d["partitions"] for d in described) and len(described) == len(names):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"changelog topics {sorted(names)} did not appear within {timeout:.0f} s")
            time.sleep(0.2)
    finally:
        client.close()


def partition_counts(client: KafkaAdminClient, topics: Topics, timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        described = client.describe_topics([topics.name(role) for role in topics.all_roles()])
        counts = {d["name"]: len(d["partitions"]) for d in described if not d.get("error_code")}
        if all(topics.name(role) in counts and counts[topics.name(role)] for role in topics.all_roles()):
            return {role: counts[topics.name(role)] for role in topics.all_roles()}
        if time.monotonic() > deadline:
            missing = [role for role in topics.all_roles() if not counts.get(topics.name(role))]
            raise RuntimeError(f"topics {missing} did not appear within {timeout:.0f} s")
        time.sleep(0.2)


SHOWN_CONFIGS = ("retention.ms", "retention.bytes", "cleanup.policy")


@dataclass(frozen=True, slots=True)
class TopicConfig:
    value: str | None
    source: str  # Kafka's config source: DYNAMIC_TOPIC_CONFIG (set on the topic), DEFAULT_CONFIG, ...

    @property
    def on_topic(self) -> bool:
        return self.source == "DYNAMIC_TOPIC_CONFIG"


def describe_topic_configs(settings: Settings, timeout: float = 30.0) -> dict[str, dict[str, TopicConfig]]:
    """The retention and cleanup configs each role's topic has on the broker, with where each comes
    from, for `cdi topics` to show beside what topic_configs would create."""
    assert settings.bootstrap, "describe_topic_configs needs a broker"
    topics = Topics(settings.topic_prefix)
    client = admin(settings.bootstrap, timeout, settings.security)
    try:
        resources = [
            ConfigResource(ConfigResourceType.TOPIC, topics.name(role), dict.fromkeys(SHOWN_CONFIGS))
            for role in topics.all_roles()
        ]
        described = client.describe_configs(resources, config_filter="all").get("topic", {})
    finally:
        client.close()
    return {
        role: {
            key: TopicConfig(config.get("value"), config["config_source"])
            for key, config in described.get(topics.name(role), {}).items()
        }
        for role in topics.all_roles()
    }
