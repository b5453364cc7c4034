"""A storm of bad records through a running worker on a real broker: at least 10,000 records of
every class a buggy or hostile upstream could send (hypothesis draws them), interleaved with a
good history. Every bad record ends in the dead-letter topic with its reason, the counter counts
exactly the letters the broker took, the good findings are exact, and the worker never stalls or
restarts an agent."""

from __future__ import annotations

import itertools
import time
from collections import Counter

import orjson
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from kafka import KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from cdi import backtest
from cdi.contracts import Contracts
from cdi.history import write_events
from cdi.publish import publish
from cdi.simulation import SimulationOptions, simulate
from cdi.stream.app import H_ORIGIN, H_PROGRESS
from cdi.topics import Topics
from tests.stream.worker_process import (
    WorkerProcess,
    difference,
    findings,
    isolated_settings,
    offline_findings,
    read_topic,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BATCHES = 70
PER_BATCH = 150  # 70 x 150 = 10,500 bad records (more if hypothesis discards a part-drawn batch)
MAX_RECORD = 16 * 1024  # the worker's CDI_MAX_RECORD_BYTES here, so large records stay cheap
STALL_BOUND_S = 30.0  # every batch is dead-lettered within this long of being sent
PERSON = st.sampled_from(["John Smith", "Jane Doe 1980-04-01", "12 High Street, Kent", "Mr A. Person"])
VALID_TYPES = {*Contracts().event_types, "history.ended"}


def _event(n: int, occurred_at: str, **changes: object) -> dict:
    record = {
        "event_id": f"storm-{n}",
        "type": "incident.opened",
        "schema_version": 1,
        "occurred_at": occurred_at,
        "force": "SYNTH",
        "division": "NORTH",
        "payload": {"incident_id": f"STORM-{n}", "opening_code": "ASSAULT"},
    }
    record.update(changes)
    return record


# Each strategy gives (topic role, value, headers, expected reason) for record number n.
def garbage(n: int) -> st.SearchStrategy:
    return (
        st.binary(max_size=40)
        .filter(lambda b: not b.lstrip().startswith(b"{"))
        .map(lambda b: ("incidents", b, None, "malformed"))
    )


def not_an_object(n: int) -> st.SearchStrategy:
    scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20)
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=10)
    return values.map(lambda v: ("crimes", orjson.dumps(v), None, "malformed"))


def unknown_type(n: int) -> st.SearchStrategy:
    return st.tuples(st.text(max_size=40).filter(lambda t: t not in VALID_TYPES), st.integers(-5, 5)).map(
        lambda t: (
            "outcomes",
            orjson.dumps(_event(n, "2026-03-02T10:00:00Z", type=t[0], schema_version=t[1])),
            None,
            "unknown_type",
        )
    )


def personal_data_in_a_field(n: int) -> st.SearchStrategy:
    field = st.sampled_from(["division", "force", "event_id"])
    return st.tuples(field, PERSON).map(
        lambda f: ("incidents", orjson.dumps(_event(n, "2026-03-02T10:00:00Z", **{f[0]: f[1]})), None, "schema")
    )


def impossible_time(n: int) -> st.SearchStrategy:
    times = st.sampled_from(
        ["2026-06-30T23:59:60Z", "0000-01-01T00:00:00Z", "2026-02-30T10:00:00Z", "2026-03-02T24:00:00Z"]
    )
    return times.map(lambda t: ("incidents", orjson.dumps(_event(n, t)), None, "schema"))


def deep_nesting(n: int) -> st.SearchStrategy:
    def nested(depth: int) -> bytes:
        head = orjson.dumps(_event(n, "2026-03-02T10:00:00Z"))[:-1]
        return head + b',"x":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"

    arrays = st.integers(255, 3000).map(lambda d: b"[" * d + b"]" * d)
    return (st.integers(255, 1000).map(nested) | arrays).map(lambda raw: ("crimes", raw, None, "malformed"))


def too_large(n: int) -> st.SearchStrategy:
    return st.integers(MAX_RECORD + 1, 4 * MAX_RECORD).map(
        lambda size: ("incidents", b'{"pad": "' + b"x" * size + b'"}', None, "too_large")
    )


def empty_value(n: int) -> st.SearchStrategy:
    return st.just(("outcomes", None, None, "malformed"))


def future(n: int) -> st.SearchStrategy:
    times = st.sampled_from(["9999-12-31T23:59:59Z", "2099-12-31T00:00:00Z", "2026-06-01T00:00:00Z"])
    return times.map(lambda t: ("incidents", orjson.dumps(_event(n, t)), None, "future"))


def too_old(n: int) -> st.SearchStrategy:
    times = st.sampled_from(["1989-12-31T00:00:00Z", "2019-01-01T00:00:00Z", "2026-01-01T00:00:00Z"])
    return times.map(lambda t: ("incidents", orjson.dumps(_event(n, t)), None, "too_old"))


def forged_end_marker(n: int) -> st.SearchStrategy:
    times = st.sampled_from(["9999-12-31T23:59:59Z", "2026-03-03T00:00:00Z"])
    return times.map(
        lambda t: (
            "crimes",
            orjson.dumps(_event(n, t, type="history.ended", force="ALL", division="ALL", payload={"source": "replay"})),
            None,
            "marker_refused",
        )
    )


def wrong_topic(n: int) -> st.SearchStrategy:
    return st.just(("outcomes", orjson.dumps(_event(n, "2026-03-02T10:00:00Z")), None, "wrong_topic"))


def forged_internal_record(n: int) -> st.SearchStrategy:
    """Written straight to an internal topic, past the route."""
    progress = [(H_PROGRESS, orjson.dumps({"incidents/0": 253_402_300_799_000}))]
    garbage_event = st.binary(max_size=40).map(
        lambda b: ("case-events", b, [(H_ORIGIN, b"incidents/0")], "processing_error")
    )
    far_event = st.just(
        ("case-events", orjson.dumps(_event(n, "9999-12-31T23:59:59Z")), [(H_ORIGIN, b"incidents/0")], "future")
    )
    return garbage_event | far_event | st.just(("case-events", b"", progress, "marker_refused"))


CLASSES = [
    garbage,
    not_an_object,
    unknown_type,
    personal_data_in_a_field,
    impossible_time,
    deep_nesting,
    too_large,
    empty_value,
    future,
    too_old,
    forged_end_marker,
    wrong_topic,
    forged_internal_record,
]


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    sim = simulate(SimulationOptions(days=2, seed=5))
    path = tmp_path_factory.mktemp("storm") / "history.jsonl.gz"
    write_events(path, sim.events)
    return [orjson.dumps(e) for e in sim.events], backtest.run(path)


def _dead_lettered(worker: WorkerProcess) -> float:
    return worker.total("cdi_dead_letters_total")


def test_ten_thousand_bad_records_are_each_dead_lettered_and_the_good_findings_hold(history, kafka_bootstrap):
    lines, offline = history
    config = isolated_settings(
        kafka_bootstrap, max_record_bytes=MAX_RECORD, end_markers="signed", replay_key="storm-replay-key"
    )
    topics = Topics(config.topic_prefix)
    expected = offline_findings(offline.findings)
    sent: Counter[str] = Counter()
    classes: Counter[str] = Counter()
    slowest = 0.0
    with WorkerProcess(config) as worker:
        # One record above the broker's default 1 MB message size: the input topic takes it, the
        # dead-letter topic cannot, so a stub goes there instead.
        admin = KafkaAdminClient(bootstrap_servers=config.bootstrap)
        admin.alter_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC, topics.name("incidents"), configs={"max.message.bytes": "4000000"}
                )
            ]
        )
        admin.close()
        producer = KafkaProducer(bootstrap_servers=config.bootstrap, acks="all", max_request_size=4_000_000)
        producer.send(topics.name("incidents"), b'{"pad": "' + b"y" * 1_200_000 + b'"}').get(timeout=30)
        sent["too_large"] += 1
        first = len(lines) // 5
        publish(config, lines[:first], end=False)
        deadline = time.monotonic() + 120
        while worker.total("cdi_events_consumed_total") + worker.total("cdi_events_duplicate_total") < first:
            assert time.monotonic() < deadline, "the first part of the good history was not taken"
            time.sleep(0.3)
        rest, tail = lines[first:-50], lines[-50:]
        chunk = -(-len(rest) // BATCHES)
        batch_no = itertools.count()

        @settings(
            max_examples=BATCHES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],  # examples share one worker: no shrinking, no replay
            suppress_health_check=list(HealthCheck),
        )
        @given(st.data())
        def storm(data: st.DataObject) -> None:
            nonlocal slowest
            b = next(batch_no)
            publish(config, rest[b * chunk : (b + 1) * chunk], end=False)
            for i in range(PER_BATCH):
                n = b * PER_BATCH + i
                kind = data.draw(st.sampled_from(CLASSES))
                role, value, headers, reason = data.draw(kind(n))
                producer.send(topics.name(role), value=value, key=f"k{n}".encode(), headers=headers)
                sent[reason] += 1
                classes[kind.__name__] += 1
            producer.flush()
            started = time.monotonic()
            while _dead_lettered(worker) < sum(sent.values()):
                assert worker.process.poll() is None, worker.log()[-3000:]
                assert time.monotonic() - started < STALL_BOUND_S, (
                    f"batch {b}: {_dead_lettered(worker):.0f} of {sum(sent.values())} dead-lettered"
                )
                time.sleep(0.2)
            slowest = max(slowest, time.monotonic() - started)

        storm()
        producer.close()
        publish(config, rest[next(batch_no) * chunk :], end=False)  # none left unless examples ran short
        publish(config, tail)  # ends with end markers signed with the replay key

        total = sum(sent.values())
        assert total >= 10_000 and set(classes) == {c.__name__ for c in CLASSES}
        got = findings(read_topic(config, "findings", until=len(expected), timeout=180))
        assert got == expected, difference(got, expected, worker)
        dead = read_topic(config, "dead-letters", until=total, timeout=120)
        assert Counter(dict(m.headers)["cdi-reason"].decode() for m in dead) == sent
        assert len({dict(m.headers)["cdi-source"] for m in dead}) == total  # one letter per record
        assert worker.total("cdi_dead_letters_total") == total
        stubs = [m for m in dead if dict(m.headers).get("cdi-stub") == b"too_large"]
        assert [int(dict(m.headers)["cdi-size"]) for m in stubs] == [len(b'{"pad": "') + 1_200_000 + 2]
        log = worker.log()
        assert "Crashed" not in log and "crashed" not in log
        assert "John" not in log and "High Street" not in log
        print(f"\n{total} bad records, slowest batch dead-lettered in {slowest:.1f} s")
