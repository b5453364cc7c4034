"""Incident-code classes as the recording rules define them, over the monitor's reference tables.

The tables themselves come from ``cdi.reference`` (manifest-driven), so the simulator can only
emit codes the monitor knows and agrees with it on every code's class and offence group.
"""

from __future__ import annotations

from cdi.core.reference import IncidentCode, OffenceCode, ReferenceData
from cdi.reference import load as load_reference

__all__ = ["IncidentCode", "OffenceCode", "ReferenceData", "load_reference"]

CRIME = "crime"  # crime-indicative
# Closing classes that, with a rationale, explain why a crime-indicative incident was not crimed.
EXPLAINING_CLASSES = frozenset({"non_crime", "sink", "admin"})


def can_open(code: IncidentCode) -> bool:
    return code.stage in ("opening", "both")


def can_close(code: IncidentCode) -> bool:
    return code.stage in ("closing", "both")
