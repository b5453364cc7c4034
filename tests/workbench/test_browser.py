"""The case workbench's pages in a real headless Chromium, against a real `cdi serve` fed by a
real worker on a real Kafka broker: sign in, watch findings arrive in the list without a reload
while a simulated history streams, filter it, open a case's timeline, acknowledge and assign it,
find exactly those actions on the case-actions topic, then filter to the findings for review. A
viewer reads a case but gets no action forms, and a page without a session goes to the sign-in
form.

Screenshots of the list and of a case go to tests/artefacts/ (workbench-list.png,
workbench-case.png); with CDI_UPDATE_DOCS_IMAGES=1 they are also copied to docs/images/, where
the README shows them (CI leaves that unset, so a run never dirties the checkout).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import orjson
import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from cdi import backtest
from cdi.core.times import parse_time
from cdi.history import read_lines, write_events
from cdi.publish import Published, publish
from cdi.simulation import SimulationOptions, simulate
from tests.browsers.chromium import save_screenshot
from tests.stream.worker_process import WorkerProcess, isolated_settings, read_topic
from tests.workbench.serve_process import TOKENS, ServeProcess, all_findings, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
VIEWPORT = (1400, 900)  # the screenshots' size
PUBLISH_SECONDS = 15.0  # the history streams for about this long, so the list visibly fills up
PAGE_SIZE = 50  # the list page's page (cdi.workbench.pages.PAGE_SIZE)
OPERATOR, OPERATOR_TOKEN = TOKENS["operator"]

ROWS_JS = """
return Array.from(document.querySelectorAll("tbody#case-rows tr[data-finding-id]")).map(
  (tr) => [tr.dataset.findingId, tr.querySelector(".rule").textContent.trim()]);
"""
# Each row's review badge text, or null on a breach.
BADGES_JS = """
return Array.from(document.querySelectorAll("tbody#case-rows tr[data-finding-id]")).map(
  (tr) => { const b = tr.querySelector(".badge-review"); return b ? b.textContent.trim() : null; });
"""
TOTAL_JS = "const t = document.getElementById('total'); return t ? t.textContent.trim() : null;"
# Neither a request in flight nor a swap settling: the page shows what it is going to show.
HTMX_IDLE_JS = "return !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling');"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[bytes], set[str]]:
    """A three-day history's lines and the ids of the findings the offline backtest raises."""
    sim = simulate(SimulationOptions(days=3, seed=23))
    path = tmp_path_factory.mktemp("browser") / "history.jsonl"
    write_events(path, sim.events)
    raised = {f.payload.finding_id for f in backtest.run(path).findings if f.type == "finding.raised"}
    assert len(raised) > 60, "the history must raise enough findings to fill more than a page"
    return [raw for _, raw in read_lines(path)], raised


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str) -> Iterator[tuple[Any, ServeProcess]]:
    """A worker and `cdi serve` on a namespace of their own, started before anything is published."""
    settings = isolated_settings(kafka_bootstrap)
    with WorkerProcess(settings), ServeProcess(settings) as serve:
        yield settings, serve


@pytest.fixture
def browser(chromium: Chrome) -> Iterator[Chrome]:
    """The session's Chromium with no cookies and a 1400x900 viewport (restored afterwards)."""
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})
    before = chromium.get_window_size()
    chromium.get("about:blank")
    frame = chromium.execute_script("return [outerWidth - innerWidth, outerHeight - innerHeight]")
    chromium.set_window_size(VIEWPORT[0] + frame[0], VIEWPORT[1] + frame[1])
    try:
        yield chromium
    finally:
        chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})
        chromium.set_window_size(before["width"], before["height"])


def until(driver: Chrome, condition: Callable[[Chrome], Any], what: str, timeout: float = 60) -> Any:
    """Wait for ``condition`` (never a sleep); a timeout fails with what was last seen and leaves
    a screenshot in tests/artefacts/."""
    seen: list[Any] = []

    def probe(d: Chrome) -> Any:
        value = condition(d)
        seen[:] = [value]
        return value

    try:
        return WebDriverWait(
            driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
        ).until(probe)
    except TimeoutException:
        shot = save_screenshot(driver, "workbench-failure")
        raise AssertionError(
            f"timed out after {timeout:.0f} s waiting for {what} at {driver.current_url} "
            f"(last seen: {seen[0] if seen else 'nothing'!r}; screenshot {shot})"
        ) from None


def rows(driver: Chrome) -> list[list[str]]:
    return driver.execute_script(ROWS_JS)


def total(driver: Chrome) -> int | None:
    text = driver.execute_script(TOTAL_JS)
    return int(text) if text else None


def path_of(driver: Chrome) -> str:
    return urlsplit(driver.current_url).path


def keep(driver: Chrome, name: str) -> Path:
    """A screenshot in tests/artefacts/, and in docs/images/ when CDI_UPDATE_DOCS_IMAGES=1."""
    shot = save_screenshot(driver, name)
    if os.environ.get("CDI_UPDATE_DOCS_IMAGES") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_IMAGES / shot.name)
    return shot


def sign_in(driver: Chrome, token: str) -> None:
    field = until(driver, lambda d: d.find_element(By.ID, "token"), "the sign-in form")
    field.send_keys(token, Keys.ENTER)  # typed and submitted from the keyboard


def publish_in_background(settings: Any, lines: list[bytes], speed: float | None) -> tuple[threading.Thread, dict]:
    outcome: dict[str, Published | BaseException] = {}

    def run() -> None:
        try:
            outcome["published"] = publish(settings, lines, speed=speed)
        except BaseException as exc:  # handed to the test, which fails with it
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="publish-history", daemon=True)
    thread.start()
    return thread, outcome


def test_findings_stream_into_the_list_and_a_case_is_worked_in_the_browser(stack, history, browser):
    settings, serve = stack
    lines, raised = history
    times = [parse_time(orjson.loads(raw)["occurred_at"]) for raw in lines]
    speed = (max(times) - min(times)) / 1000 / PUBLISH_SECONDS

    # 1. Sign in with the operator's token; the sign-in form sends us on to the list.
    browser.get(f"{serve.url}/cases")
    until(browser, lambda d: path_of(d) == "/signin", "the redirect to the sign-in page")
    assert parse_qs(urlsplit(browser.current_url).query) == {"next": ["/cases"]}
    sign_in(browser, OPERATOR_TOKEN)
    until(browser, lambda d: path_of(d) == "/cases" and total(d) is not None, "the case list")
    assert rows(browser) == [] and total(browser) == 0, "nothing is published yet"
    assert f"{OPERATOR} · operator" in browser.find_element(By.CSS_SELECTOR, ".who").text
    origin = browser.execute_script("window.cdiSamePage = true; return performance.timeOrigin")
    until(browser, lambda d: d.find_element(By.ID, "live").text == "updating live", "the change stream to open")

    # 2. Publish while the page is open: rows appear and the total grows, with no reload.
    publisher, outcome = publish_in_background(settings, lines, speed)
    try:
        totals: list[int] = []

        def grown(d: Chrome) -> bool:
            totals.append(total(d) or 0)
            first = next((t for t in totals if t > 0), None)
            return bool(rows(d)) and first is not None and totals[-1] > first

        until(browser, grown, "finding rows to appear and the total to grow", timeout=90)
        assert browser.execute_script("return window.cdiSamePage === true && performance.timeOrigin") == origin
        publisher.join(timeout=180)
    finally:
        publisher.join(timeout=180)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["published"].events == len(lines)

    with serve.client("viewer") as api:
        wait_for(lambda: len(all_findings(api, limit=500)) == len(raised), "the view to hold every finding")
        open_total = api.get("/api/v1/counts", params={"status": "open"}).json()["total"]
        first_page = [i["finding_id"] for i in api.get("/api/v1/findings", params={"status": "open"}).json()["items"]]
        until(browser, lambda d: total(d) == open_total, f"#total to reach the API's {open_total} open findings")
        until(browser, lambda d: [r[0] for r in rows(d)] == first_page, "the rows to equal the API's first page")
        assert len(first_page) == min(PAGE_SIZE, open_total)
        assert len(set(totals)) >= 3 and next(t for t in totals if t > 0) < open_total, totals
        assert browser.execute_script("return window.cdiSamePage === true && performance.timeOrigin") == origin
        until(browser, lambda d: d.execute_script(HTMX_IDLE_JS), "the list to settle")
        keep(browser, "workbench-list")

        # 3. Filter by the commonest open rule and, within it, its commonest division.
        counts = api.get("/api/v1/counts", params={"status": "open"}).json()["items"]
        by_rule = Counter({c["rule"]: 0 for c in counts})
        for c in counts:
            by_rule[c["rule"]] += c["count"]
        rule = by_rule.most_common(1)[0][0]
        division = max((c for c in counts if c["rule"] == rule), key=lambda c: (c["count"], c["division"]))["division"]
        Select(browser.find_element(By.ID, "f-rule")).select_by_value(rule)
        field = browser.find_element(By.ID, "f-division")
        field.clear()
        field.send_keys(division)
        browser.find_element(By.ID, "apply-filters").click()
        until(browser, lambda d: parse_qs(urlsplit(d.current_url).query).get("rule") == [rule], "the filtered list")
        filtered = api.get("/api/v1/findings", params={"rule": rule, "division": division, "status": "open"}).json()
        expected = [i["finding_id"] for i in filtered["items"]]
        assert expected, "the filter must match something"
        shown = until(browser, lambda d: (r := rows(d)) and [i for i, _ in r] == expected and r, "the filtered rows")
        assert {code for _, code in shown} == {rule}
        assert Select(browser.find_element(By.ID, "f-rule")).first_selected_option.get_attribute("value") == rule
        assert browser.find_element(By.ID, "f-division").get_attribute("value") == division
        assert total(browser) == sum(c["count"] for c in counts if c["rule"] == rule and c["division"] == division)

        # 4. Open the newest of them: its timeline is the API's, in order, under the rule's meaning.
        fid = expected[0]
        until(browser, lambda d: d.find_element(By.ID, f"open-{fid}").click() or True, "the case link to click")
        until(browser, lambda d: path_of(d) == f"/cases/{quote(fid)}", "the case page")
        case = api.get(f"/api/v1/findings/{fid}").json()
        meanings = {r["rule"]: r["summary"] for r in api.get("/api/v1/rules").json()["items"]}
    timeline = browser.execute_script(
        "return Array.from(document.querySelectorAll('#timeline > li')).map((li) => li.dataset.eventId)"
    )
    assert timeline == [e["event_id"] for e in case["timeline"]] and timeline
    assert browser.find_element(By.ID, "rule-meaning").text == meanings[rule] and meanings[rule]
    assert rule in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_element(By.ID, "explanation").text == case["explanation"]

    # 5. Acknowledge, then assign to a team: the casework panel shows both, in place.
    casework = lambda d: d.find_element(By.ID, "casework").text  # noqa: E731
    until(browser, lambda d: d.find_element(By.ID, "acknowledge").click() or True, "the acknowledge button")
    until(browser, lambda d: f"acknowledged by {OPERATOR}" in casework(d), "the acknowledgement to show")
    # A live refresh may still be swapping the panel in: let it finish before filling the form.
    until(browser, lambda d: d.execute_script(HTMX_IDLE_JS), "the panel to settle")
    assert browser.find_elements(By.ID, "acknowledge") == [], "an acknowledged case offers no second acknowledge"
    Select(browser.find_element(By.ID, "assignee-kind")).select_by_value("team")
    browser.find_element(By.ID, "assignee-ref").send_keys("NORTH-CMU")
    browser.find_element(By.ID, "assign").click()
    until(
        browser,
        lambda d: d.find_elements(By.ID, "assignee") and d.find_element(By.ID, "assignee").text == "NORTH-CMU",
        "the assignee to show",
    )
    assert "with team NORTH-CMU" in casework(browser)
    assert f"acknowledged by {OPERATOR}" in casework(browser)
    trail = browser.execute_script(
        "return Array.from(document.querySelectorAll('#trail > li[data-action-id] strong')).map((s) => s.textContent)"
    )
    assert trail == ["acknowledge", "assign"]
    assert browser.execute_script("return window.cdiSamePage") is None, "the case page is a page of its own"
    until(browser, lambda d: d.execute_script(HTMX_IDLE_JS), "the case page to settle")
    keep(browser, "workbench-case")

    # The topic holds exactly these two actions, keyed by the finding, in order.
    messages = read_topic(settings, "case-actions", until=2, timeout=30)
    assert len(messages) == 2, [m.value for m in messages]
    assert [m.key.decode() for m in messages] == [fid, fid]
    payloads = [orjson.loads(m.value)["payload"] for m in messages]
    assert [p["action"] for p in payloads] == ["acknowledge", "assign"]
    assert all(p["by"] == OPERATOR and p["role"] == "operator" and p["finding_id"] == fid for p in payloads)
    assert "assignee" not in payloads[0]
    assert payloads[1]["assignee"] == {"kind": "team", "ref": "NORTH-CMU"}

    # 6. The findings for review, through the assessment filter: each row wears the review badge,
    # and the header counts them apart from the breaches.
    browser.get(f"{serve.url}/cases")
    until(browser, lambda d: total(d) is not None, "the case list")
    Select(browser.find_element(By.ID, "f-assessment")).select_by_value("review")
    browser.find_element(By.ID, "apply-filters").click()
    until(browser, lambda d: parse_qs(urlsplit(d.current_url).query).get("assessment") == ["review"], "the filter")
    with serve.client("viewer") as api:
        listed = api.get("/api/v1/findings", params={"assessment": "review", "status": "open"}).json()["items"]
    expected = [i["finding_id"] for i in listed]
    assert expected, "seed 23 leaves findings for review open"
    until(browser, lambda d: [r[0] for r in rows(d)] == expected, "the rows for review")
    assert browser.execute_script(BADGES_JS) == ["review"] * len(expected)
    assert browser.find_element(By.ID, "total-reviews").text == str(len(expected))
    assert browser.find_element(By.ID, "total-breaches").text == "0"
    assert Select(browser.find_element(By.ID, "f-assessment")).first_selected_option.get_attribute("value") == "review"


def test_a_viewer_reads_a_case_without_action_forms_and_no_session_means_sign_in(stack, history, browser):
    settings, serve = stack
    lines, raised = history
    with serve.client("viewer") as api:
        if not api.get("/api/v1/findings", params={"limit": 1}).json()["items"]:  # run on its own
            publish(settings, lines)
        wait_for(lambda: len(all_findings(api, limit=500)) == len(raised), "the view to hold every finding")
        fid = api.get("/api/v1/findings", params={"status": "open", "limit": 1}).json()["items"][0]["finding_id"]

    browser.get(f"{serve.url}/cases")
    until(browser, lambda d: path_of(d) == "/signin", "the redirect to the sign-in page")
    assert parse_qs(urlsplit(browser.current_url).query) == {"next": ["/cases"]}
    assert browser.find_elements(By.ID, "case-rows") == []

    # A case page without a session also goes to sign in, and comes back to the case after it.
    browser.get(f"{serve.url}/cases/{quote(fid)}")
    until(browser, lambda d: path_of(d) == "/signin", "the redirect to the sign-in page")
    sign_in(browser, TOKENS["viewer"][1])
    until(browser, lambda d: path_of(d) == f"/cases/{quote(fid)}", "the case page after signing in")
    until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#timeline > li"), "the timeline")
    panel = browser.find_element(By.ID, "casework")
    assert "can read cases but not act on them" in panel.text
    assert browser.find_elements(By.ID, "acknowledge") == []
    assert panel.find_elements(By.TAG_NAME, "form") == []
    assert f"{TOKENS['viewer'][0]} · viewer" in browser.find_element(By.CSS_SELECTOR, ".who").text
    with pytest.raises(NoSuchElementException):
        browser.find_element(By.ID, "assign")

    # The session ends while the page is open: its next live refresh loads the sign-in page
    # (returning to this case) instead of swapping the sign-in form into the casework panel.
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    browser.execute_script("htmx.ajax('GET', arguments[0], '#work-holder')", f"/cases/work?finding_id={quote(fid)}")
    until(browser, lambda d: path_of(d) == "/signin", "the sign-in page once the session has ended")
    assert parse_qs(urlsplit(browser.current_url).query) == {"next": [f"/cases/{quote(fid)}"]}
