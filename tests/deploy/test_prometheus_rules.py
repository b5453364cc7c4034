"""The Prometheus recording and alert rules, their promtool unit tests, the Alertmanager
configuration and the runbooks (deploy/prometheus, deploy/alertmanager, docs/runbooks).

Needs promtool (Debian package ``prometheus``), amtool and the Alertmanager server (Debian
package ``prometheus-alertmanager``) and PyYAML. These tests fail, rather than skip, when one is
missing: CI installs them, and a skipped rule test would let broken alerting through.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cdi.alerting as alerting

ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = ROOT / "deploy" / "prometheus" / "rules"
PROMTOOL_TESTS_DIR = ROOT / "deploy" / "prometheus" / "tests"
ALERTMANAGER_CONFIG = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
ROUTE_CASES = ROOT / "deploy" / "alertmanager" / "tests" / "routes.yml"
RUNBOOKS = ROOT / "docs" / "runbooks"
CATALOGUE = ROOT / "docs" / "alerting.md"

RULE_FILES = sorted(RULES_DIR.glob("*.yml"))
PROMTOOL_TEST_FILES = sorted(PROMTOOL_TESTS_DIR.glob("*.yml"))

# Every alert's runbook_url must be the runbook base of the rules' config
# (deploy/prometheus/alerting.toml, which the rule files are generated from) plus "<alertname>.md".
RUNBOOK_BASE = alerting.load(ROOT / "deploy" / "prometheus" / "alerting.toml").runbook_base

# Dashboards are built on these names (docs/alerting.md): renaming one breaks them.
CONTRACT_RECORDING_RULES = {
    "division_offence_group:cdi_recording_decisions:increase1d",
    "division_offence_group:cdi_recording_compliance:ratio1d",
    "division:cdi_recording_compliance:ratio1d",
    "division_offence_group:cdi_recorded_within_24h:ratio1d",
    "division:cdi_recorded_within_24h:ratio1d",
    "rule_severity:cdi_findings_raised:rate5m",
    "rule_division:cdi_findings_raised:increase1h",
    "division_offence_group:cdi_cancellations_per_crime:ratio30d",
    "division:cdi_rape_cancellations_per_crime:ratio30d",
    "division_offence_group:cdi_outcomes_out_of_court:ratio30d",
    "division_offence_group:cdi_outcomes_16:ratio30d",
    "division:cdi_outcomes_16:ratio30d",
    "division:cdi_reclassifications_down:increase1d",
    "division:cdi_reclassifications_down:increase30d",
    "division:cdi_reclassifications_down:ratio_1d_to_30d_daily_mean",
    "instance:cdi_event_time_lag_seconds:max",
    "topic:cdi_consumer_lag:sum",
}
REQUIRED_ALERTS = {
    "CDIRecordingComplianceLow",
    "CDICautionIndictableOnly",
    "CDIPenaltyNoticeIneligible",
    "CDICancellationWithoutGrounds",
    "CDIRapeCancellationRateHigh",
    "CDIOutcome16Outlier",
    "CDIPeriodEndReclassificationSpike",
    "CDIMonitorDown",
    "CDIWatermarkStalled",
    "CDIProcessingLagHigh",
    "CDIConsumerLagHigh",
    "CDIDeadLettersRising",
    "CDIWatchdog",
    "CDICriticalCaseUnacknowledged",
    "CDIHighCasesUnacknowledged",
    "CDIWorkbenchDown",
    "CDIRulePrecisionLow",
}
KINDS = {"case", "audit", "pipeline", "watchdog"}
SEVERITIES = {"critical", "warning"}

# Replays (workers started with CDI_NAMESPACE=<name>) label their series pipeline="<name>",
# live workers pipeline="live"; Alertmanager sends the alerts of any pipeline but live to a
# receiver without integrations.
LIVE = "live"
DISCARD_RECEIVER = "discard"
# The one kind of join that may leave the pipeline out: per target (job, instance), which is one
# worker and so one pipeline, as with Prometheus' own `up`, which has no pipeline label.
PER_TARGET = {"job", "instance"}

DURATION = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
DURATION_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


# -- helpers ------------------------------------------------------------------------------


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed: install the Debian package {package!r} "
            f"(apt-get install -y {package}); CI installs it",
            pytrace=False,
        )
    return path


def load_yaml(path: Path) -> Any:
    try:
        import yaml
    except ImportError:
        pytest.fail("PyYAML is not installed: pip install pyyaml (it reads the rule and test files)", pytrace=False)
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def seconds(duration: str) -> float:
    parts = DURATION.findall(duration)
    assert parts and "".join(n + u for n, u in parts) == duration, f"not a Prometheus duration: {duration!r}"
    return sum(int(n) * DURATION_SECONDS[u] for n, u in parts)


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def rules(kind: str) -> list[dict[str, Any]]:
    """Every rule with a ``kind`` key ("record" or "alert") in the rule files, with its group."""
    found = []
    for path in RULE_FILES:
        for group in load_yaml(path)["groups"]:
            for rule in group["rules"]:
                if kind in rule:
                    found.append({**rule, "_group": group["name"], "_file": path.name})
    return found


def promtool_tests() -> list[tuple[Path, dict[str, Any], dict[str, Any]]]:
    """(file, file document, test group) for every test group of every promtool test file."""
    return [(path, doc, group) for path in PROMTOOL_TEST_FILES for doc in [load_yaml(path)] for group in doc["tests"]]


# -- the rule files -----------------------------------------------------------------------


def test_the_rule_and_test_files_are_there() -> None:
    assert {p.name for p in RULE_FILES} >= {"recording.yml", "alerts.yml"}
    assert PROMTOOL_TEST_FILES, f"no promtool test files in {PROMTOOL_TESTS_DIR}"


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_promtool_check_rules(path: Path) -> None:
    promtool = tool("promtool", "prometheus")
    result = run(promtool, "check", "rules", str(path))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "SUCCESS" in output, output


@pytest.mark.parametrize("path", PROMTOOL_TEST_FILES, ids=lambda p: p.name)
def test_promtool_test_rules(path: Path) -> None:
    promtool = tool("promtool", "prometheus")
    result = run(promtool, "test", "rules", path.name, cwd=path.parent)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "SUCCESS" in output and "FAILED" not in output, output


def label_lists(expr: str) -> list[tuple[str, set[str]]]:
    """("by" | "on", labels) for every aggregation and vector matching clause of an expression."""
    return [
        (keyword, {label.strip() for label in labels.split(",") if label.strip()})
        for keyword, labels in re.findall(r"\b(by|on|without|ignoring)\s*\(([^)]*)\)", expr)
    ]


@pytest.mark.parametrize("kind", ["record", "alert"])
def test_every_aggregation_and_join_keeps_pipelines_apart(kind: str) -> None:
    """A replay runs beside live traffic: a rule that sums, compares or joins across the pipeline
    label would mix them. So every `by` and `on` names pipeline (or joins per target), and no
    rule pools everything into a scalar."""
    for rule in rules(kind):
        name, expr = rule[kind], rule["expr"]
        assert "scalar(" not in expr, f"{name}: scalar() pools every pipeline"
        for keyword, labels in label_lists(expr):
            assert keyword in {"by", "on"}, f"{name}: {keyword}() may drop or ignore pipeline; list the labels"
            assert "pipeline" in labels or labels == PER_TARGET, f"{name}: {keyword} ({', '.join(sorted(labels))})"


def test_recording_rules_keep_their_names() -> None:
    names = [r["record"] for r in rules("record")]
    assert len(names) == len(set(names)), "a recording rule name is defined twice"
    assert set(names) >= CONTRACT_RECORDING_RULES, f"missing: {sorted(CONTRACT_RECORDING_RULES - set(names))}"
    for name in names:
        assert re.fullmatch(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", name), f"{name} is not level:metric:operation"


def test_every_rule_group_runs_every_minute() -> None:
    for path in RULE_FILES:
        for group in load_yaml(path)["groups"]:
            assert group.get("interval") == "1m", f"{path.name}: group {group['name']} interval"


def test_every_alert_carries_routing_labels_annotations_and_a_runbook() -> None:
    alerts = rules("alert")
    assert {a["alert"] for a in alerts} >= REQUIRED_ALERTS, f"missing: {REQUIRED_ALERTS - {a['alert'] for a in alerts}}"
    for alert in alerts:
        name = alert["alert"]
        assert "for" in alert, f"{name}: no `for`"
        seconds(alert["for"])
        if "keep_firing_for" in alert:
            seconds(alert["keep_firing_for"])
        labels = alert.get("labels", {})
        assert labels.get("kind") in KINDS, f"{name}: kind label {labels.get('kind')!r}"
        if labels["kind"] == "watchdog":
            assert labels.get("severity") == "none", f"{name}: the watchdog's severity is none"
        else:
            assert labels.get("severity") in SEVERITIES, f"{name}: severity label {labels.get('severity')!r}"
        annotations = alert.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            assert str(annotations.get(key, "")).strip(), f"{name}: no {key} annotation"
        if labels["kind"] != "watchdog":
            text = annotations["summary"] + annotations["description"]
            assert "$labels" in text or "$value" in text, f"{name}: summary and description are not templated"
        assert annotations["runbook_url"] == f"{RUNBOOK_BASE}{name}.md", f"{name}: runbook_url"
        runbook = RUNBOOKS / f"{name}.md"
        assert runbook.is_file(), f"{name}: {runbook.relative_to(ROOT)} does not exist"
        assert name in runbook.read_text(encoding="utf-8").splitlines()[0], f"{runbook.name}: title"


def test_every_case_alert_links_to_the_workbench_with_its_pipeline() -> None:
    for alert in rules("alert"):
        if alert["labels"]["kind"] != "case":
            continue
        url = str(alert["annotations"].get("workbench_url", ""))
        assert "deploy:cdi_workbench:info" in url and "/cases?" in url, f"{alert['alert']}: no workbench_url"
        assert "pipeline={{ $labels.pipeline }}" in url and "status=open" in url, alert["alert"]


def test_every_runbook_belongs_to_an_alert() -> None:
    alerts = {a["alert"] for a in rules("alert")}
    orphans = {p.stem for p in RUNBOOKS.glob("*.md")} - alerts
    assert not orphans, f"runbooks without an alert: {sorted(orphans)}"


def test_the_catalogue_lists_every_rule() -> None:
    text = CATALOGUE.read_text(encoding="utf-8")
    missing = [r["record"] for r in rules("record") if f"`{r['record']}`" not in text]
    missing += [a["alert"] for a in rules("alert") if f"`{a['alert']}`" not in text]
    assert not missing, f"not in {CATALOGUE.relative_to(ROOT)}: {sorted(set(missing))}"


# -- coverage of the promtool unit tests --------------------------------------------------


def test_every_recording_rule_has_an_exact_promql_test() -> None:
    tested: set[str] = set()
    for _, _, group in promtool_tests():
        for case in group.get("promql_expr_test", []):
            if case.get("exp_samples"):
                tested.update(re.findall(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", case["expr"]))
    untested = sorted({r["record"] for r in rules("record")} - tested)
    assert not untested, f"recording rules without a promql_expr_test with expected samples: {untested}"


def test_every_alert_is_tested_firing_not_firing_and_at_its_for_boundary() -> None:
    """Each alert has a test group in which it is expected absent at some time and firing
    at most one minute later: the moment its `for` has passed (the comments in the test files
    give the arithmetic), besides cases where it must not fire."""
    evidence: dict[str, dict[str, bool]] = {}
    for _, _, group in promtool_tests():
        cases = group.get("alert_rule_test", [])
        for case in cases:
            seen = evidence.setdefault(case["alertname"], {"fires": False, "silent": False, "boundary": False})
            at = seconds(case["eval_time"])
            if case.get("exp_alerts"):
                seen["fires"] = True
                seen["boundary"] |= any(
                    other["alertname"] == case["alertname"]
                    and not other.get("exp_alerts")
                    and 0 < at - seconds(other["eval_time"]) <= 60
                    for other in cases
                )
            else:
                seen["silent"] = True
    for name in sorted({a["alert"] for a in rules("alert")}):
        seen = evidence.get(name)
        assert seen, f"{name}: no alert_rule_test"
        assert seen["fires"], f"{name}: never expected to fire"
        assert seen["silent"], f"{name}: never expected not to fire"
        assert seen["boundary"], f"{name}: no not-yet-firing case one minute before a firing one"


def test_promtool_tests_label_worker_series_and_alerts_with_a_pipeline() -> None:
    """Inputs look like what Prometheus scrapes: every worker series carries pipeline (`up` is
    Prometheus' own and does not), and every expected alert carries one too; some tests put a
    replay beside live traffic."""
    pipelines: set[str] = set()
    for path, _, group in promtool_tests():
        for series in group.get("input_series", []):
            selector = series["series"]
            if selector.startswith("up{"):
                assert "pipeline=" not in selector, f"{path.name} / {group['name']}: `up` has no pipeline label"
                continue
            match = re.search(r'[{,]pipeline="([^"]+)"', selector)
            assert match, f"{path.name} / {group['name']}: {selector} has no pipeline label"
            pipelines.add(match.group(1))
        for case in group.get("alert_rule_test", []):
            for alert in case.get("exp_alerts") or []:
                assert "pipeline" in alert["exp_labels"], f"{path.name} / {group['name']}: {case['alertname']}"
    assert LIVE in pipelines and len(pipelines) > 1, "no promtool test runs a replay beside live traffic"


def test_promtool_tests_evaluate_recording_rules_before_alerts() -> None:
    """promtool evaluates groups in an unspecified order unless group_eval_order lists them;
    alerts read recording rules, so every test file that loads alerts fixes the order."""
    alert_groups = {g["name"] for g in load_yaml(RULES_DIR / "alerts.yml")["groups"]}
    for path in PROMTOOL_TEST_FILES:
        doc = load_yaml(path)
        loaded = [(path.parent / f).resolve() for f in doc["rule_files"]]
        groups = [g["name"] for f in loaded for g in load_yaml(f)["groups"]]
        if not any(f.name == "alerts.yml" for f in loaded):
            continue
        order = doc.get("group_eval_order")
        assert order is not None and sorted(order) == sorted(groups), f"{path.name}: group_eval_order"
        first_alert = min(i for i, g in enumerate(order) if g in alert_groups)
        assert all(g in alert_groups for g in order[first_alert:]), f"{path.name}: recording groups first"


# -- Alertmanager -------------------------------------------------------------------------


def test_amtool_check_config() -> None:
    amtool = tool("amtool", "prometheus-alertmanager")
    result = run(amtool, "check-config", str(ALERTMANAGER_CONFIG))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "SUCCESS" in output, output


def route_cases() -> list[dict[str, Any]]:
    try:
        import yaml
    except ImportError:  # collection must not fail here; the tests fail in load_yaml
        return [{"name": "PyYAML missing", "labels": {}, "receivers": []}]
    return yaml.safe_load(ROUTE_CASES.read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", route_cases(), ids=lambda c: c["name"])
def test_amtool_routes(case: dict[str, Any]) -> None:
    amtool = tool("amtool", "prometheus-alertmanager")
    load_yaml(ROUTE_CASES)
    expected = ",".join(case["receivers"])
    labels = [f"{k}={v}" for k, v in case["labels"].items()]
    result = run(
        amtool,
        "config",
        "routes",
        "test",
        f"--config.file={ALERTMANAGER_CONFIG}",
        f"--verify.receivers={expected}",
        *labels,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == expected


def test_the_route_cases_cover_every_kind_and_severity_of_alert() -> None:
    cases = {(c["labels"].get("kind"), c["labels"].get("severity")) for c in load_yaml(ROUTE_CASES)["cases"]}
    for alert in rules("alert"):
        pair = (alert["labels"]["kind"], alert["labels"]["severity"])
        assert pair in cases, f"{alert['alert']}: no route case for kind={pair[0]}, severity={pair[1]}"


def test_the_route_cases_send_every_kind_and_severity_of_replay_alert_nowhere() -> None:
    """A replay must never page or notify: each kind and severity of alert a replay can raise
    has a route case with a non-live pipeline, and every such case reaches the discard receiver
    only. (The Watchdog is fixed to pipeline="live".)"""
    cases = load_yaml(ROUTE_CASES)["cases"]
    replay = [c for c in cases if c["labels"].get("pipeline", LIVE) != LIVE]
    for case in replay:
        assert case["receivers"] == [DISCARD_RECEIVER], f"{case['name']}: a replay's alert must reach no one"
    covered = {(c["labels"]["kind"], c["labels"]["severity"]) for c in replay}
    for alert in rules("alert"):
        if alert["labels"].get("pipeline") == LIVE:
            continue
        pair = (alert["labels"]["kind"], alert["labels"]["severity"])
        assert pair in covered, f"{alert['alert']}: no route case for a replay's kind={pair[0]}, severity={pair[1]}"
    receivers = {r["name"]: r for r in load_yaml(ALERTMANAGER_CONFIG)["receivers"]}
    assert set(receivers[DISCARD_RECEIVER]) == {"name"}, "the discard receiver must have no integrations"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path, data=data, method="GET" if body is None else "POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        text = response.read().decode()
    return json.loads(text) if text.strip() else None


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    binary = tool("prometheus-alertmanager", "prometheus-alertmanager")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={ALERTMANAGER_CONFIG}",
            f"--storage.path={tmp_path}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "alertmanager.log").open("w"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/-/ready", timeout=1).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (tmp_path / "alertmanager.log").read_text()
                    pytest.fail(f"Alertmanager did not start:\n{log}")
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def states(base: str) -> dict[str, str]:
    return {a["labels"]["alertname"]: a["status"]["state"] for a in api(base, "/api/v2/alerts")}


def pipeline_states(base: str) -> dict[tuple[str, str], str]:
    return {
        (a["labels"]["alertname"], a["labels"]["pipeline"]): a["status"]["state"] for a in api(base, "/api/v2/alerts")
    }


def until(condition: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_case_alerts_are_inhibited_while_the_monitor_is_down(alertmanager: str) -> None:
    by_name = {a["alert"]: a["labels"] for a in rules("alert")}

    def alert(name: str, **extra: str) -> dict[str, Any]:
        labels = {"alertname": name, "pipeline": LIVE, **by_name[name], **extra}
        return {"labels": labels, "annotations": {"summary": name}}

    case = [
        alert("CDIRecordingComplianceLow", division="NORTH"),
        alert("CDICautionIndictableOnly", division="NORTH", rule="CAUTION_INDICTABLE_ONLY"),
    ]
    pipeline = [alert("CDIConsumerLagHigh", topic="cdi.incidents"), alert("CDIWatchdog")]
    api(alertmanager, "/api/v2/alerts", case + pipeline)
    assert until(lambda: len(states(alertmanager)) == 4)
    assert set(states(alertmanager).values()) == {"active"}

    api(alertmanager, "/api/v2/alerts", [alert("CDIMonitorDown", job="cdi-monitor", instance="monitor-1:6066")])
    expected = {
        "CDIRecordingComplianceLow": "suppressed",
        "CDICautionIndictableOnly": "suppressed",
        "CDIConsumerLagHigh": "active",
        "CDIWatchdog": "active",
        "CDIMonitorDown": "active",
    }
    assert until(lambda: states(alertmanager) == expected), states(alertmanager)


def test_a_down_worker_holds_only_the_case_alerts_of_its_own_pipeline(alertmanager: str) -> None:
    """A stopped replay worker must not silence live case alerts, nor a down live worker a
    replay's (inhibition is equal on pipeline)."""
    by_name = {a["alert"]: a["labels"] for a in rules("alert")}

    def alert(name: str, pipeline: str, **extra: str) -> dict[str, Any]:
        labels = {"alertname": name, **by_name[name], "pipeline": pipeline, **extra}
        return {"labels": labels, "annotations": {"summary": name}}

    case = [
        alert("CDIRecordingComplianceLow", LIVE, division="NORTH"),
        alert("CDIRecordingComplianceLow", "replay-x", division="NORTH"),
    ]
    api(alertmanager, "/api/v2/alerts", case)
    assert until(lambda: len(pipeline_states(alertmanager)) == 2)

    api(
        alertmanager,
        "/api/v2/alerts",
        [alert("CDIMonitorDown", "replay-x", job="cdi-monitor", instance="replay-1:6067")],
    )
    expected = {
        ("CDIRecordingComplianceLow", LIVE): "active",
        ("CDIRecordingComplianceLow", "replay-x"): "suppressed",
        ("CDIMonitorDown", "replay-x"): "active",
    }
    assert until(lambda: pipeline_states(alertmanager) == expected), pipeline_states(alertmanager)

    api(alertmanager, "/api/v2/alerts", [alert("CDIMonitorDown", LIVE, job="cdi-monitor", instance="monitor-1:6066")])
    expected |= {("CDIRecordingComplianceLow", LIVE): "suppressed", ("CDIMonitorDown", LIVE): "active"}
    assert until(lambda: pipeline_states(alertmanager) == expected), pipeline_states(alertmanager)
