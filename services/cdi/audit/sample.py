"""The audit sample: a seeded stratified random draw from a period's population, written as one
``audit.sample`` event (schemas/audit.sample.v1.json), a named batch of review tasks.

Within each stratum the draw is a simple random sample without replacement: every unit gets a
uniform key from ``random.Random(seed).random()``, drawn in a fixed order (strata by name, units
by id), and the n_h units with the smallest keys are taken. ``random()`` is the one stream Python
guarantees to repeat for a seed on every platform and version, so the same population and seed
give the same sample anywhere; a different seed gives a different one. Each item carries its
design weight N_h / n_h.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cdi.audit.allocation import WORST_CASE, capped, proportional, size_for_accuracy
from cdi.audit.population import DECIDED, DISPOSAL, FINDING, INCIDENT, Population
from cdi.core.times import format_time, parse_time

TYPE = "audit.sample"
SCHEMA_VERSION = 1
ALL_DIVISIONS = "ALL"  # the envelope's division of a sample drawn across divisions
PROPORTIONAL, TARGET_WIDTH = "proportional", "target_width"
# The largest audit.sample event (the contract's 50,000 items) before compression: over a stock
# broker's 1 MB message limit, so its producers compress it, and its readers accept it.
MAX_SAMPLE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Stratum:
    name: str
    kind: str
    population: int  # N_h
    sample: int  # n_h


@dataclass(frozen=True, slots=True)
class Item:
    kind: str
    id: str
    division: str
    stratum: str
    weight: float  # N_h / n_h

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "division": self.division,
            "stratum": self.stratum,
            "weight": self.weight,
        }


@dataclass(frozen=True, slots=True)
class Design:
    allocation: str  # PROPORTIONAL (--size) or TARGET_WIDTH
    incidents: int  # incident sample size asked for (before the per-stratum minimum)
    strata: tuple[Stratum, ...]
    target_width: float | None = None
    prior: float | None = None
    crime_share: float | None = None  # share of incidents expected to be crimes (target width)
    findings_per_rule: int = 0
    disposals: int = 0
    confidence: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "stratified_simple_random",
            "allocation": self.allocation,
            "confidence": self.confidence,
            "incidents": self.incidents,
            "target_width": self.target_width,
            "prior": self.prior,
            "crime_share": self.crime_share,
            "findings_per_rule": self.findings_per_rule,
            "disposals": self.disposals,
            "strata": [
                {"stratum": s.name, "kind": s.kind, "population": s.population, "sample": s.sample} for s in self.strata
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Design:
        return cls(
            data["allocation"],
            data["incidents"],
            tuple(Stratum(s["stratum"], s["kind"], s["population"], s["sample"]) for s in data["strata"]),
            data.get("target_width"),
            data.get("prior"),
            data.get("crime_share"),
            data.get("findings_per_rule", 0),
            data.get("disposals", 0),
            data.get("confidence", 0.95),
        )

    def sizes(self) -> dict[str, int]:
        return {s.name: s.population for s in self.strata}


@dataclass(frozen=True, slots=True)
class AuditSample:
    sample_id: str
    force: str
    division: str
    start: int
    end: int
    seed: int
    design: Design
    items: tuple[Item, ...]
    sources: tuple[str, ...] = ()

    def to_event(self) -> dict[str, Any]:
        return {
            "event_id": f"sample:{self.sample_id}",
            "type": TYPE,
            "schema_version": SCHEMA_VERSION,
            # When the sample was drawn, as event time: the period's end, so that the same
            # population and seed give the same bytes.
            "occurred_at": format_time(self.end),
            "force": self.force,
            "division": self.division,
            "payload": {
                "sample_id": self.sample_id,
                "period": {"start": format_time(self.start), "end": format_time(self.end)},
                "seed": self.seed,
                "sources": list(self.sources),
                "design": self.design.to_dict(),
                "items": [item.to_dict() for item in self.items],
            },
        }

    @classmethod
    def from_event(cls, record: Mapping[str, Any]) -> AuditSample:
        payload = record["payload"]
        return cls(
            payload["sample_id"],
            record["force"],
            record["division"],
            parse_time(payload["period"]["start"]),
            parse_time(payload["period"]["end"]),
            payload["seed"],
            Design.from_dict(payload["design"]),
            tuple(Item(i["kind"], i["id"], i["division"], i["stratum"], i["weight"]) for i in payload["items"]),
            tuple(payload.get("sources", ())),
        )

    def count(self, kind: str) -> int:
        return sum(1 for item in self.items if item.kind == kind)


def default_id(population: Population, seed: int) -> str:
    """A name for the batch: the period's dates and the seed."""
    start, end = format_time(population.start)[:10], format_time(max(population.end - 1, population.start))[:10]
    return f"audit-{start}-{end}-s{seed}"


def draw(population: Population, seed: int, sizes: Mapping[str, int]) -> list[Item]:
    """``sizes[stratum]`` units from each stratum by simple random sampling without replacement."""
    rng = random.Random(seed)
    uniform = rng.random
    items: list[Item] = []
    for name, units in population.strata().items():  # by stratum name
        # A key for every unit of every stratum, taken or not: a stratum's draw does not depend on
        # how many units the strata before it gave. Units are in id order within a stratum.
        keys = [uniform() for _ in units]
        n = min(sizes.get(name, 0), len(units))
        if n <= 0:
            continue
        chosen = sorted(heapq.nsmallest(n, range(len(units)), key=keys.__getitem__))
        weight = len(units) / n
        items += [Item(units[i].kind, units[i].id, units[i].division, name, weight) for i in chosen]
    return items


def strata_of(population: Population, sizes: Mapping[str, int]) -> tuple[Stratum, ...]:
    return tuple(
        Stratum(name, units[0].kind, len(units), min(sizes.get(name, 0), len(units)))
        for name, units in sorted(population.strata().items())
    )


def draw_sample(
    population: Population,
    seed: int,
    *,
    size: int | None = None,
    target_width: float | None = None,
    prior: float = WORST_CASE,
    findings_per_rule: int = 30,
    disposals: int = 100,
    sample_id: str | None = None,
) -> AuditSample:
    """The audit sample of ``population``: ``size`` incidents (or as many as a +-``target_width``
    interval on recording accuracy needs), up to ``findings_per_rule`` findings of each rule and
    ``disposals`` out-of-court disposals, each part allocated over its strata."""
    if (size is None) == (target_width is None):
        raise ValueError("give either a sample size or a target width")
    incidents = {name: len(units) for name, units in population.strata(INCIDENT).items()}
    total = sum(incidents.values())
    crime_share = None
    if target_width is not None:
        indicative = sum(1 for unit in population.units if unit.kind == INCIDENT and unit.result in DECIDED)
        crime_share = indicative / total if total else 1.0
        wanted = size_for_accuracy(target_width, total, crime_share or 1.0, prior)
    else:
        assert size is not None
        wanted = min(size, total)
    sizes = proportional(incidents, wanted)
    sizes |= capped({name: len(units) for name, units in population.strata(FINDING).items()}, findings_per_rule)
    sizes |= proportional({name: len(units) for name, units in population.strata(DISPOSAL).items()}, disposals)
    design = Design(
        TARGET_WIDTH if target_width is not None else PROPORTIONAL,
        wanted,
        strata_of(population, sizes),
        target_width=target_width,
        prior=prior if target_width is not None else None,
        crime_share=round(crime_share, 6) if crime_share is not None else None,
        findings_per_rule=findings_per_rule,
        disposals=disposals,
    )
    divisions = population.divisions
    return AuditSample(
        sample_id or default_id(population, seed),
        population.force or "UNKNOWN",
        divisions[0] if len(divisions) == 1 else ALL_DIVISIONS,
        population.start,
        population.end,
        seed,
        design,
        tuple(draw(population, seed, sizes)),
        tuple(population.sources),
    )
