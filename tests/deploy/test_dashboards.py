"""The Grafana dashboards (services/cdi/dashboards/ -> deploy/grafana/dashboards/): the committed JSON
is what the code generates, every panel is complete (datasource, title, description, query), the
uids are stable, every series a query reads exists (docs/metrics.md, Faust's sensor, `up`,
`ALERTS` or a named recording rule) and is filtered by the `pipeline` variable, the control
room's findings panels link to their cases in the case workbench, and the provisioning files
point Grafana at them."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest
import yaml

import cdi.dashboards as dashboards

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD_DIR = ROOT / "deploy" / "grafana" / "dashboards"
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
COMPOSE = ROOT / "deploy" / "docker-compose.yml"
RULES_DIR = ROOT / "deploy" / "prometheus" / "rules"
METRICS_DOC = ROOT / "docs" / "metrics.md"
DASHBOARDS_DOC = ROOT / "docs" / "dashboards.md"

#: File name -> (uid, title). Uids are in URLs, links and bookmarks: never change them.
EXPECTED = {
    "control-room.json": ("cdi-control-room", "CDI Monitor — Control room"),
    "performance.json": ("cdi-performance", "CDI Monitor — Recording and outcomes"),
    "pipeline-health.json": ("cdi-pipeline-health", "CDI Monitor — Pipeline health"),
    "audit.json": ("cdi-audit", "CDI Monitor — Audit"),
}

#: The Prometheus recording rules the dashboards may read (written under deploy/prometheus/rules/).
RECORDING_RULES = frozenset(
    {
        "rule_division:cdi_findings_raised:increase1h",
        "division:cdi_recording_compliance:ratio1d",
        "division_offence_group:cdi_recording_compliance:ratio1d",
        "division:cdi_recorded_within_24h:ratio1d",
        "division_offence_group:cdi_outcomes_out_of_court:ratio30d",
        "division:cdi_outcomes_16:ratio30d",
        "division_offence_group:cdi_cancellations_per_crime:ratio30d",
        "division:cdi_rape_cancellations_per_crime:ratio30d",
        "division:cdi_reclassifications_down:increase1d",
        "instance:cdi_event_time_lag_seconds:max",
        "topic:cdi_consumer_lag:sum",
        "instance:cdi_up:max",
    }
)
BUILTIN_SERIES = frozenset({"up", "ALERTS"})
FAUST_PREFIX = "cdi_faust"  # name prefix of Faust's sensor, installed by cdi.stream.http

PROMQL_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset"}
)
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

#: The matcher of the `pipeline` variable, which every series a dashboard reads must carry.
PIPELINE_MATCHER = 'pipeline="$pipeline"'

#: The control room's `workbench` variable (the case workbench's base URL, `cdi serve`), its
#: default (the compose deployment's workbench), and the workbench's case list, which takes the
#: alerts' label names as filters.
WORKBENCH_DEFAULT = "http://localhost:8080"
WORKBENCH_CASES = "${workbench}/cases?"
WORKBENCH_FILTERS = frozenset({"rule", "division", "pipeline", "severity", "status"})
FINDINGS_SERIES = "cdi_findings_raised"


def committed() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in sorted(DASHBOARD_DIR.glob("*.json"))}


def documented_metrics() -> set[str]:
    """Series names from the table in docs/metrics.md (histograms expand to _bucket, _sum, _count)."""
    names = set()
    for match in re.finditer(r"^\|\s*`([a-z_:]+)`\s*\|\s*(\w+)\s*\|", METRICS_DOC.read_text(), re.MULTILINE):
        name, kind = match.groups()
        names.add(name)
        if kind == "histogram":
            names.update(name + suffix for suffix in HISTOGRAM_SUFFIXES)
    return names


def faust_metrics() -> set[str]:
    """Series exposed by Faust's Prometheus sensor under our prefix, read from its source."""
    from faust.sensors import prometheus as sensor

    names = set()
    source = inspect.getsource(sensor)
    for kind, suffix in re.findall(r'(Counter|Gauge|Histogram)\(\s*f"\{app_name\}(_\w+)"', source):
        name = FAUST_PREFIX + suffix
        if kind == "Counter":  # prometheus_client exposes counters with a _total suffix
            names.add(name + "_total")
        elif kind == "Histogram":
            names.update(name + s for s in HISTOGRAM_SUFFIXES)
        else:
            names.add(name)
    assert names, "found no metrics in faust.sensors.prometheus: has its source changed?"
    return names


def metric_names(expr: str) -> set[str]:
    """Series names a PromQL expression selects (a small tokenizer, enough for the dashboards)."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # range selectors
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)  # label lists
    names = set()
    for match in re.finditer(r"(?<![\w.$])[A-Za-z_:][\w:]*", text):
        if text[match.end() :].lstrip().startswith("("):  # a function call
            continue
        if match.group() not in PROMQL_KEYWORDS:
            names.add(match.group())
    return names


def allowed_series() -> set[str]:
    return documented_metrics() | faust_metrics() | BUILTIN_SERIES | RECORDING_RULES


def query_variables(data: dict) -> list[dict]:
    """The template variables that query Prometheus (not text boxes or constants)."""
    return [variable for variable in data.get("templating", {}).get("list", []) if variable.get("type") == "query"]


def variable_metrics(data: dict) -> set[str]:
    names = set()
    for variable in query_variables(data):
        query = variable.get("query", "")
        match = re.fullmatch(r"label_values\(\s*([A-Za-z_:][\w:]*)(\{[^}]*\})?\s*,\s*\w+\s*\)", query)
        assert match, f"{data['uid']}: variable {variable.get('name')} has an unexpected query {query!r}"
        names.add(match.group(1))
    return names


def selectors(expr: str) -> list[tuple[str, str]]:
    """(series name, label matchers) of every vector selector of a PromQL expression."""
    text = re.sub(r"\[[^\]]*\]", " ", expr)  # range selectors
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)  # label lists
    found = []
    for match in re.finditer(r"(?<![\w.$])([A-Za-z_:][\w:]*)\s*(\{[^}]*\})?", text):
        name, matchers = match.group(1), match.group(2) or ""
        if name in PROMQL_KEYWORDS or (not matchers and text[match.end() :].lstrip().startswith("(")):
            continue  # a keyword or a function call
        found.append((name, matchers))
    return found


# (a) the committed JSON is what the code generates


def test_committed_json_is_what_the_code_generates(tmp_path):
    generated = {path.name: path.read_text(encoding="utf-8") for path in dashboards.generate(tmp_path)}
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in DASHBOARD_DIR.glob("*.json")}
    hint = (
        f"deploy/grafana/dashboards/ is out of date with services/cdi/dashboards/: run "
        f"`{dashboards.REGENERATE_COMMAND}` and commit the result"
    )
    assert sorted(on_disk) == sorted(generated), hint
    for name, text in generated.items():
        assert on_disk[name] == text, f"{name} differs from the generated JSON. {hint}"


def test_generation_is_deterministic_and_canonical(tmp_path):
    first = [path.read_bytes() for path in dashboards.generate(tmp_path / "one")]
    second = [path.read_bytes() for path in dashboards.generate(tmp_path / "two")]
    assert first == second
    for raw in first:
        text = raw.decode("utf-8")
        assert text.endswith("}\n") and not text.endswith("\n\n")
        assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# (b) every panel is complete; uids stable and unique


def test_dashboard_uids_and_titles_are_stable_and_unique():
    found = {name: (data["uid"], data["title"]) for name, data in committed().items()}
    assert found == EXPECTED
    uids = [uid for uid, _ in found.values()]
    assert len(set(uids)) == len(uids)
    assert all(len(uid) <= 40 and re.fullmatch(r"[a-z0-9-]+", uid) for uid in uids)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_panel_has_a_datasource_title_description_and_query(name):
    data = committed()[name]
    assert data.get("description"), f"{name}: the dashboard has no description"
    ids = [panel["id"] for panel in data["panels"]] + [
        inner["id"] for panel in data["panels"] for inner in panel.get("panels", [])
    ]
    assert len(ids) == len(set(ids)), f"{name}: duplicate panel ids {ids}"
    panels = list(dashboards.panels(data))
    assert panels, f"{name} has no panels"
    titles = [panel.get("title", "") for panel in panels]
    assert len(titles) == len(set(titles)), f"{name}: duplicate panel titles"
    for panel in panels:
        title = panel.get("title", "").strip()
        assert title, f"{name}: panel {panel['id']} has no title"
        assert panel.get("datasource") == {"type": "prometheus", "uid": "prometheus"}, f"{name}/{title}: datasource"
        description = panel.get("description", "").strip()
        assert len(description.split()) >= 12, f"{name}/{title}: the description should say what it shows and how"
        targets = panel.get("targets", [])
        assert targets, f"{name}/{title}: no query"
        assert all(target.get("expr", "").strip() for target in targets), f"{name}/{title}: empty query"
        ref_ids = [target.get("refId") for target in targets]
        assert all(ref_ids) and len(set(ref_ids)) == len(ref_ids), f"{name}/{title}: refIds {ref_ids}"


def test_panels_are_laid_out_within_the_grid_without_overlap():
    for name, data in committed().items():
        cells: dict[tuple[int, int], str] = {}
        for panel in data["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] + pos["w"] <= 24, f"{name}/{panel['title']} is wider than the grid"
            for x in range(pos["x"], pos["x"] + pos["w"]):
                for y in range(pos["y"], pos["y"] + pos["h"]):
                    assert (x, y) not in cells, f"{name}: {panel['title']} overlaps {cells[(x, y)]}"
                    cells[(x, y)] = panel["title"]


def test_queries_lists_every_panel_query():
    listed = dashboards.queries()
    from_json = [
        (data["uid"], panel["title"], target["expr"])
        for data in committed().values()
        for panel in dashboards.panels(data)
        for target in panel["targets"]
    ]
    assert sorted(listed) == sorted(from_json)


def test_only_the_workbench_fed_dashboards_are_left_out_of_what_a_worker_answers():
    """tests/deploy/test_prometheus_e2e.py runs a worker and no workbench: it checks the queries
    of every dashboard but those fed by the workbench's metrics (the audit's)."""
    fed = {module.UID for module in dashboards.WORKBENCH_FED}
    assert fed == {"cdi-audit"}
    every = dashboards.queries()
    workers = dashboards.queries(include_workbench_fed=False)
    assert sorted(workers) == sorted(q for q in every if q[0] not in fed)
    for uid, title, expr in every:
        if uid in fed:
            assert all(name.startswith("cdi_audit_") for name in metric_names(expr)), (uid, title, expr)


# (c) every series a query reads exists


def test_metric_name_extraction():
    assert metric_names(
        'histogram_quantile(0.99, sum by (le) (rate(cdi_processing_lag_seconds_bucket{job="x"}[$__rate_interval])))'
    ) == {"cdi_processing_lag_seconds_bucket"}
    assert metric_names(
        'round(sum(increase(a_total{severity="critical", division=~"$division"}[24h]))) or vector(0)'
    ) == {"a_total"}
    assert metric_names("time() - max by (instance) (b_seconds) / on (x) group_left c:d:e") == {"b_seconds", "c:d:e"}
    assert metric_names('ALERTS{alertstate="firing"}') == {"ALERTS"}


def test_every_query_reads_only_known_series():
    allowed = allowed_series()
    for uid, title, expr in dashboards.queries():
        names = metric_names(expr)
        assert names, f"{uid}/{title}: no series found in {expr!r}"
        unknown = names - allowed
        assert not unknown, (
            f"{uid}/{title}: {sorted(unknown)} is not in docs/metrics.md, Faust's sensor, up/ALERTS "
            f"or the recording rules the dashboards may use"
        )


def test_selectors_are_found():
    assert selectors(
        'histogram_quantile(0.5, sum by (le) (rate(a_bucket{pipeline="$pipeline"}[$__rate_interval])))'
    ) == [("a_bucket", '{pipeline="$pipeline"}')]
    assert selectors("time() - max by (instance) (b_seconds) or vector(0)") == [("b_seconds", "")]


def test_every_query_shows_the_selected_pipeline_only():
    """Replays run beside live traffic with their own pipeline label; a selector without the
    pipeline matcher would add a replay's series to live panels."""
    for uid, title, expr in dashboards.queries():
        found = selectors(expr)
        assert found, f"{uid}/{title}: no selector in {expr!r}"
        for name, matchers in found:
            assert PIPELINE_MATCHER in matchers, f"{uid}/{title}: {name}{matchers} is not filtered by the pipeline"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_dashboard_selects_one_pipeline_live_by_default(name):
    variables = committed()[name]["templating"]["list"]
    first = variables[0]
    assert first["name"] == "pipeline", f"{name}: the pipeline variable comes first (the others use it)"
    assert first["query"] == "label_values(cdi_build_info, pipeline)"
    assert first["current"]["value"] == "live", f"{name}: the dashboards open on live traffic"
    assert not first.get("multi") and not first.get("includeAll"), f"{name}: one pipeline at a time, never a sum"
    for variable in [variable for variable in variables[1:] if variable.get("type") == "query"]:
        assert PIPELINE_MATCHER in variable["query"], f"{name}: variable {variable['name']} ignores the pipeline"
    others = {variable["type"] for variable in variables if variable.get("type") != "query"}
    assert others <= {"textbox", "constant"}, f"{name}: unexpected variable types {sorted(others)}"


def test_template_variables_read_only_known_series():
    allowed = documented_metrics()
    for data in committed().values():
        assert variable_metrics(data) <= allowed, data["uid"]


def test_faust_rebalance_gauges_are_the_sensors_names():
    assert {"cdi_faust_total_rebalances", "cdi_faust_total_rebalances_recovering"} <= faust_metrics()
    from cdi.stream import http

    assert http.FAUST_PREFIX == FAUST_PREFIX


def test_recording_rules_used_are_defined_once_the_rule_files_exist():
    files = sorted(RULES_DIR.glob("*.yml")) + sorted(RULES_DIR.glob("*.yaml")) if RULES_DIR.is_dir() else []
    if not files:
        pytest.skip("deploy/prometheus/rules/ has no rule files yet")
    defined = set()
    for path in files:
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            defined.update(rule["record"] for rule in group.get("rules", []) if "record" in rule)
    used = {name for _, _, expr in dashboards.queries() for name in metric_names(expr) if ":" in name}
    assert used <= defined, f"recording rules read by the dashboards but not defined: {sorted(used - defined)}"


# (d) the control room links findings to their cases in the case workbench


def links(panel: dict) -> list[dict]:
    """Every link of a panel: panel links, data links, and data links of column overrides."""
    field_config = panel.get("fieldConfig", {})
    found = list(panel.get("links", [])) + list(field_config.get("defaults", {}).get("links", []))
    for override in field_config.get("overrides", []):
        for prop in override.get("properties", []):
            if prop.get("id") == "links":
                found.extend(prop.get("value") or [])
    return found


def workbench_filters(url: str) -> dict[str, str]:
    """The filters of a link to the workbench's case list (name -> value, as written)."""
    assert url.startswith(WORKBENCH_CASES), url
    pairs = [param.partition("=") for param in url.removeprefix(WORKBENCH_CASES).split("&")]
    assert all(sep and value for name, sep, value in pairs), f"{url}: an empty filter"
    filters = {name: value for name, _, value in pairs}
    assert len(filters) == len(pairs), f"{url}: a filter given twice"
    return filters


def test_the_control_room_has_the_workbench_variable():
    variables = {variable["name"]: variable for variable in committed()["control-room.json"]["templating"]["list"]}
    assert "workbench" in variables, "the control room has no workbench variable"
    workbench = variables["workbench"]
    assert workbench["type"] in {"textbox", "constant"}
    assert workbench["query"] == WORKBENCH_DEFAULT
    if workbench["type"] == "textbox":
        assert workbench["current"]["value"] == WORKBENCH_DEFAULT


def test_every_findings_panel_of_the_control_room_links_to_its_cases_in_the_workbench():
    """One click from a finding count to the cases behind it: every panel reading findings links
    to the workbench's open cases of the selected pipeline; a panel split by rule or division
    fills in the clicked series' label, and a panel of one severity filters by it."""
    data = committed()["control-room.json"]
    findings = [
        panel
        for panel in dashboards.panels(data)
        if any(FINDINGS_SERIES in name for target in panel["targets"] for name in metric_names(target["expr"]))
    ]
    assert len(findings) >= 4, [panel["title"] for panel in findings]
    for panel in findings:
        title = panel["title"]
        workbench = [link for link in links(panel) if link.get("url", "").startswith(WORKBENCH_CASES)]
        assert workbench, f"{title}: no link to the case workbench ({WORKBENCH_CASES}...)"
        filters = [workbench_filters(link["url"]) for link in workbench]
        exprs = " ".join(target["expr"] for target in panel["targets"])
        for label in ("rule", "division"):
            if re.search(rf"\bby \({label}\)", exprs):
                assert any(f.get(label) == f"${{__field.labels.{label}}}" for f in filters), (
                    f"{title}: one series per {label}, but no link filters by the clicked series' {label}"
                )
        severity = re.search(r'severity="(\w+)"', exprs)
        if severity:
            assert all(f.get("severity") == severity.group(1) for f in filters), f"{title}: severity filter"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_workbench_link_lists_the_open_cases_of_the_selected_pipeline(name):
    data = committed()[name]
    names = {variable["name"] for variable in data["templating"]["list"]}
    for panel in dashboards.panels(data):
        for link in links(panel):
            url = link.get("url", "")
            if "${workbench}" not in url:
                continue
            assert "workbench" in names, f"{name}/{panel['title']}: links the workbench without the variable"
            filters = workbench_filters(url)
            assert set(filters) <= WORKBENCH_FILTERS, f"{name}/{panel['title']}: {url}"
            assert filters.get("pipeline") == "${pipeline}", f"{name}/{panel['title']}: {url}"
            assert filters.get("status") == "open", f"{name}/{panel['title']}: {url}"
            assert link.get("targetBlank"), f"{name}/{panel['title']}: the workbench opens in a new tab"


# provisioning and docs


def test_datasource_provisioning():
    spec = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())
    assert spec["apiVersion"] == 1
    (source,) = spec["datasources"]
    assert (source["type"], source["uid"], source["url"]) == ("prometheus", "prometheus", "http://prometheus:9090")
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())["global"][
        "scrape_interval"
    ]
    assert source["jsonData"]["timeInterval"] == scrape


def test_dashboard_provisioning_loads_the_folder_grafana_mounts():
    spec = yaml.safe_load((PROVISIONING / "dashboards" / "cdi.yml").read_text())
    assert spec["apiVersion"] == 1
    (provider,) = spec["providers"]
    assert provider["type"] == "file"
    mounts = dict(
        volume.split(":")[:2] for volume in yaml.safe_load(COMPOSE.read_text())["services"]["grafana"]["volumes"]
    )
    assert mounts["./grafana/dashboards"] == provider["options"]["path"]
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"


def test_docs_describe_every_panel():
    text = DASHBOARDS_DOC.read_text(encoding="utf-8")
    for data in committed().values():
        assert data["title"] in text, f"docs/dashboards.md does not mention the dashboard {data['title']}"
        for panel in dashboards.panels(data):
            assert panel["title"] in text, f"docs/dashboards.md does not describe the panel {panel['title']!r}"
