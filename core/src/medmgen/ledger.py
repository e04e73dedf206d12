"""The ground-truth ledger: planted patterns with target and realized values.

Every record is a frozen attrs class derived from :class:`Pattern`; plugins register
their kinds through the ``medmgen_ledger_kinds`` hook. ``ledger.json`` is versioned
(``medmgen.ledger/1``) and reads back into the same typed objects.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
from attrs import evolve, frozen

from medmgen.converter import converter
from medmgen.errors import InputError, Problem

FORMAT = "medmgen.ledger/1"
STATUSES = ("kept", "weakened", "destroyed")


@frozen(kw_only=True)
class Event:
    """One thing a stage did to a pattern (repair, privacy, feedback)."""

    stage: str
    action: str
    before: float | None = None
    after: float | None = None


@frozen(kw_only=True)
class Pattern:
    """Base of every ledger record.

    Subclasses set ``kind`` and, when the pattern has a numeric target that the
    feedback controller can steer, ``quantity`` (``"support"``, ``"mixing"``, ...)
    plus ``target_field`` and ``realized_field`` naming the two attributes. A pattern
    with more than one planted quantity (a rule: confidence, and the support of A ∪ C)
    lists the others in ``also`` as ``(quantity, target_field, realized_field)``: they
    are judged, steered and given statuses like the main one.

    A record *about* another pattern (a drift) names the field holding that pattern's id in
    ``about_field``: it is not counted as a planted pattern, but its quantities are judged
    and its status carries over to the pattern it describes.
    """

    kind: ClassVar[str] = ""
    quantity: ClassVar[str | None] = None
    target_field: ClassVar[str | None] = None
    realized_field: ClassVar[str | None] = None
    value_bounds: ClassVar[tuple[float, float]] = (0.0, 1.0)
    also: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    about_field: ClassVar[str | None] = None

    id: str
    block: str
    status: str = "kept"
    history: list[Event] = attrs.field(factory=list)

    def target(self) -> float | None:
        return None if self.target_field is None else getattr(self, self.target_field)

    def realized(self) -> float | None:
        return None if self.realized_field is None else getattr(self, self.realized_field)

    def with_realized(self, value: float) -> Pattern:
        if self.realized_field is None:
            return self
        return evolve(self, **{self.realized_field: value})

    def deviation(self) -> float | None:
        t, r = self.target(), self.realized()
        if t is None or r is None:
            return None
        return abs(r - t)

    def quantities(self) -> list[tuple[str, str, float | None, float | None]]:
        """Every planted quantity as ``(quantity, key, target, realized)``, the main one first;
        ``key`` names it in the controller's aims (the id; ``id#quantity`` for the others)."""
        out: list[tuple[str, str, float | None, float | None]] = []
        if self.quantity:
            out.append((self.quantity, self.id, self.target(), self.realized()))
        for quantity, target, realized in self.also:
            out.append((quantity, f"{self.id}#{quantity}", getattr(self, target), getattr(self, realized)))
        return out

    def about(self) -> str | None:
        """The id of the pattern this record describes (``about_field``), None for a planted pattern."""
        return None if self.about_field is None else getattr(self, self.about_field)

    def deviations(self) -> dict[str, float]:
        """Largest |realized - target| per quantity over the planted quantities that have both
        (a drift's two segments are both ``support``)."""
        out: dict[str, float] = {}
        for q, _, t, r in self.quantities():
            if t is not None and r is not None:
                out[q] = max(out.get(q, 0.0), abs(r - t))
        return out

    def with_event(self, event: Event, status: str | None = None) -> Pattern:
        return evolve(self, history=[*self.history, event], status=status or self.status)


@frozen(kw_only=True)
class Drift(Pattern):
    """A planted change of a pattern's target (``changes``, e.g. support) at a record index.

    Owned by the core so every modality shares one ``drift`` kind.

    Records ``0..at-1`` aim at ``target_before`` (``at`` is the first record starting at
    ``at_time`` or later when the spec gave a time); records from ``at + width`` on aim at
    ``target_after``; a gradual change ramps linearly over the ``width`` records between.
    Realized supports are counted exactly per segment. The segments before and after the
    change are planted quantities (keys ``<id>#before`` and ``<id>#after``): judged by the
    ``changes`` quantity's threshold (``max_support_deviation``), steered by the feedback
    loop, and given a status that carries over to ``pattern``. The ramp of a gradual change
    is counted (``realized_during``) but not judged.
    """

    kind = "drift"
    about_field = "pattern"

    pattern: str
    changes: str = "support"
    shape: str = "abrupt"
    at: int
    at_time: int | None = None
    width: int = 0
    target_before: float
    target_after: float
    realized_before: float | None = None
    realized_during: float | None = None
    realized_after: float | None = None

    def quantities(self) -> list[tuple[str, str, float | None, float | None]]:
        return [(self.changes, f"{self.id}#before", self.target_before, self.realized_before),
                (self.changes, f"{self.id}#after", self.target_after, self.realized_after)]


@frozen(kw_only=True)
class Ledger:
    """All patterns of one dataset package."""

    seed: int
    patterns: list[Pattern] = attrs.field(factory=list)
    accidental: list[Pattern] = attrs.field(factory=list)

    def planted(self) -> list[Pattern]:
        """The planted patterns: ``patterns`` without the records about one of them (drifts)."""
        return [p for p in self.patterns if p.about() is None]

    def by_id(self) -> dict[str, Pattern]:
        return {p.id: p for p in self.patterns}

    def for_block(self, block: str) -> list[Pattern]:
        return [p for p in self.patterns if p.block == block]


def pattern_to_dict(p: Pattern) -> dict[str, Any]:
    body = converter.unstructure(p)
    head = {"id": body.pop("id"), "block": body.pop("block"), "kind": p.kind}
    head["status"] = body.pop("status")
    history = body.pop("history")
    out = head | body
    if history:
        out["history"] = history
    return out


def to_json_dict(ledger: Ledger) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "seed": ledger.seed,
        "patterns": [pattern_to_dict(p) for p in ledger.patterns],
        "accidental": [pattern_to_dict(p) for p in ledger.accidental],
    }


def from_json_dict(
    data: Mapping[str, Any], kinds: Mapping[str, type[Pattern]], source: str = "ledger.json"
) -> Ledger:
    """Read a ledger back into typed records; every problem is reported with its path."""
    problems: list[Problem] = []
    if data.get("format") != FORMAT:
        raise InputError.one(source, "format", "unsupported ledger format", FORMAT, data.get("format"))
    lists: dict[str, list[Pattern]] = {"patterns": [], "accidental": []}
    for key, out in lists.items():
        for i, raw in enumerate(data.get(key, [])):
            path = f"{key}[{i}]"
            raw = dict(raw)
            kind = raw.pop("kind", None)
            cls = kinds.get(kind)  # type: ignore[arg-type]
            if cls is None:
                problems.append(Problem(f"{path}.kind", "unknown pattern kind", ", ".join(sorted(kinds)), kind))
                continue
            try:
                out.append(converter.structure(raw, cls))
            except Exception as exc:
                from medmgen.converter import problems_from

                problems.extend(problems_from(exc, path))
    if problems:
        raise InputError(source, problems)
    return Ledger(seed=int(data["seed"]), patterns=lists["patterns"], accidental=lists["accidental"])


def at_limit(value: float, limit: float) -> bool:
    """``value`` equals ``limit`` up to float rounding (``0.05 - 0.049`` is a deviation of
    exactly 0.001): such a value meets the limit."""
    return math.isclose(value, limit, rel_tol=1e-9, abs_tol=1e-12)


def status_for(p: Pattern, tolerances: Mapping[str, float]) -> str:
    """Default status over every planted quantity: destroyed at zero, weakened when more
    than the quantity's tolerance (``tolerances["support"]``, ...) below target."""
    judged = [(q, t, r) for q, _, t, r in p.quantities() if t is not None and r is not None]
    if not judged:
        return p.status
    if any(r <= 0.0 < t for _, t, r in judged):
        return "destroyed"
    if any(q in tolerances and t - r > tolerances[q] and not at_limit(t - r, tolerances[q]) for q, t, r in judged):
        return "weakened"
    return "kept"


def carry_statuses(patterns: list[Pattern]) -> list[Pattern]:
    """Each planted pattern's status made the worst of its own and those of the records
    about it (a drift segment that missed weakens its pattern)."""
    worst: dict[str, str] = {}
    for p in patterns:
        if (of := p.about()) is not None:
            worst[of] = max(worst.get(of, "kept"), p.status, key=STATUSES.index)
    out = []
    for p in patterns:
        status = max(p.status, worst.get(p.id, p.status), key=STATUSES.index)
        out.append(p if status == p.status else evolve(p, status=status))
    return out
