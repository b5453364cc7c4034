"""Control room: what is wrong right now (alerts, new findings, open cases, dead letters).

Every panel about findings links to the case workbench (`cdi serve`, base URL in the `workbench`
variable): its list of open cases of the selected pipeline, filtered by what the panel or the
clicked series shows (severity, rule, division)."""

from __future__ import annotations

from .panels import (
    DIVISION,
    PIPELINE,
    Board,
    Query,
    division_variable,
    instant_table,
    single_stat,
    time_series,
    workbench_link,
    workbench_variable,
)

UID = "cdi-control-room"
TITLE = "CDI Monitor — Control room"
FILENAME = "control-room.json"


def build() -> Board:
    board = Board(
        uid=UID,
        title=TITLE,
        description=(
            "What needs attention now: firing alerts, findings raised by the detection rules, "
            "incidents still awaiting a recording decision, and records the monitor could not process."
        ),
        time_from="now-24h",
        refresh="1m",
        variables=[division_variable("cdi_recording_decisions_total"), workbench_variable()],
    )
    board.add(
        single_stat(
            "Critical findings, last 24 h",
            "Number of critical-severity findings raised in the last 24 hours in the selected divisions "
            "(for example a caution for an indictable-only offence, or a rape record cancelled by someone "
            "other than the force crime registrar). Green at zero, red from one: every critical finding "
            "needs review by the crime registrar's team. Click the value for the open critical cases "
            "in the case workbench (all divisions).",
            [
                Query(
                    'round(sum(increase(cdi_findings_raised_total{severity="critical", '
                    f"{DIVISION}, {PIPELINE}}}[24h]))) or vector(0)"
                )
            ],
            steps=[(None, "green"), (1, "red")],
            links=[workbench_link("Open critical cases (all divisions) in the case workbench", severity="critical")],
        ),
        single_stat(
            "High findings, last 24 h",
            "Number of high-severity findings raised in the last 24 hours in the selected divisions (for "
            "example an unrecorded crime-indicative incident for a sexual offence, violence or robbery). "
            "Green at zero, orange from one. Click the value for the open high cases in the case "
            "workbench (all divisions).",
            [
                Query(
                    'round(sum(increase(cdi_findings_raised_total{severity="high", '
                    f"{DIVISION}, {PIPELINE}}}[24h]))) or vector(0)"
                )
            ],
            steps=[(None, "green"), (1, "orange")],
            links=[workbench_link("Open high cases (all divisions) in the case workbench", severity="high")],
        ),
        single_stat(
            "Dead letters, last 24 h",
            "Input records the monitor set aside on the dead-letter topic in the last 24 hours, across "
            "all divisions: records that could not be decoded or broke their contract, and events that "
            "arrived too late. Dead-lettered events are not checked by the rules, so anything above zero "
            "means the findings may be incomplete; see Pipeline health for the reasons.",
            [Query(f"round(sum(increase(cdi_dead_letters_total{{{PIPELINE}}}[24h]))) or vector(0)")],
            steps=[(None, "green"), (1, "orange")],
        ),
    )
    board.add(
        instant_table(
            "Active alerts",
            "Prometheus alerts firing now, one row per alert, with their labels (alert name, severity "
            "and, where the alert has them, rule and division). An empty table means nothing is firing. "
            "Not filtered by the division selector, so alerts about the monitor itself always show; only "
            "the selected pipeline's alerts are listed (a replay's alerts notify no one). A rule or division "
            "cell links to that alert's open cases in the case workbench.",
            [Query(f'ALERTS{{alertstate="firing", {PIPELINE}}}')],
            hide_columns=["Time", "Value", "__name__", "alertstate", "pipeline"],
            column_links={
                "rule": [
                    workbench_link(
                        "Open ${__data.fields.rule} cases in ${__data.fields.division} in the case workbench",
                        rule="${__data.fields.rule}",
                        division="${__data.fields.division}",
                    )
                ],
                "division": [
                    workbench_link(
                        "Open cases in ${__data.fields.division} in the case workbench",
                        division="${__data.fields.division}",
                    )
                ],
            },
        )
    )
    board.add(
        time_series(
            "Findings per hour by rule",
            "Findings raised in the previous hour, by detection rule, for the selected divisions. Each "
            "point counts the findings of the 60 minutes before it, so a single finding shows as a step "
            "lasting an hour. A rule that suddenly rises points at a practice or system change. Click a "
            "line for that rule's open cases in the case workbench (all divisions).",
            [
                Query(
                    f"sum by (rule) (rule_division:cdi_findings_raised:increase1h{{{DIVISION}, {PIPELINE}}})",
                    "{{rule}}",
                )
            ],
            legend_table=True,
            links=[
                workbench_link(
                    "Open ${__field.labels.rule} cases (all divisions) in the case workbench",
                    rule="${__field.labels.rule}",
                )
            ],
        ),
        time_series(
            "Findings per hour by division",
            "Findings raised in the previous hour, all rules together, by division. Each point counts "
            "the findings of the 60 minutes before it. Compare divisions of similar size: one division "
            "well above the others deserves a look at its local practice. Click a line for that division's "
            "open cases in the case workbench.",
            [
                Query(
                    f"sum by (division) (rule_division:cdi_findings_raised:increase1h{{{DIVISION}, {PIPELINE}}})",
                    "{{division}}",
                )
            ],
            legend_table=True,
            links=[
                workbench_link(
                    "Open cases in ${__field.labels.division} in the case workbench",
                    division="${__field.labels.division}",
                )
            ],
        ),
    )
    board.add(
        time_series(
            "Open cases awaiting a recording decision by division",
            "Crime-indicative incidents that have no recording decision yet (no crime recorded, not "
            "closed with a recorded rationale), summed over the workers, by division. The line rises "
            "with incoming demand and falls as crimes are recorded; a line that keeps climbing means "
            "decisions are falling behind the 24-hour recording deadline. Click a line for the division's "
            "incidents past the deadline (CRIME_INDICATIVE_INCIDENT_NOT_CRIMED cases) in the case workbench.",
            [Query(f"sum by (division) (cdi_open_cases{{{DIVISION}, {PIPELINE}}})", "{{division}}")],
            width=24,
            links=[
                workbench_link(
                    "Open incidents past the recording deadline in ${__field.labels.division} in the case workbench",
                    rule="CRIME_INDICATIVE_INCIDENT_NOT_CRIMED",
                    division="${__field.labels.division}",
                )
            ],
        )
    )
    return board
