"""Topic configs by role (cdi.topics.RETENTION_MS, README "Topics"), on a real Kafka broker: new
topics are created with them, read back with describe_configs; a topic that already exists keeps
its own; `cdi topics` lists each topic's retention and says where one differs."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

from cdi.settings import Settings
from cdi.topics import INPUT_ROLES, INTERNAL_ROLES, Topics, ensure_topics, topic_configs

pytestmark = pytest.mark.integration

DAY_MS = 86_400_000
CHECKED = ("retention.ms", "retention.bytes", "cleanup.policy")


def private_settings(bootstrap: str) -> Settings:
    """A prefix of its own, so the test never sees another test's topics (or they its)."""
    return Settings(bootstrap=bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:10]}.", partitions=1)


def broker_configs(bootstrap: str, names: list[str]) -> dict[str, dict[str, dict]]:
    client = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="test-topic-configs")
    try:
        resources = [ConfigResource(ConfigResourceType.TOPIC, name, dict.fromkeys(CHECKED)) for name in names]
        return client.describe_configs(resources, config_filter="all")["topic"]
    finally:
        client.close()


def test_new_topics_are_created_with_their_roles_retention(kafka_bootstrap: str) -> None:
    settings = private_settings(kafka_bootstrap)
    topics = Topics(settings.topic_prefix)
    ensure_topics(settings)
    held = broker_configs(kafka_bootstrap, [topics.name(role) for role in topics.all_roles()])

    def on_topic(role: str) -> dict[str, str]:
        """The configs set on the topic itself, not inherited from the broker."""
        return {
            key: config["value"]
            for key, config in held[topics.name(role)].items()
            if config["config_source"] == "DYNAMIC_TOPIC_CONFIG"
        }

    forever = {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"}
    assert on_topic("findings") == forever
    assert on_topic("case-actions") == forever
    assert on_topic("dead-letters") == {**forever, "retention.ms": str(30 * DAY_MS)}
    for role in INPUT_ROLES:
        assert on_topic(role) == {**forever, "retention.ms": str(400 * DAY_MS)}, role
    for role in INTERNAL_ROLES:  # as before: the cluster's defaults
        assert on_topic(role) == {} == topic_configs(role), role


def test_an_existing_topic_is_not_altered_and_cdi_topics_says_so(kafka_bootstrap: str) -> None:
    settings = private_settings(kafka_bootstrap)
    findings = Topics(settings.topic_prefix).name("findings")
    client = KafkaAdminClient(bootstrap_servers=kafka_bootstrap, client_id="test-topic-configs")
    try:
        client.create_topics(
            [NewTopic(findings, 1, 1, topic_configs={"retention.ms": str(DAY_MS)})], wait_for_metadata=True
        )
    finally:
        client.close()

    env = {**os.environ, **settings.to_env()}
    result = subprocess.run(
        [sys.executable, "-m", "cdi", "topics"], env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stderr
    assert broker_configs(kafka_bootstrap, [findings])[findings]["retention.ms"]["value"] == str(DAY_MS)
    lines = result.stderr.splitlines()

    def line_of(role: str) -> str:
        return next(line for line in lines if line.startswith(f"{settings.topic_prefix}{role}:"))

    found = line_of("findings")
    assert found.endswith(
        ": 1 partitions, kept 1 day (retention.ms=86400000; "
        "cluster defaults: retention.bytes=-1, cleanup.policy=delete)"
    )
    # Only what differs: the inherited cleanup.policy=delete and retention.bytes=-1 agree with the role's.
    warning = lines[lines.index(found) + 1]
    assert "differs from its role's configs (retention.ms=-1): the topic existed and was not altered" in warning
    assert line_of("dead-letters").endswith(
        ": 1 partitions, kept 30 days (retention.ms=2592000000, retention.bytes=-1, cleanup.policy=delete)"
    )
    assert line_of("case-actions").endswith("kept forever (retention.ms=-1, retention.bytes=-1, cleanup.policy=delete)")
    case_events = line_of("case-events")
    assert "(cluster defaults: retention.ms=" in case_events
    assert "differs" not in lines[lines.index(case_events) + 1]
