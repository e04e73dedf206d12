"""The feedback controller (MEDM-GEN Algorithm 3), generic over modalities.

After each pass it compares every pattern's realized value with its target and moves
the *effective* target the generator aims for by ``gain`` times the error, within the
quantity's bounds. Generators are deterministic given the seed, so the same random
numbers are reused on every pass and the correction converges instead of chasing noise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from medmgen.ledger import Pattern


def initial_targets(patterns: Iterable[Pattern]) -> dict[str, float]:
    return {p.id: t for p in patterns if (t := p.target()) is not None}


def adjust(effective: Mapping[str, float], realized: Iterable[Pattern], gain: float) -> dict[str, float]:
    """Next pass's effective targets: ``eff + gain * (target - realized)``, clipped to bounds."""
    out = dict(effective)
    for p in realized:
        t, r = p.target(), p.realized()
        if t is None or r is None or p.id not in out:
            continue
        lo, hi = p.value_bounds
        out[p.id] = min(hi, max(lo, out[p.id] + gain * (t - r)))
    return out


def max_deviation_by_quantity(patterns: Iterable[Pattern]) -> dict[str, float]:
    out: dict[str, float] = {}
    for p in patterns:
        d = p.deviation()
        if d is not None and p.quantity:
            out[p.quantity] = max(out.get(p.quantity, 0.0), d)
    return out
