"""Topic names and creation. Every name starts with the configured prefix, so a replay can run
in its own namespace beside live traffic.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from cdi.kafka_security import KafkaSecurity, explained
from cdi.settings import Settings

INPUT_ROLES = ("incidents", "crimes", "outcomes", "offender-history")
OUTPUT_ROLES = ("findings", "dead-letters")
# Written by the case workbench (cdi serve): people's actions on findings, keyed by finding id.
CASE_ROLES = ("case-actions",)
# Events repartitioned by the key of the stage that reads them (see cdi.stream.app).
INTERNAL_ROLES = ("case-events", "crime-events", "offender-events")

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


KEY_FIELD = {
    "incidents": "incident_id",
    "crimes": "crime_id",
    "outcomes": "crime_id",
    "offender-history": "offender_ref",
}


def route(record: dict) -> tuple[str, str]:
    """(topic role, key) of an input event: incidents by incident id, crime events and outcomes by
    crime id, offender history by offender reference."""
    role = TOPIC_FOR_TYPE[record["type"]]
    return role, record["payload"][KEY_FIELD[role]]


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
                listener = (
                    f", and that CDI_KAFKA_SECURITY_PROTOCOL ({security.describe()}) and its "
                    "credentials match the listener"
                    if security.protocol != "PLAINTEXT"
                    else ""
                )
                raise RuntimeError(
                    f"cannot reach Kafka at {bootstrap} ({exc}); check CDI_KAFKA_BOOTSTRAP "
                    f"and that the broker is running{listener}"
                ) from None
            time.sleep(0.5)


def ensure_topics(settings: Settings, timeout: float = 30.0) -> dict[str, int]:
    """Create the monitor's topics where missing; return every role's partition count."""
    assert settings.bootstrap, "ensure_topics needs a broker"
    topics = Topics(settings.topic_prefix)
    client = admin(settings.bootstrap, timeout, settings.security)
    try:
        existing = set(client.list_topics())
        wanted = [
            NewTopic(topics.name(role), settings.partitions, settings.replication_factor)
            for role in topics.all_roles()
            if topics.name(role) not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker created them first
                client.create_topics(wanted, timeout_ms=int(timeout * 1000))
        return partition_counts(client, topics, timeout)
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
