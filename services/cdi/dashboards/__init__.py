"""Grafana dashboards as code (grafana-foundation-sdk), generated into deploy/grafana/dashboards/.

Regenerate the committed JSON after changing any module here:

    python -m cdi.dashboards deploy/grafana/dashboards
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import audit, control_room, performance, pipeline_health

#: Every dashboard module, in the order they are listed: each has UID, TITLE, FILENAME and build().
DASHBOARDS = (control_room, performance, pipeline_health, audit)

#: Dashboards fed by the case workbench's /metrics (`cdi serve`) rather than the workers': their
#: panels answer only where a workbench with an audit sample is scraped.
WORKBENCH_FED = (audit,)

REGENERATE_COMMAND = "python -m cdi.dashboards deploy/grafana/dashboards"


def render(data: dict[str, Any]) -> str:
    """Canonical JSON text of a dashboard: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def dashboards() -> dict[str, dict[str, Any]]:
    """File name -> dashboard JSON data, for every dashboard."""
    return {module.FILENAME: module.build().to_json() for module in DASHBOARDS}


def generate(out_dir: str | Path) -> list[Path]:
    """Write every dashboard's JSON into `out_dir` (created if missing); returns the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, data in dashboards().items():
        path = out / filename
        path.write_text(render(data), encoding="utf-8")
        written.append(path)
    return written


def panels(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel of a dashboard's JSON that shows data (rows skipped; panels inside rows included)."""
    for panel in data.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def queries(*, include_workbench_fed: bool = True) -> list[tuple[str, str, str]]:
    """(dashboard uid, panel title, PromQL expression) for every query of every panel; without
    the dashboards in WORKBENCH_FED when `include_workbench_fed` is false (what a worker alone
    can answer)."""
    skipped = {module.FILENAME for module in WORKBENCH_FED} if not include_workbench_fed else set()
    found = []
    for filename, data in dashboards().items():
        if filename in skipped:
            continue
        for panel in panels(data):
            for target in panel.get("targets", []):
                found.append((data["uid"], panel["title"], target["expr"]))
    return found


__all__ = ["DASHBOARDS", "REGENERATE_COMMAND", "WORKBENCH_FED", "dashboards", "generate", "panels", "queries", "render"]
