"""Synthetic force event histories with exact ground truth for the monitor's rules.

``simulate(SimulationOptions(...))`` draws an incident log and crime records for a synthetic
force, with configured shares of incidents never recorded, recorded late or legitimately
explained, plus feed noise (bounded disorder, duplicates); then the casework on its crimes:
reclassifications, cancellations, outcomes, and the offenders behind them with their national
record histories, with configured rates of decisions that break each rule. Its ``truth`` lists
the findings the monitor must raise and resolve, derived from the simulator's own decisions.

Hidden failure modes (``cdi.simulation.hidden``, rates 0 by default) add what real data has and
the rules cannot see; its ``audit_truth`` says, independently of the rules, what should have been
recorded and which findings a careful reviewer would confirm (``cdi.simulation.audit_truth``,
``true_rates``).
"""

from cdi.simulation.audit_truth import true_rates, write_audit_truth
from cdi.simulation.calibration import Calibration, derive_from_seattle, load_calibration
from cdi.simulation.criminal_history import derive_from_moj
from cdi.simulation.options import MONITOR_ALLOWED_LATENESS_MINUTES, SimulationOptions
from cdi.simulation.simulator import Simulation, simulate, write_simulation
from cdi.simulation.truth import CRD_LATE, NOT_CRIMED

__all__ = [
    "CRD_LATE",
    "MONITOR_ALLOWED_LATENESS_MINUTES",
    "NOT_CRIMED",
    "Calibration",
    "Simulation",
    "SimulationOptions",
    "derive_from_moj",
    "derive_from_seattle",
    "load_calibration",
    "simulate",
    "true_rates",
    "write_audit_truth",
    "write_simulation",
]
