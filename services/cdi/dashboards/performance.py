"""Recording and outcomes: compliance, timeliness, outcome mix, cancellations, reclassifications."""

from __future__ import annotations

from .panels import (
    COUNT,
    DIVISION,
    PERCENT,
    PIPELINE,
    Board,
    Line,
    Query,
    bar_gauge,
    division_variable,
    time_series,
)

UID = "cdi-performance"
TITLE = "CDI Monitor — Recording and outcomes"
FILENAME = "performance.json"

#: Recording compliance target drawn on the compliance panels (share of crime-indicative incidents recorded).
COMPLIANCE_TARGET = 0.90
#: Target share of crimes recorded within 24 hours of the report.
WITHIN_24H_TARGET = 0.95
#: National rate of rape records cancelled per rape recorded, drawn as the comparison line.
RAPE_CANCELLATION_NATIONAL = 0.073


def build() -> Board:
    board = Board(
        uid=UID,
        title=TITLE,
        description=(
            "How well the force records crime and what happens to it afterwards: recording compliance "
            "and timeliness, outcome mix, cancellations and downward reclassifications, by division."
        ),
        time_from="now-30d",
        refresh="5m",
        variables=[division_variable("cdi_recording_decisions_total")],
    )
    board.row("Recording compliance")
    board.add(
        time_series(
            "Recording compliance by division",
            "Share of crime-indicative incidents reaching their recording deadline in the past day that "
            "were recorded as crimes (or closed with a recorded rationale), per division. The dashed line "
            "is the 90% target: a division below it is leaving crimes unrecorded. Each point covers the "
            "24 hours before it, so a bad day shows as a dip lasting a day.",
            [Query(f"division:cdi_recording_compliance:ratio1d{{{DIVISION}, {PIPELINE}}}", "{{division}}")],
            unit=PERCENT,
            max_value=1,
            line=Line(COMPLIANCE_TARGET, below="red", above="green"),
        ),
        time_series(
            "Recorded within 24 hours by division",
            "Share of crimes recorded in the past day whose record was made within 24 hours of the "
            "report, per division. The dashed line is the 95% target: below it, recording decisions are "
            "being made late even when the crime is recorded in the end.",
            [Query(f"division:cdi_recorded_within_24h:ratio1d{{{DIVISION}, {PIPELINE}}}", "{{division}}")],
            unit=PERCENT,
            max_value=1,
            line=Line(WITHIN_24H_TARGET, below="red", above="green"),
        ),
        time_series(
            "Recording compliance by division and offence group",
            "The recording compliance of the panel above split by offence group within each division. "
            "The dashed line is the 90% target. Use it to see which kinds of crime go unrecorded; the "
            "table on the right lists the latest, lowest and highest value of each series, lowest first. "
            "Small offence groups swing widely from day to day, so read them together with their volume.",
            [
                Query(
                    f"division_offence_group:cdi_recording_compliance:ratio1d{{{DIVISION}, {PIPELINE}}}",
                    "{{division}} / {{offence_group}}",
                )
            ],
            unit=PERCENT,
            max_value=1,
            width=24,
            height=10,
            line=Line(COMPLIANCE_TARGET, below="red", above="green"),
            legend_table=True,
            lowest_first=True,
        ),
    )
    board.row("Outcomes")
    board.add(
        time_series(
            "Out-of-court disposal share by offence group",
            "Share of outcomes assigned in the past 30 days that were out-of-court disposals (youth or "
            "adult caution, penalty notice for disorder, cannabis or khat warning, community resolution), "
            "per division and offence group. A rising share for serious offence groups is a sign that "
            "disposals are being used outside their rules; the findings on the control room say which.",
            [
                Query(
                    f"division_offence_group:cdi_outcomes_out_of_court:ratio30d{{{DIVISION}, {PIPELINE}}}",
                    "{{division}} / {{offence_group}}",
                )
            ],
            unit=PERCENT,
            max_value=1,
            legend_table=True,
        ),
        time_series(
            "Outcome 16 share by division",
            "Share of outcomes assigned in the past 30 days that were outcome 16 (evidential difficulties: "
            "suspect identified but the victim does not support action), per division. A high or rising share can mean "
            "investigations are being closed too readily on the victim's withdrawal.",
            [Query(f"division:cdi_outcomes_16:ratio30d{{{DIVISION}, {PIPELINE}}}", "{{division}}")],
            unit=PERCENT,
            max_value=1,
        ),
        bar_gauge(
            "Outcomes by type",
            "Number of outcomes assigned in the selected time range in the selected divisions, one bar "
            "per Home Office outcome type (1 charge or summons, 2 youth caution, 3 adult caution, "
            "6 penalty notice for disorder, 7 cannabis or khat warning, 8 community resolution, 14 suspect "
            "not identified, 16 victim does not support action, 18 no suspect identified, and so on; the "
            "full list is services/cdi/reference/outcome_types.csv). Read it as the outcome mix: which "
            "outcomes dominate and how that changes when you change the time range.",
            [
                Query(
                    f"round(sum by (outcome_type) (increase(cdi_outcomes_total{{{DIVISION}, {PIPELINE}}}[$__range])))",
                    "Outcome {{outcome_type}}",
                )
            ],
            unit=COUNT,
        ),
    )
    board.row("Cancellations and reclassifications")
    board.add(
        time_series(
            "Cancellations per crime by offence group",
            "Crime records cancelled or transferred (codes C1 to C5) in the past 30 days for each crime "
            "recorded in the same period, per division and offence group. A cancellation needs "
            "additional verifiable information and a registrar's authority, so a group that stands out "
            "deserves an audit of its cancellations.",
            [
                Query(
                    f"division_offence_group:cdi_cancellations_per_crime:ratio30d{{{DIVISION}, {PIPELINE}}}",
                    "{{division}} / {{offence_group}}",
                )
            ],
            unit=PERCENT,
            legend_table=True,
        ),
        time_series(
            "Rape cancellations per crime by division",
            "Rape records cancelled in the past 30 days for each rape recorded in the same period, per "
            "division. The dashed line is the national rate of 7.3%: a division above it cancels rape "
            "records more often than forces do nationally, and each cancellation should be checked.",
            [Query(f"division:cdi_rape_cancellations_per_crime:ratio30d{{{DIVISION}, {PIPELINE}}}", "{{division}}")],
            unit=PERCENT,
            line=Line(RAPE_CANCELLATION_NATIONAL, below="green", above="red"),
        ),
        time_series(
            "Downward reclassifications per day by division",
            "Crimes reclassified to a less serious offence in the past day, per division. Each point "
            "counts the 24 hours before it. Look for spikes near the end of a month, quarter or year: "
            "reclassifying down to meet a period-end figure is a known integrity risk.",
            [Query(f"division:cdi_reclassifications_down:increase1d{{{DIVISION}, {PIPELINE}}}", "{{division}}")],
            unit=COUNT,
            width=24,
        ),
    )
    return board
