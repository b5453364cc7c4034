"""`cdi audit sample | estimate --namespace`: the same sample and the same estimates from a
namespace's topics as from the history file published into them; and the case-actions topic's
other records (the workbench's case.action, anything its contract refuses) skipped and counted."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from cdi import exit_codes
from cdi.audit.namespace import audit_records
from cdi.audit.verdicts import Verdicts, merged
from cdi.cli import main
from cdi.contracts import Contracts
from cdi.history import read_events, read_lines, write_events
from cdi.publish import publish
from cdi.settings import Settings, namespace_prefix
from cdi.simulation import SimulationOptions, simulate, write_simulation
from cdi.topics import INPUT_ROLES, Topics, ensure_topics
from tests.stream.worker_process import isolated_settings, read_topic

from .conftest import HIDDEN

CONTRACTS = Contracts()


def examples(kind: str) -> list[dict[str, Any]]:
    return CONTRACTS.schemas[f"urn:cdi:schema:{kind}:1"]["examples"]


def cdi(*args: object, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


# -- without a broker ------------------------------------------------------------------------------


def test_case_actions_records_other_than_audit_events_are_skipped_and_bad_ones_counted() -> None:
    [sample] = examples("audit.sample")
    verdict, correction = examples("audit.verdict")[:2]
    values = [
        orjson.dumps(sample),
        *(orjson.dumps(action) for action in examples("case.action")),  # the workbench's, by finding id
        orjson.dumps(verdict),
        orjson.dumps(verdict),  # delivered twice: counts once
        orjson.dumps(correction),
        b"not json",
        orjson.dumps({**verdict, "payload": {"sample_id": "x"}}),  # fails its contract
        orjson.dumps({**verdict, "type": "audit.unknown"}),  # no contract knows it
    ]
    found = audit_records(values)
    assert list(found.samples) == [sample["payload"]["sample_id"]]
    assert found.other == len(examples("case.action")) == 2
    assert found.invalid == 3
    assert (found.verdict_events, found.duplicates, len(found.verdicts)) == (3, 1, 2)
    on = found.verdicts_on(sample["payload"]["sample_id"])
    assert len(on.standing) == len({(v.kind, v.id) for v in found.verdicts})
    assert not found.verdicts_on("another-sample").standing


def test_merged_verdicts_keep_the_latest_whichever_source_holds_it() -> None:
    found = audit_records(orjson.dumps(v) for v in examples("audit.verdict"))
    every = found.verdicts_on(examples("audit.sample")[0]["payload"]["sample_id"])
    items = sorted(every.standing)
    topic = Verdicts({k: every.standing[k] for k in items[::2]}, every.sample_ids, events=1)
    files = Verdicts({k: every.standing[k] for k in items[1::2]}, every.sample_ids, events=2)
    both = merged(topic, files, topic)  # the same verdict in two sources stands once
    assert both.standing == every.standing and both.events == 4


def test_a_namespace_needs_its_options_and_the_broker(tmp_path: Path) -> None:
    history = tmp_path / "h.jsonl"
    history.write_text("")
    out = tmp_path / "s.json"
    for args in (
        ["audit", "sample", "--seed", 1, "--size", 5, "--out", out],  # neither HISTORY nor --namespace
        ["audit", "sample", history, "--namespace", "x", "--seed", 1, "--size", 5, "--out", out],  # both
        ["audit", "sample", history, "--publish", "--seed", 1, "--size", 5, "--out", out],
        ["audit", "sample", "--namespace", "x", "--seed", 1, "--size", 5],  # no --out, no --publish
        ["audit", "estimate", history, "--verdicts", history, "--sample-id", "s"],
        ["audit", "estimate", "--namespace", "x"],
        ["audit", "estimate", "--namespace", "x", "--sample-id", "s", "--sample", history],
        ["audit", "estimate", "--verdicts", history],
    ):
        assert cdi(*args)[0] == exit_codes.USAGE, args
    closed = {"CDI_KAFKA_BOOTSTRAP": f"127.0.0.1:{closed_port()}", "CDI_CONNECT_TIMEOUT": "1"}
    for args in (
        ["audit", "sample", "--namespace", "x", "--seed", 1, "--size", 5, "--out", out],
        ["audit", "estimate", "--namespace", "x", "--sample-id", "s"],
    ):
        code, _, said = cdi(*args, env=closed)
        assert code == exit_codes.UNAVAILABLE and "cannot reach Kafka at 127.0.0.1:" in said, said
    code, _, said = cdi(*args, env={"CDI_KAFKA_BOOTSTRAP": ""})
    assert code == exit_codes.CONFIG and "CDI_KAFKA_BOOTSTRAP is not set" in said, said


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- on a broker -----------------------------------------------------------------------------------


def in_namespace(bootstrap: str) -> Settings:
    name = f"a{uuid.uuid4().hex[:8]}"
    return isolated_settings(bootstrap).with_(namespace=name, topic_prefix=namespace_prefix(name))


def cli(settings: Settings, *args: object) -> tuple[int, str, str]:
    """The command as an operator runs it: its own process, its settings from the environment."""
    done = subprocess.run(
        [sys.executable, "-m", "cdi", *map(str, args)],
        env={**os.environ, **settings.to_env(), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.returncode, done.stdout, " ".join(done.stderr.split())


def records_on(settings: Settings, roles: Sequence[str]) -> int:
    """Records on the namespace's topics of ``roles`` (the sum of their partitions' end offsets)."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None)
    try:
        names = [Topics(settings.topic_prefix).name(role) for role in roles]
        tps = [TopicPartition(n, p) for n in names for p in sorted(consumer.partitions_for_topic(n) or ())]
        return sum(consumer.end_offsets(tps).values()) if tps else 0
    finally:
        consumer.close()


def wait_for_records(settings: Settings, roles: Sequence[str], count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (held := records_on(settings, roles)) < count:
        assert time.monotonic() < deadline, f"{held} of {count} records on {roles} after {timeout} s"
        time.sleep(0.2)
    assert held == count, f"{held} records on {roles}, {count} expected"


def send_case_actions(settings: Settings, records: Sequence[tuple[str, bytes]]) -> None:
    """(key, value) records onto the case-actions topic, acknowledged by the broker."""
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap, acks="all")
    try:
        topic = Topics(settings.topic_prefix).name("case-actions")
        for future in [producer.send(topic, key=key.encode(), value=value) for key, value in records]:
            future.get(timeout=30)
    finally:
        producer.close()


@pytest.fixture(scope="module")
def three_days(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("audit-namespace")
    history, truth = folder / "history.jsonl", folder / "audit-truth.jsonl"
    write_simulation(simulate(SimulationOptions(days=3, seed=4, **HIDDEN)), history, audit_truth_path=truth)
    return history, truth


@pytest.mark.integration
@pytest.mark.slow
def test_a_namespace_gives_the_history_files_sample_and_estimates(
    kafka_bootstrap: str, three_days: tuple[Path, Path], tmp_path: Path
) -> None:
    history, truth = three_days
    settings = in_namespace(kafka_bootstrap)
    ns = settings.namespace
    ensure_topics(settings)
    sent = publish(settings, [raw for _, raw in read_lines(history)])
    partitions = len(INPUT_ROLES) * settings.partitions  # one history.ended marker on each
    wait_for_records(settings, INPUT_ROLES, sent.lines + partitions)

    # The same sample from the topics as from the file; the topic gets it too.
    on_topic, from_file = tmp_path / "s.jsonl", tmp_path / "f.jsonl"
    args = ["audit", "sample", "--namespace", ns, "--publish", "--seed", 7, "--size", 40]
    code, _, said = cli(settings, *args, "--out", on_topic)
    assert code == 0, said
    assert f"cdi.{ns}.case-actions" in said
    code, _, said = cdi("audit", "sample", history, "--seed", 7, "--size", 40, "--out", from_file)
    assert code == 0, said
    [a], [b] = read_events(on_topic), read_events(from_file)
    assert a["payload"]["sources"] == [Topics(settings.topic_prefix).name(r) for r in INPUT_ROLES]
    assert b["payload"]["sources"] == [history.name]
    CONTRACTS.check(a)
    assert {**a["payload"], "sources": None} == {**b["payload"], "sources": None}
    assert {k: v for k, v in a.items() if k != "payload"} == {k: v for k, v in b.items() if k != "payload"}
    sample_id = a["payload"]["sample_id"]
    [message] = read_topic(settings, "case-actions", until=1, timeout=30)
    assert message.key == sample_id.encode() and orjson.loads(message.value) == a

    # Publishing the same sample again adds nothing; another sample under its name is refused.
    code, _, said = cli(settings, *args)
    assert code == 0 and "not published again" in said, said
    code, _, said = cli(
        settings, "audit", "sample", "--namespace", ns, "--publish", "--seed", 8, "--size", 40, "--name", sample_id
    )
    assert code == exit_codes.USAGE and f"a different sample named {sample_id}" in said, said
    wait_for_records(settings, ["case-actions"], 1)

    # A namespace with no topics is named, as `cdi export` names a missing topic.
    code, _, said = cli(
        settings, "audit", "sample", "--namespace", f"{ns}-none", "--seed", 7, "--size", 40, "--publish"
    )
    assert code == exit_codes.UNAVAILABLE and f"cdi.{ns}-none.incidents' does not exist" in said, said

    # An unknown sample id is named with the ones the topic holds.
    code, _, said = cli(settings, "audit", "estimate", "--namespace", ns, "--sample-id", "nope")
    assert code == exit_codes.USAGE and sample_id in said, said

    # Half the verdicts on the topic (among the workbench's actions and a bad record), half in a file.
    verdicts = tmp_path / "v.jsonl"
    assert cdi("audit", "verdicts", from_file, "--from-truth", truth, "--out", verdicts)[0] == 0
    lines = [raw for _, raw in read_lines(verdicts)]
    first, second = lines[: len(lines) // 2], lines[len(lines) // 2 :]
    rest = tmp_path / "rest.jsonl"
    write_events(rest, [orjson.loads(raw) for raw in second])
    noise = [(a["payload"]["finding_id"], orjson.dumps(a)) for a in examples("case.action")] + [(sample_id, b"{")]
    send_case_actions(settings, [*((sample_id, raw) for raw in first), *noise])
    wait_for_records(settings, ["case-actions"], 1 + len(first) + len(noise))

    code, expected, said = cdi("audit", "estimate", history, "--verdicts", verdicts, "--sample", from_file, "--json")
    assert code == 0, said
    code, got, said = cli(
        settings, "audit", "estimate", "--namespace", ns, "--sample-id", sample_id, "--verdicts", rest, "--json"
    )
    assert code == 0, said
    assert f"1 record fails its contract on cdi.{ns}.case-actions" in said
    assert orjson.loads(got) == orjson.loads(expected)

    # Every verdict on the topic: the same estimates from the namespace alone.
    send_case_actions(settings, [(sample_id, raw) for raw in second])
    wait_for_records(settings, ["case-actions"], 1 + len(lines) + len(noise))
    code, got, said = cli(settings, "audit", "estimate", "--namespace", ns, "--sample-id", sample_id, "--json")
    assert code == 0, said
    assert orjson.loads(got) == orjson.loads(expected)
    with_truth = cli(settings, "audit", "estimate", "--namespace", ns, "--sample-id", sample_id, "--truth", truth)
    assert with_truth[0] == 0 and "Recording accuracy" in with_truth[1], with_truth[2]
