"""The feedback controller (MEDM-GEN Algorithm 3), generic over modalities.

After each pass it compares every pattern's realized value with its target and moves
the *effective* target the generator aims for by ``gain`` times the error, within the
quantity's bounds. Generators are deterministic given the seed, so the same random
numbers are reused on every pass and the correction converges instead of chasing noise.
"""

from __future__ import annotations

from collections.abc import Iterable

from attrs import define, field

from medmgen.ledger import Pattern


@define
class Controller:
    """Moves each pattern's effective target by ``gain * (target - realized)`` per pass.

    A pattern whose error changes sign between passes is overshooting (realized values
    move in steps of one record, so a full correction can jump past the target): its
    own gain is halved, which damps the oscillation instead of bouncing forever. Aims are
    keyed like :meth:`medmgen.ledger.Pattern.quantities`: the id for the main quantity,
    ``id#quantity`` for the others (a rule's support). The planned patterns' quantities
    start at their targets; a quantity first reported by a pass (a record the generator
    makes as it generates, such as a drift's ``id#before`` and ``id#after`` segments) joins
    at its target then, which is what the generator aimed at without a key.
    """

    effective: dict[str, float]
    gain: float
    gains: dict[str, float] = field(factory=dict)
    last_error: dict[str, float] = field(factory=dict)

    @classmethod
    def start(cls, patterns: Iterable[Pattern], gain: float) -> Controller:
        return cls(effective={key: t for p in patterns for _, key, t, _ in p.quantities() if t is not None},
                   gain=gain)

    def adjust(self, realized: Iterable[Pattern]) -> dict[str, float]:
        """Next pass's effective targets, clipped to each quantity's bounds."""
        for p in realized:
            for quantity, key, t, r in p.quantities():
                if t is None or r is None:
                    continue
                self.effective.setdefault(key, t)
                error = t - r
                gain = self.gains.get(key, self.gain)
                if error * self.last_error.get(key, 0.0) < 0:
                    gain /= 2
                self.gains[key], self.last_error[key] = gain, error
                lo, hi = p.value_bounds if quantity == p.quantity else (0.0, 1.0)
                self.effective[key] = min(hi, max(lo, self.effective[key] + gain * error))
        return dict(self.effective)


def max_deviation_by_quantity(patterns: Iterable[Pattern]) -> dict[str, float]:
    out: dict[str, float] = {}
    for p in patterns:
        for quantity, d in p.deviations().items():
            out[quantity] = max(out.get(quantity, 0.0), d)
    return out
