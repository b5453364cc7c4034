"""``cdi report``: a self-contained HTML audit report of a monitor run.

``write_report(out, findings, observations, title=..., sources=..., rules_version=None)``
writes one HTML file (inline CSS and SVG charts, nothing fetched) with recording compliance and
timeliness by division and offence group with 95% Wilson intervals, the outcome mix, and the
findings by rule, severity and division with their evidence, the breaches apart from those for
review; it returns a ``ReportSummary``.
See docs/report.md for the sections and definitions.
"""

from cdi.report.compliance import Proportion, wilson_interval
from cdi.report.page import write_report
from cdi.report.summary import ReportSummary

__all__ = ["Proportion", "ReportSummary", "wilson_interval", "write_report"]
