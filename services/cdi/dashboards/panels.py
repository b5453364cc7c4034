"""Shared building blocks for the CDI dashboards (grafana-foundation-sdk builders).

Every panel is built through one of the helpers below, so each gets the Prometheus datasource, a
title, a plain-words description and explicit query ref ids. `Board` numbers the panels and lays
them out in the order they are added, which keeps the generated JSON stable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.builders import bargauge, common, dashboard, prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as models
from grafana_foundation_sdk.models import prometheus as prometheus_models
from grafana_foundation_sdk.models import units

#: The datasource every panel queries; provisioned by deploy/grafana/provisioning/datasources/prometheus.yml.
DATASOURCE = models.DataSourceRef(type_val="prometheus", uid="prometheus")

#: Tag shared by the CDI dashboards; the dashboard links menu lists every dashboard carrying it.
TAG = "cdi"

#: Label matcher for the `division` template variable (multi-select, "All" matches everything).
DIVISION = 'division=~"$division"'

#: Label matcher for the `pipeline` template variable. Every query carries it: replays run beside
#: live traffic and label their series with their own name, so an unfiltered query would add a
#: replay's counts to the live ones.
PIPELINE = 'pipeline="$pipeline"'

#: The pipeline of live traffic (CDI_NAMESPACE's default), which the dashboards open on.
LIVE = "live"

#: The case workbench (`cdi serve`) the compose deployment serves; the `workbench` variable's
#: default. Prometheus' alerts take theirs from deploy/prometheus/rules/workbench.yml.
WORKBENCH_URL = "http://localhost:8080"

#: The workbench's case list (it filters by rule, division, pipeline, severity and status, the
#: alerts' label names); `workbench_link` appends the filters.
CASES = "${workbench}/cases"

PERCENT = units.PercentUnit
SECONDS = units.Seconds
COUNT = units.Short
PER_SECOND = units.CountsPerSecond


@dataclass(frozen=True)
class Query:
    """One PromQL target of a panel."""

    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Line:
    """A threshold drawn on a time series panel: series at or above `value` take `above`."""

    value: float
    below: str
    above: str


def workbench_link(title: str, **filters: str) -> dashboard.DashboardLink:
    """A link to the case workbench's list of open cases of the selected pipeline, filtered by
    `filters` (rule, division, severity: a fixed value or a data link variable such as
    ``${__field.labels.rule}``). Opens in a new tab, so the dashboard stays where it was."""
    query = [f"{name}={filters[name]}" for name in ("rule", "division") if name in filters]
    query.append("pipeline=${pipeline}")
    query += [f"{name}={value}" for name, value in filters.items() if name not in {"rule", "division"}]
    query.append("status=open")
    return dashboard.DashboardLink(title).url(f"{CASES}?{'&'.join(query)}").target_blank(True)


def _targets(queries: Sequence[Query], *, instant: bool = False, table_format: bool = False) -> list[Any]:
    targets = []
    for index, query in enumerate(queries):
        target = prometheus.Dataquery().expr(query.expr).ref_id(chr(ord("A") + index))
        if query.legend:
            target = target.legend_format(query.legend)
        target = target.instant() if instant else target.range()
        if table_format:
            target = target.format(prometheus_models.PromQueryFormat.TABLE)
        targets.append(target)
    return targets


def _steps(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    return (
        dashboard.ThresholdsConfig()
        .mode(models.ThresholdsMode.ABSOLUTE)
        .steps([models.Threshold(value=value, color=color) for value, color in steps])
    )


def time_series(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    unit: str = COUNT,
    width: int = 12,
    height: int = 8,
    line: Line | None = None,
    min_value: float | None = 0,
    max_value: float | None = None,
    legend_table: bool = False,
    lowest_first: bool = False,
    links: Sequence[dashboard.DashboardLink] = (),
) -> timeseries.Panel:
    """A time series panel; `line` draws a dashed threshold line and colours series by it.

    `legend_table` shows the legend as a table (latest, min, max), sorted by the latest value:
    highest first, or lowest first with `lowest_first` (for shares where low is bad). `links` are
    data links: clicking a series offers them, with that series' labels filled in.
    """
    legend = (
        common.VizLegendOptions()
        .show_legend(True)
        .display_mode(common_models.LegendDisplayMode.TABLE if legend_table else common_models.LegendDisplayMode.LIST)
        .placement(common_models.LegendPlacement.RIGHT if legend_table else common_models.LegendPlacement.BOTTOM)
    )
    if legend_table:
        legend = legend.calcs(["lastNotNull", "min", "max"]).sort_by("Last *").sort_desc(not lowest_first)
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets(queries))
        .unit(unit)
        .span(width)
        .height(height)
        .line_width(1)
        .fill_opacity(10)
        .show_points(common_models.VisibilityMode.NEVER)
        .legend(legend)
        .tooltip(
            common.VizTooltipOptions()
            .mode(common_models.TooltipDisplayMode.MULTI)
            .sort(common_models.SortOrder.DESCENDING)
        )
    )
    if min_value is not None:
        panel = panel.min(min_value)
    if max_value is not None:
        panel = panel.max(max_value)
    if line is not None:
        panel = panel.thresholds(_steps((None, line.below), (line.value, line.above))).thresholds_style(
            common.GraphThresholdsStyleConfig().mode(common_models.GraphThresholdsStyleMode.DASHED)
        )
    else:
        panel = panel.color_scheme(dashboard.FieldColor().mode(models.FieldColorModeId.PALETTE_CLASSIC))
    if links:
        panel = panel.data_links(list(links))
    return panel


def single_stat(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    steps: Sequence[tuple[float | None, str]],
    unit: str = units.NoUnit,
    width: int = 8,
    height: int = 4,
    mappings: dict[str, tuple[str, str]] | None = None,
    links: Sequence[dashboard.DashboardLink] = (),
) -> stat.Panel:
    """A stat panel showing the latest value of each series, coloured by `steps` (value, colour);
    `links` are data links, offered on a click on the value."""
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets(queries, instant=True))
        .unit(unit)
        .decimals(0)
        .span(width)
        .height(height)
        .thresholds(_steps(*steps))
        .color_mode(common_models.BigValueColorMode.BACKGROUND)
        .graph_mode(common_models.BigValueGraphMode.NONE)
        .text_mode(common_models.BigValueTextMode.VALUE_AND_NAME if mappings else common_models.BigValueTextMode.AUTO)
        .reduce_options(common.ReduceDataOptions().values(False).calcs(["lastNotNull"]))
    )
    if mappings:
        panel = panel.mappings(
            [
                models.ValueMap(
                    options={
                        value: models.ValueMappingResult(text=text, color=color, index=index)
                        for index, (value, (text, color)) in enumerate(sorted(mappings.items()))
                    }
                )
            ]
        )
    if links:
        panel = panel.data_links(list(links))
    return panel


def instant_table(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    hide_columns: Sequence[str] = (),
    column_links: dict[str, Sequence[dashboard.DashboardLink]] | None = None,
    width: int = 24,
    height: int = 8,
) -> table.Panel:
    """A table of the current series (one row per series, one column per label). `column_links`
    makes the cells of the named columns links (data links, with ``${__data.fields.<column>}``
    for the row's values)."""
    panel = (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets(queries, instant=True, table_format=True))
        .span(width)
        .height(height)
        .filterable(True)
        .no_value("Nothing firing")
    )
    if hide_columns:
        panel = panel.with_transformation(
            models.DataTransformerConfig(
                id_val="organize",
                options={"excludeByName": dict.fromkeys(sorted(hide_columns), True)},
            )
        )
    for column, links in sorted((column_links or {}).items()):
        panel = panel.override_by_name(
            column, [models.DynamicConfigValue(id_val="links", value=[link.build() for link in links])]
        )
    return panel


def bar_gauge(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    unit: str = COUNT,
    width: int = 24,
    height: int = 8,
) -> bargauge.Panel:
    """Horizontal bars, one per series, of each series' value at the end of the time range."""
    return (
        bargauge.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets(queries, instant=True))
        .unit(unit)
        .decimals(0)
        .min(0)
        .span(width)
        .height(height)
        .orientation(common_models.VizOrientation.HORIZONTAL)
        .display_mode(common_models.BarGaugeDisplayMode.BASIC)
        .show_unfilled(True)
        .color_scheme(dashboard.FieldColor().mode(models.FieldColorModeId.PALETTE_CLASSIC))
        .reduce_options(common.ReduceDataOptions().values(False).calcs(["lastNotNull"]))
    )


#: Legends of an interval's three series (the `bound` label of the audit's metrics).
ESTIMATE, LOW, HIGH = "Estimate", "95% low", "95% high"


def _bound(metric: str, bound: str, by: str = "", matchers: str = "") -> str:
    """One bound of an audit figure, one series per `by` label (none: one series), whatever
    the number of workbench replicas serving it (they read one database)."""
    selector = f'{metric}{{bound="{bound}", {matchers + ", " if matchers else ""}{PIPELINE}}}'
    return f"max by ({by}) ({selector})" if by else f"max({selector})"


def interval_band(
    title: str,
    description: str,
    metric: str,
    *,
    width: int = 12,
    height: int = 8,
) -> timeseries.Panel:
    """A share with its 95% interval, from a metric with a `bound` label (estimate, low, high):
    the estimate as a line, the interval as a shaded band between the low and high lines."""
    panel = time_series(
        title,
        description,
        [
            Query(_bound(metric, "estimate"), ESTIMATE),
            Query(_bound(metric, "low"), LOW),
            Query(_bound(metric, "high"), HIGH),
        ],
        unit=PERCENT,
        max_value=1,
        width=width,
        height=height,
    )
    # One colour; the estimate a line with no fill; the bounds edges with no line, the band being
    # the high series filled down to the low one.
    colour = models.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": "blue"})

    def fill(opacity: int) -> models.DynamicConfigValue:
        return models.DynamicConfigValue(id_val="custom.fillOpacity", value=opacity)

    edge = models.DynamicConfigValue(id_val="custom.lineWidth", value=0)
    return (
        panel.override_by_name(
            ESTIMATE, [colour, fill(0), models.DynamicConfigValue(id_val="custom.lineWidth", value=2)]
        )
        .override_by_name(LOW, [colour, edge, fill(0)])
        .override_by_name(
            HIGH, [colour, edge, fill(20), models.DynamicConfigValue(id_val="custom.fillBelowTo", value=LOW)]
        )
    )


def interval_table(
    title: str,
    description: str,
    metric: str,
    *,
    by: str,
    column: str,
    matchers: str = "",
    count: tuple[str, str] | None = None,
    floor: float | None = None,
    width: int = 12,
    height: int = 8,
) -> table.Panel:
    """The latest estimate and 95% interval of an audit figure, one row per value of the label
    `by` (shown as `column`), lowest upper bound first. `count` adds a column (its name, and a
    query giving one series per `by` value); `floor` colours the upper bound: red below it."""
    queries = [Query(_bound(metric, bound, by, matchers)) for bound in ("estimate", "low", "high")]
    names = [ESTIMATE, LOW, HIGH]
    if count is not None:
        queries.append(Query(count[1]))
        names.append(count[0])
    panel = (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets(queries, instant=True, table_format=True))
        .unit(PERCENT)
        .decimals(1)
        .span(width)
        .height(height)
        .no_value("No audit sample with verdicts")
        .sort_by([common.TableSortByFieldState().display_name(HIGH).desc(False)])
        # One frame per query, each a column "Value #<ref id>": merged into one row per `by` value.
        .with_transformation(models.DataTransformerConfig(id_val="merge", options={}))
        .with_transformation(
            models.DataTransformerConfig(
                id_val="organize",
                options={
                    "excludeByName": {"Time": True},
                    "indexByName": {name: index for index, name in enumerate([column, *names])},
                    "renameByName": {
                        by: column,
                        **{f"Value #{chr(ord('A') + index)}": name for index, name in enumerate(names)},
                    },
                },
            )
        )
    )
    if count is not None:
        panel = panel.override_by_name(
            count[0],
            [
                models.DynamicConfigValue(id_val="unit", value=COUNT),
                models.DynamicConfigValue(id_val="decimals", value=0),
            ],
        )
    if floor is not None:
        panel = panel.override_by_name(
            HIGH,
            [
                models.DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-background"}),
                models.DynamicConfigValue(id_val="color", value={"mode": "thresholds"}),
                models.DynamicConfigValue(
                    id_val="thresholds",
                    value={
                        "mode": "absolute",
                        "steps": [{"color": "red", "value": None}, {"color": "green", "value": floor}],
                    },
                ),
            ],
        )
    return panel


def pipeline_variable() -> dashboard.QueryVariable:
    """Template variable `pipeline`: live traffic (the default) or a replay running beside it.
    Single-select, without All: a panel shows one pipeline, never a sum of live and a replay."""
    return (
        dashboard.QueryVariable("pipeline")
        .label("Pipeline")
        .description(
            "Live traffic, or a replay running beside it (the workers' CDI_NAMESPACE). Every panel "
            "shows the selected pipeline only."
        )
        .datasource(DATASOURCE)
        .query("label_values(cdi_build_info, pipeline)")
        .refresh(models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(models.VariableSort.ALPHABETICAL_ASC)
        .multi(False)
        .include_all(False)
        .current(models.VariableOption(selected=True, text=LIVE, value=LIVE))
    )


def division_variable(metric: str) -> dashboard.QueryVariable:
    """Template variable `division`: every division the metric has seen in the selected
    pipeline; multi-select with All."""
    return (
        dashboard.QueryVariable("division")
        .label("Division")
        .description(f"Divisions to show (values of the division label of {metric}).")
        .datasource(DATASOURCE)
        .query(f"label_values({metric}{{{PIPELINE}}}, division)")
        .refresh(models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(models.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(models.VariableOption(selected=True, text=["All"], value=["$__all"]))
    )


def workbench_variable() -> dashboard.TextBoxVariable:
    """Template variable `workbench`: the case workbench's base URL, which the findings panels'
    links open. A text box, so a deployment whose workbench lives elsewhere can type it (or pass
    ``var-workbench=...`` in the dashboard URL) without regenerating the dashboards."""
    return (
        dashboard.TextBoxVariable("workbench")
        .label("Case workbench")
        .description(
            "Base URL of the case workbench (cdi serve). The findings panels link to its list of open "
            "cases, filtered by rule, division and the selected pipeline."
        )
        .default_value(WORKBENCH_URL)
        .current(models.VariableOption(selected=True, text=WORKBENCH_URL, value=WORKBENCH_URL))
        .options([models.VariableOption(selected=True, text=WORKBENCH_URL, value=WORKBENCH_URL)])
    )


class Board:
    """A dashboard under construction: panel ids are assigned 1, 2, 3... in the order added.
    Every dashboard gets the `pipeline` variable first (the division variable's query uses it)."""

    def __init__(
        self,
        *,
        uid: str,
        title: str,
        description: str,
        time_from: str,
        refresh: str,
        variables: Sequence[cogbuilder.Builder[models.VariableModel]] = (),
    ) -> None:
        self.uid = uid
        self._next_id = 1
        self._builder = (
            dashboard.Dashboard(title)
            .uid(uid)
            .description(description)
            .tags([TAG])
            .readonly()
            .timezone("browser")
            .time(time_from, "now")
            .refresh(refresh)
            .tooltip(models.DashboardCursorSync.CROSSHAIR)
            .link(
                dashboard.DashboardLink("CDI dashboards")
                .type(models.DashboardLinkType.DASHBOARDS)
                .tags([TAG])
                .as_dropdown(True)
                .include_vars(True)
                .keep_time(True)
            )
        )
        self._builder = self._builder.variables([pipeline_variable(), *variables])

    def _take_id(self) -> int:
        panel_id = self._next_id
        self._next_id += 1
        return panel_id

    def row(self, title: str) -> Board:
        self._builder = self._builder.with_row(dashboard.Row(title).id(self._take_id()))
        return self

    def add(self, *panels: Any) -> Board:
        for panel in panels:
            self._builder = self._builder.with_panel(panel.id(self._take_id()))
        return self

    def to_json(self) -> dict[str, Any]:
        """The dashboard as plain JSON data (what Grafana loads)."""
        return json.loads(json.dumps(self._builder.build(), cls=JSONEncoder))
