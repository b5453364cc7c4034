"""The audit in a real `cdi serve` on a real Kafka broker (issue 12): a registrar draws a sample
of a simulated period in the workbench (the same items `cdi audit sample` draws with the seed),
verdict events round-trip through the case-actions topic into the workbench's database, and the
estimates the workbench shows equal `cdi audit estimate`'s on the same verdict file; /metrics
carries them with bounded labels. Then the same in a real browser: draw, judge, read."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from cdi import backtest
from cdi.audit import population
from cdi.audit.sample import AuditSample
from cdi.audit.verdicts import simulated_review
from cdi.core.times import format_time
from cdi.history import read_lines, write_events
from cdi.publish import publish
from cdi.settings import Settings
from cdi.simulation import SimulationOptions, simulate, write_simulation
from cdi.sources import open_history
from cdi.topics import INPUT_ROLES, Topics, ensure_topics
from tests.audit.conftest import HIDDEN
from tests.stream.worker_process import isolated_settings
from tests.workbench.serve_process import TOKENS, ServeProcess, send_findings, wait_for
from tests.workbench.test_browser import keep, sign_in, until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BREAKDOWN_FLAGS = ["--by", "division", "--by", "offence_group", "--by", "month"]


@dataclass
class Audited:
    settings: Settings
    serve: ServeProcess
    history: Path
    truth: list[dict[str, Any]]
    start: str
    end: str


def end_offsets(settings: Settings, roles: tuple[str, ...]) -> int:
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None)
    try:
        names = [Topics(settings.topic_prefix).name(role) for role in roles]
        tps = [TopicPartition(n, p) for n in names for p in sorted(consumer.partitions_for_topic(n) or ())]
        return sum(consumer.end_offsets(tps).values())
    finally:
        consumer.close()


def applied(serve: ServeProcess) -> float:
    text = httpx.get(f"{serve.url}/metrics", timeout=10).text
    return sum(
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "cdi_workbench_records_total"
    )


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cdi", *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def audited(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Audited]:
    """Eight simulated days with the hidden failure modes, their findings on the findings topic,
    their events on the input topics, and a workbench that has read them all."""
    folder = tmp_path_factory.mktemp("audit-flow")
    history, truth_path = folder / "history.jsonl", folder / "audit-truth.jsonl"
    sim = simulate(SimulationOptions(days=8, seed=4, **HIDDEN))
    write_simulation(sim, history, audit_truth_path=truth_path)
    found = population.build(open_history([history]))
    settings = isolated_settings(kafka_bootstrap)
    ensure_topics(settings)
    raised = [f for f in backtest.run(history).findings if f.type == "finding.raised"]
    send_findings(settings, raised)
    publish(settings, [raw for _, raw in read_lines(history)])
    with ServeProcess(settings) as serve:
        on_topics = end_offsets(settings, (*INPUT_ROLES, "findings"))
        wait_for(lambda: applied(serve) >= on_topics, f"the workbench to read all {on_topics} records", timeout=300)
        yield Audited(settings, serve, history, sim.audit_truth, format_time(found.start), format_time(found.end))


def test_a_sample_drawn_in_the_workbench_and_its_verdicts_give_the_estimates_of_the_command_line(audited, tmp_path):
    serve, settings = audited.serve, audited.settings
    draw = {"from": audited.start, "to": audited.end, "seed": 7, "size": 60, "findings_per_rule": 8, "disposals": 15}
    with serve.client("operator") as operator:
        refused = operator.post("/api/v1/audit/samples", json=draw)
        assert refused.status_code == 403, refused.text  # only the registrar role draws
    with serve.client("registrar") as registrar:
        made = registrar.post("/api/v1/audit/samples", json=draw)
        assert made.status_code == 201, made.text
        sample_id = made.json()["sample_id"]
        assert registrar.post("/api/v1/audit/samples", json=draw).status_code == 409  # one batch per name
        event = registrar.get(f"/api/v1/audit/samples/{sample_id}").json()["sample"]
    assert event["payload"]["drawn_by"] == TOKENS["registrar"][0]
    sample_path = tmp_path / "sample.jsonl"
    write_events(sample_path, [event])
    # The command line draws the same items from the history file with the same seed and period.
    by_cli = tmp_path / "cli-sample.jsonl"
    done = cli(
        "audit", "sample", str(audited.history), "--out", str(by_cli), "--seed", "7", "--size", "60",
        "--findings-per-rule", "8", "--disposals", "15", "--from", audited.start, "--to", audited.end,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    mine = AuditSample.from_event(event)
    theirs = AuditSample.from_event(orjson.loads(by_cli.read_bytes()))
    assert (mine.items, mine.design, mine.start, mine.end) == (theirs.items, theirs.design, theirs.start, theirs.end)

    # Verdicts from the simulated reviewer, sent to the case-actions topic as any client would.
    review = simulated_review(mine, audited.truth, error_rate=0.05, seed=3, reviewer="FCR-9")
    verdicts_path = tmp_path / "verdicts.jsonl"
    write_events(verdicts_path, review.events)
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap, acks="all")
    for v in review.events:
        producer.send(Topics(settings.topic_prefix).name("case-actions"), key=sample_id.encode(), value=orjson.dumps(v))
    producer.flush()
    producer.close()
    with serve.client("viewer") as viewer:

        def judged() -> int:
            tasks = viewer.get(f"/api/v1/audit/samples/{quote(sample_id, safe='')}").json()["tasks"]
            return sum(1 for t in tasks if t["verdict"] is not None)

        wait_for(lambda: judged() == len(review.events), "every verdict in the workbench's view")
        got = viewer.get(f"/api/v1/audit/samples/{sample_id}/estimates").json()
    expected = cli(
        "audit", "estimate", str(audited.history), "--verdicts", str(verdicts_path), "--sample", str(sample_path),
        "--json", *BREAKDOWN_FLAGS,
    )  # fmt: skip
    assert expected.returncode == 0, expected.stderr
    notes = got.pop("notes")
    assert got == orjson.loads(expected.stdout)
    assert notes == {"verdicts_not_in_population": 0, "strata_differing_from_design": []}
    accuracy = got["recording_accuracy"]
    assert accuracy["low"] < accuracy["estimate"] < accuracy["high"]
    # And `cdi report` on the same verdict file shows the workbench's figures.
    page = tmp_path / "report.html"
    done = cli(
        "report",
        str(audited.history),
        "--out",
        str(page),
        "--verdicts",
        str(verdicts_path),
        "--sample",
        str(sample_path),
    )
    assert done.returncode == 0, done.stderr
    row = re.search(r'<tr id="audit-recording-accuracy">(.*?)</tr>', page.read_text(), re.S)
    assert row is not None
    cells = [unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.S)]
    share = f"{accuracy['estimate'] * 100:.1f}%"
    assert cells[1:3] == [share, f"{accuracy['low'] * 100:.1f}% to {accuracy['high'] * 100:.1f}%"]

    # /metrics: the newest sample's figures, labels from closed sets only.
    def gauges() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        text = httpx.get(f"{serve.url}/metrics", timeout=10).text
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(text)
            for s in f.samples
            if s.name.startswith("cdi_audit_")
        }

    key = ("cdi_audit_recording_accuracy_ratio", (("bound", "estimate"), ("pipeline", settings.namespace)))
    wait_for(lambda: key in gauges(), "the audit figures on /metrics")
    shown = gauges()
    assert shown[key] == pytest.approx(accuracy["estimate"])
    labels = {k for _, pairs in shown for k, _ in pairs}
    assert labels <= {"pipeline", "bound", "rule", "division", "kind"}
    assert not any(sample_id in v or "FCR" in v for _, pairs in shown for _, v in pairs)

    # A verdict through the API: registrar only; it replaces the standing one on its item.
    item = mine.items[0]
    body = {"sample_id": sample_id, "kind": item.kind, "item_id": item.id}
    body |= {"incident": {"verdict": "no_crime", "crime_recorded": False}, "finding": {"verdict": "confirmed"}}.get(
        item.kind, {"verdict": "appropriate"}
    )
    with serve.client("operator") as operator:
        assert operator.post("/api/v1/audit/verdicts", json=body).status_code == 403
    with serve.client("registrar") as registrar:
        wrong = registrar.post(
            "/api/v1/audit/verdicts", json={**body, "verdict": "appropriate" if item.kind != "disposal" else "crime"}
        )
        assert wrong.status_code == 422, wrong.text
        saved = registrar.post("/api/v1/audit/verdicts", json=body)
        assert saved.status_code == 201, saved.text
        task = registrar.get(f"/api/v1/audit/samples/{sample_id}/items/{item.kind}/{quote(item.id, safe='/')}").json()
    assert task["verdict"]["event_id"] == saved.json()["event_id"] and task["verdict"]["by"] == TOKENS["registrar"][0]
    assert len(task["trail"]) == 2


def test_a_registrar_draws_judges_and_reads_the_estimates_in_the_browser(audited, chromium: Chrome) -> None:
    serve = audited.serve
    driver = chromium
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.get(f"{serve.url}/audit")
    sign_in(driver, TOKENS["registrar"][1])
    form = until(driver, lambda d: d.find_element(By.ID, "draw"), "the draw form")
    start, end = audited.start[:10], audited.end[:10]
    for name, value in {
        "seed": "21",
        "size": "30",
        "findings_per_rule": "3",
        "disposals": "5",
        "name": "browser-audit",
    }.items():
        field = form.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    # Date inputs take the value through script: their typed format depends on the browser's locale.
    driver.execute_script("arguments[0].value = arguments[1]; arguments[2].value = arguments[3];",
                          form.find_element(By.NAME, "from"), start, form.find_element(By.NAME, "to"), end)  # fmt: skip
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    until(driver, lambda d: d.current_url.endswith("/audit/samples/browser-audit"), "the new sample's page")
    tasks = until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#tasks tbody tr"), "the review tasks")
    count = len(tasks)
    assert count > 0
    # Judge the first three tasks; each verdict leads to the next task without a verdict.
    driver.find_element(By.CSS_SELECTOR, "#tasks tbody tr a").click()
    for n in range(3):
        form = until(driver, lambda d: d.find_element(By.ID, "verdict"), "the verdict form")
        kind = form.find_element(By.NAME, "kind").get_attribute("value")
        here = driver.current_url
        first = form.find_elements(By.CSS_SELECTOR, "input[name=verdict]")[0]  # crime, confirmed or appropriate
        first.click()
        if kind == "incident":
            form.find_element(By.CSS_SELECTOR, "input[name=crime_recorded][value=no]").click()
            Select(form.find_element(By.NAME, "offence_group")).select_by_value("theft_offences")
        form.find_element(By.NAME, "note").send_keys(f"browser verdict {n + 1}")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        until(driver, lambda d, here=here: d.current_url != here, "the next task after a verdict")
        if n == 0:
            keep(driver, "workbench-audit-task")
    driver.get(f"{serve.url}/audit/samples/browser-audit")
    until(driver, lambda d: d.find_element(By.ID, "judged-count").text == "3", "three verdicts on the sample page")
    table = driver.find_element(By.ID, "estimates")
    assert "Recording accuracy" in table.text and "Blind-spot rate" in table.text
    keep(driver, "workbench-audit-sample")
    with serve.client("viewer") as viewer:
        standing = [t for t in viewer.get("/api/v1/audit/samples/browser-audit").json()["tasks"] if t["verdict"]]
    assert len(standing) == 3 and {t["verdict"]["by"] for t in standing} == {TOKENS["registrar"][0]}
    assert sorted(t["verdict"]["note"] for t in standing) == [f"browser verdict {n}" for n in (1, 2, 3)]
