"""The Prometheus rules as templates rendered from one config, generated into deploy/prometheus/rules/.

What is repeated in the rules or belongs to a deployment is set once, in
deploy/prometheus/alerting.toml: the scrape job labels (`job="cdi-monitor"` in every first-increment
correction), the runbook and case-workbench base URLs, and the benchmarks the alerts compare
against (compliance floors, minimum volumes, lag budgets). The rules themselves are Jinja
templates in ``templates/`` (delimiters ``[[ ]]`` and ``[% %]``, since the rules' own Go
templates use ``{{ }}``). Regenerate the committed files after changing either:

    python -m cdi.alerting                      # deploy/prometheus/alerting.toml -> deploy/prometheus/rules/

tests/deploy/test_alerting.py fails while the committed files differ from what this renders.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: The repository's config and where the rules go, relative to the repository root.
DEFAULT_CONFIG = Path("deploy/prometheus/alerting.toml")
DEFAULT_OUT_DIR = Path("deploy/prometheus/rules")
REGENERATE_COMMAND = "python -m cdi.alerting"

#: Rule file -> its template. Every file in the rules directory is generated.
RULE_FILES = {"alerts.yml": "alerts.yml.j2", "recording.yml": "recording.yml.j2", "workbench.yml": "workbench.yml.j2"}

#: The national rate of rape records cancelled (no-crimed) per rape recorded, 2013/14: a fact the
#: rape cancellation alert's text cites, whatever its threshold is set to.
NATIONAL_RAPE_NO_CRIME_RATE = 0.073

JOB = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}")
URL = re.compile(r"https?://[^\s\"'\\{}<>]+")


class AlertingConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Benchmarks:
    """What the alerts compare against (the [benchmarks] table; its comments say which alert
    reads which). Ratios are shares between 0 and 1; counts are per division and window, or per
    rule in the audit sample (rule_findings_reviewed_min)."""

    recording_compliance_min: float
    recording_decisions_min: int
    recorded_within_24h_min: float
    recorded_crimes_min: int
    rape_cancellation_rate_max: float
    rape_records_min: int
    outcome16_outlier_factor: float
    outcomes_min: int
    reclassification_spike_factor: float
    reclassifications_down_min: int
    watermark_lag_max_seconds: int
    processing_lag_p99_max_seconds: int
    consumer_lag_max_records: int
    input_silence_max_seconds: int
    rule_precision_min: float
    rule_findings_reviewed_min: int


RATIOS = {"recording_compliance_min", "recorded_within_24h_min", "rape_cancellation_rate_max", "rule_precision_min"}
FACTORS = {"outcome16_outlier_factor", "reclassification_spike_factor"}


@dataclass(frozen=True, slots=True)
class AlertingConfig:
    job: str  # [scrape] job: job_name of the monitor workers' targets (prometheus.yml)
    workbench_job: str  # [scrape] workbench_job: job_name of the case workbench's target
    runbook_base: str  # [links] runbook_base: every runbook_url is this plus "<AlertName>.md"
    workbench_url: str  # [links] workbench_url: the case workbench's base URL, no trailing slash
    benchmarks: Benchmarks

    def runbook_url(self, alert: str) -> str:
        return f"{self.runbook_base}{alert}.md"


def _table(data: dict[str, Any], name: str, keys: set[str], source: str) -> dict[str, Any]:
    table = data.get(name)
    if not isinstance(table, dict):
        raise AlertingConfigError(f"{source}: no [{name}] table")
    missing, unknown = keys - set(table), set(table) - keys
    if missing or unknown:
        problems = [f"missing {', '.join(sorted(missing))}"] if missing else []
        problems += [f"unknown {', '.join(sorted(unknown))}"] if unknown else []
        raise AlertingConfigError(f"{source}: [{name}]: {'; '.join(problems)}")
    return table


def _benchmark(name: str, value: Any, source: str) -> float | int:
    where = f"{source}: [benchmarks] {name} = {value!r}"
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AlertingConfigError(f"{where}: not a number")
    if name in RATIOS:
        if not 0 < value < 1:
            raise AlertingConfigError(f"{where}: a share, between 0 and 1 (0.9 is 90%)")
        return float(value)
    if name in FACTORS:
        if value <= 1:
            raise AlertingConfigError(f"{where}: a factor above 1")
        return value
    if not isinstance(value, int) or value < 1:
        raise AlertingConfigError(f"{where}: a whole number, at least 1")
    return value


def parse(text: str, source: str = "<config>") -> AlertingConfig:
    """An AlertingConfig from the TOML text of a config; every key is required and checked."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AlertingConfigError(f"{source}: not TOML ({exc})") from None
    unknown = set(data) - {"scrape", "links", "benchmarks"}
    if unknown:
        raise AlertingConfigError(f"{source}: unknown table(s) {', '.join(sorted(unknown))}")
    scrape = _table(data, "scrape", {"job", "workbench_job"}, source)
    links = _table(data, "links", {"runbook_base", "workbench_url"}, source)
    names = {f.name for f in fields(Benchmarks)}
    benchmarks = _table(data, "benchmarks", names, source)
    for key in ("job", "workbench_job"):
        if not isinstance(scrape[key], str) or not JOB.fullmatch(scrape[key]):
            raise AlertingConfigError(
                f"{source}: [scrape] {key} = {scrape[key]!r}: letters, digits, '_', '.', ':' or '-', "
                "starting with a letter or digit"
            )
    if scrape["job"] == scrape["workbench_job"]:
        raise AlertingConfigError(f"{source}: [scrape] job and workbench_job must differ")
    for key in ("runbook_base", "workbench_url"):
        if not isinstance(links[key], str) or not URL.fullmatch(links[key]):
            raise AlertingConfigError(
                f"{source}: [links] {key} = {links[key]!r}: an http(s) URL without spaces, quotes or braces"
            )
    if not links["runbook_base"].endswith("/"):
        raise AlertingConfigError(f"{source}: [links] runbook_base must end with '/' (<AlertName>.md is appended)")
    if links["workbench_url"].endswith("/"):
        raise AlertingConfigError(f"{source}: [links] workbench_url without a trailing slash ('/cases' is appended)")
    return AlertingConfig(
        job=scrape["job"],
        workbench_job=scrape["workbench_job"],
        runbook_base=links["runbook_base"],
        workbench_url=links["workbench_url"],
        benchmarks=Benchmarks(**{name: _benchmark(name, benchmarks[name], source) for name in sorted(names)}),
    )


def load(path: str | Path = DEFAULT_CONFIG) -> AlertingConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AlertingConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse(text, str(path))


# -- rendering ----------------------------------------------------------------------------


def _ratio(value: float) -> str:
    """A share as the rules write it: 0.9 -> 0.90, 0.073 -> 0.073."""
    return f"{value:.2f}" if round(value, 2) == value else format(value, "g")


def _percent(value: float) -> str:
    """A share as the alerts' text writes it: 0.9 -> 90%, 0.073 -> 7.3%."""
    return format(round(value * 100, 6), "g") + "%"


def _number(value: float) -> str:
    return format(value, "g")


def _duration(seconds: int, article: bool = False) -> str:
    """Seconds in words: 1800 -> 30 minutes, 3600 -> 1 hour (or "an hour" with article)."""
    for size, unit, one in ((3600, "hour", "an hour"), (60, "minute", "a minute"), (1, "second", "a second")):
        if seconds % size == 0:
            count = seconds // size
            if count == 1:
                return one if article else f"1 {unit}"
            return f"{count} {unit}s"
    raise AssertionError("unreachable: every whole number of seconds divides by 1")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        comment_start_string="[#",
        comment_end_string="#]",
    )
    env.filters.update(ratio=_ratio, percent=_percent, number=_number, duration=_duration)
    return env


def config_name(path: str | Path) -> str:
    """How a generated file's header names its config: the repository's as
    deploy/prometheus/alerting.toml wherever it is read from, any other as given."""
    path = Path(path)
    if path.resolve().parts[-len(DEFAULT_CONFIG.parts) :] == DEFAULT_CONFIG.parts:
        return DEFAULT_CONFIG.as_posix()
    return str(path)


def header(config: str, template: str) -> str:
    return (
        f"# generated by python -m cdi.alerting from {config}; edit that, not this\n"
        f"# (the rules themselves: services/cdi/alerting/templates/{template}).\n"
        "#\n"
    )


def render(config: AlertingConfig, config_source: str = DEFAULT_CONFIG.as_posix()) -> dict[str, str]:
    """Rule file name -> its text, rendered from `config`; `config_source` is named in each header."""
    env = _environment()
    values = {
        "job": config.job,
        "workbench_job": config.workbench_job,
        "runbook_base": config.runbook_base,
        "workbench_url": config.workbench_url,
        "b": config.benchmarks,
        "national_rape_no_crime_rate": NATIONAL_RAPE_NO_CRIME_RATE,
    }
    return {
        filename: header(config_source, template) + env.get_template(template).render(values)
        for filename, template in RULE_FILES.items()
    }


def generate(config_path: str | Path = DEFAULT_CONFIG, out_dir: str | Path = DEFAULT_OUT_DIR) -> list[Path]:
    """Render the rules from the config at `config_path` into `out_dir` (created if missing);
    returns the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in render(load(config_path), config_name(config_path)).items():
        path = out / filename
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


__all__ = [
    "DEFAULT_CONFIG",
    "DEFAULT_OUT_DIR",
    "REGENERATE_COMMAND",
    "RULE_FILES",
    "AlertingConfig",
    "AlertingConfigError",
    "Benchmarks",
    "config_name",
    "generate",
    "load",
    "parse",
    "render",
]
