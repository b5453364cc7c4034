"""The report's plots, drawn with matplotlib and returned as SVG markup to inline in the page.

No pyplot: each chart is a bare ``Figure`` on an Agg canvas, so nothing global (pyplot's figure
registry, the interactive backend) is touched and figures are freed as soon as they go out of
scope. Output is byte-reproducible: a fixed ``svg.hashsalt`` per chart replaces the random ids
matplotlib would otherwise use, and the SVG metadata (creation date, creator) is left out.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from cdi.report.compliance import BELOW, MEETS, Proportion
from cdi.report.findings import severity_rank
from cdi.report.outcomes import OutcomeRow, OutcomeType

WIDTH = 7.5  # inches: fits the page's text column at 96 dpi without scaling text down much

STANDING_COLOURS = {BELOW: "#b2182b", MEETS: "#1b7837"}
UNCLEAR_COLOUR = "#d96f00"
SEVERITY_COLOURS = {"critical": "#67001f", "high": "#d6604d", "medium": "#f4a582", "low": "#92c5de"}
OTHER_COLOUR = "#bababa"
# Colour-blind-safe qualitative palette (Okabe-Ito, then Tol's muted) for outcome types.
OUTCOME_COLOURS = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#f0e442",
    "#332288",
    "#882255",
)

# Text stays text (searchable, smaller, sharp at any zoom); the page names a font stack for it.
RC = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
NO_METADATA = {"Creator": None, "Date": None, "Format": None, "Type": None}

_ID = re.compile(r'\bid="([^"]+)"')
_URL = re.compile(r"url\(#([^)]+)\)")
_HREF = re.compile(r'href="#([^"]+)"')


def _figure(rows: int, per_row: float = 0.32, extra: float = 1.1) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(WIDTH, extra + per_row * max(rows, 1)), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _svg(fig: Figure, name: str, label: str) -> str:
    """Render to SVG markup fit to inline in HTML, its ids prefixed with the chart's name.

    matplotlib numbers its groups figure_1, axes_1, ... in every file; prefixing keeps ids
    unique when several charts share one page (clip paths and markers refer to them).
    """
    buffer = io.StringIO()
    with matplotlib.rc_context({**RC, "svg.hashsalt": f"cdi-report-{name}"}):
        fig.savefig(buffer, format="svg", metadata=NO_METADATA)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # drop the XML declaration and DOCTYPE: not allowed inline
    text = _ID.sub(lambda m: f'id="{name}-{m.group(1)}"', text)
    text = _URL.sub(lambda m: f"url(#{name}-{m.group(1)})", text)
    text = _HREF.sub(lambda m: f'href="#{name}-{m.group(1)}"', text)
    label = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return text.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def interval_chart(
    name: str,
    title: str,
    rows: Sequence[tuple[str, Proportion, str]],
    benchmark: float,
    benchmark_label: str,
) -> str:
    """Each row's share as a dot with its 95% interval, against a dashed benchmark line.
    Rows are (label, proportion, standing); drawn top to bottom in the given order."""
    with matplotlib.rc_context(RC):
        fig, ax = _figure(len(rows))
        for position, (_, rate, standing) in enumerate(rows):
            colour = STANDING_COLOURS.get(standing, UNCLEAR_COLOUR)
            y = len(rows) - 1 - position
            ax.plot([rate.low, rate.high], [y, y], color=colour, linewidth=2.2, solid_capstyle="butt")
            ax.plot([rate.share], [y], marker="o", color=colour, markersize=6)
        ax.axvline(benchmark, color="#333333", linestyle="--", linewidth=1)
        ax.text(benchmark, len(rows) - 0.45, f" {benchmark_label}", fontsize=8, color="#333333", va="bottom")
        ax.set_yticks(
            range(len(rows)), [f"{label} (n={rate.total:,})" for label, rate, _ in reversed(rows)], fontsize=8
        )
        lowest = min((rate.low for _, rate, _ in rows), default=benchmark)
        ax.set_xlim(max(0.0, min(lowest, benchmark) - 0.05), 1.0)
        ax.set_ylim(-0.6, len(rows) - 0.1)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_title(title, loc="left", fontsize=10)
    return _svg(fig, name, title)


def severity_chart(name: str, title: str, rows: Sequence[tuple[str, Mapping[str, int]]]) -> str:
    """Counts per row as bars stacked by severity, worst first."""
    severities = sorted({s for _, counts in rows for s in counts}, key=lambda s: (severity_rank(s), s))
    with matplotlib.rc_context(RC):
        fig, ax = _figure(len(rows), extra=0.9)
        positions = [len(rows) - 1 - i for i in range(len(rows))]
        left = [0] * len(rows)
        for severity in severities:
            widths = [counts.get(severity, 0) for _, counts in rows]
            ax.barh(
                positions,
                widths,
                left=left,
                color=SEVERITY_COLOURS.get(severity, OTHER_COLOUR),
                label=severity,
                height=0.7,
            )
            left = [a + b for a, b in zip(left, widths, strict=True)]
        ax.set_yticks(positions, [label for label, _ in rows], fontsize=8)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_title(title, loc="left", fontsize=10)
        if severities:
            # Outside the axes: the longest bar would run under a legend placed inside.
            ax.legend(
                loc="upper left",
                bbox_to_anchor=(1.01, 1),
                fontsize=8,
                frameon=False,
                title="severity",
                title_fontsize=8,
            )
    return _svg(fig, name, title)


def outcome_chart(name: str, title: str, rows: Sequence[OutcomeRow], types: Sequence[OutcomeType]) -> str:
    """Each row's outcomes as a 100% bar: the most common types named, the rest as 'other'."""
    totals = {t.type: sum(row.count(t.type) for row in rows) for t in types}
    # Most used first; ties by type number so the choice never depends on input order.
    named = sorted(types, key=lambda t: (-totals[t.type], t.type))[: len(OUTCOME_COLOURS)]
    named.sort(key=lambda t: t.type)
    rest = [t.type for t in types if t not in named]
    with matplotlib.rc_context(RC):
        fig, ax = _figure(len(rows), extra=1.9)
        positions = [len(rows) - 1 - i for i in range(len(rows))]
        left = [0.0] * len(rows)
        series = [(f"{t.type}: {t.name}", [t.type], OUTCOME_COLOURS[i]) for i, t in enumerate(named)]
        if rest:
            series.append(("other types", rest, OTHER_COLOUR))
        for label, numbers, colour in series:
            widths = [sum(row.share(n) for n in numbers) for row in rows]
            ax.barh(positions, widths, left=left, color=colour, label=label, height=0.7)
            left = [a + b for a, b in zip(left, widths, strict=True)]
        ax.set_yticks(positions, [f"{row.name} (n={row.total:,})" for row in rows], fontsize=8)
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_title(title, loc="left", fontsize=10)
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.12),
            ncols=2,
            fontsize=7,
            frameon=False,
        )
    return _svg(fig, name, title)
