"""``cdi reset-clock``: clear the saved event-time clock of stage partitions.

Each stage partition saves its clock (the low mark of every input it waits for) in its table, so
a restart resumes where it stopped. A clock that an upstream fault drove forward would be saved
too; the worker refuses one beyond the admission bounds by itself, and this command clears any
other by hand. It writes a tombstone for the clock's key to the table's changelog topic: the next
worker to restore the partition starts with a fresh clock and learns it again from its inputs'
progress. Stop every worker of the namespace first, or a running one saves its clock again.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdi.core.stage import CRIMES, INCIDENTS, OFFENDERS
from cdi.publish import producer as publisher
from cdi.settings import Settings
from cdi.stream.partitions import CLOCK_PREFIX
from cdi.topics import Topics

STAGES = (INCIDENTS, CRIMES, OFFENDERS)  # the stage tables, by name


@dataclass(frozen=True, slots=True)
class ClockReset:
    stage: str
    partition: int
    changelog: str


def changelog_topic(topics: Topics, stage: str) -> str:
    """Faust names a table's changelog ``<app id>-<table>-changelog``; the tables are the stages."""
    return f"{topics.app_id}-{stage}-changelog"


def reset_clocks(settings: Settings, stages: tuple[str, ...], partitions: tuple[int, ...]) -> list[ClockReset]:
    """Tombstone the saved clocks of ``stages`` (every stage if empty) on ``partitions`` (every
    partition if empty). Raises LookupError when a changelog does not exist (no worker has run)."""
    assert settings.bootstrap
    topics = Topics(settings.topic_prefix)
    producer = publisher(settings.bootstrap, settings.security)  # acks=all, security errors explained
    done: list[ClockReset] = []
    try:
        for stage in stages or STAGES:
            name = changelog_topic(topics, stage)
            available = producer.partitions_for(name)
            if not available:
                raise LookupError(f"{name} does not exist: no worker has run in this namespace yet")
            wanted = sorted(available) if not partitions else sorted(set(partitions))
            missing = [p for p in wanted if p not in available]
            if missing:
                raise LookupError(f"{name} has no partition {missing[0]} (it has {len(available)})")
            for partition in wanted:
                producer.send(name, key=CLOCK_PREFIX + str(partition).encode(), value=None, partition=partition)
                done.append(ClockReset(stage, partition, name))
        producer.flush()
    finally:
        producer.close()
    return done
