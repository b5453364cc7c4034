"""The audit's estimates from a population, the verdicts that stand and (optionally) the sample
they are on: one function, so that `cdi audit estimate`, `cdi report --verdicts` and the
workbench give the same figures from the same verdicts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from cdi.audit import estimates
from cdi.audit.population import KINDS, Population
from cdi.audit.sample import AuditSample
from cdi.audit.verdicts import Verdict
from cdi.core.times import format_time


def assess(
    found: Population,
    standing: Mapping[tuple[str, str], Verdict],
    drawn: AuditSample | None,
    breakdowns: Sequence[str] = ("division",),
) -> tuple[estimates.AuditEstimates, estimates.Joined]:
    """(estimates, the verdicts joined to their units). With ``drawn``, its design (strata and
    N_h) is used; without, the population's strata, each stratum's reviewed items taken as its
    simple random sample."""
    joined = estimates.join(
        found,
        standing,
        drawn.design.sizes() if drawn is not None else None,
        {(item.kind, item.id): item.stratum for item in drawn.items} if drawn is not None else None,
    )
    result = estimates.estimate(found, joined.reviewed, joined.sizes, breakdowns)
    reviewed = Counter(r.unit.kind for r in joined.reviewed)
    sample_ids = sorted({v.sample_id for v in standing.values()})
    result.sample = {
        "sample_id": drawn.sample_id if drawn is not None else (sample_ids[0] if sample_ids else None),
        "seed": drawn.seed if drawn is not None else None,
        "period": {"start": format_time(found.start), "end": format_time(found.end)},
        "items": len(drawn.items) if drawn is not None else None,
        "verdicts": len(standing),
        "reviewed": dict(sorted(reviewed.items())),
        "not_in_population": len(joined.unmatched),
        "strata": len(joined.sizes),
        "strata_reviewed": len({r.stratum for r in joined.reviewed}),
        "population": {kind: found.count(kind) for kind in KINDS},
        "recorded_volume": found.recorded_volume,
    }
    return result, joined


def nothing_to_estimate(result: estimates.AuditEstimates) -> bool:
    """The verdicts judge no incident a crime, and no finding or disposal."""
    return (
        result.recording_accuracy.estimate is None
        and not result.rule_precision
        and result.disposals_appropriate.estimate is None
    )
