"""From aims to carrier fractions: a model of realized support under independent placement.

A planted pattern puts its items into a fraction ``f_e`` of the transactions (an
*event*). A set ``X`` is contained in a transaction when every id of ``X`` comes from
some event or from the background, so, with patterns placed independently and the
background drawing id ``i`` with probability ``b_i``, by inclusion-exclusion over
``S ⊆ X``::

    support(X) = Σ_S (-1)^|S| · Π_{i ∈ S} (1 - b_i) · Π_owners (1 - Σ_{e of owner, e ∩ S ≠ ∅} f_e)

(events of one owner, a rule's A ∪ C carriers and its A-only carriers, are disjoint,
hence the sum). :func:`solve_fractions` finds the ``f`` whose modelled supports equal
the aims, so the feedback loop only has to correct what the model misses (sampling,
duplicate rejection). Sets larger than :data:`MAX_EXACT` are modelled by their
supersets alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from attrs import frozen

MAX_EXACT = 14
_SWEEPS = 100
_TOLERANCE = 1e-9


@frozen(kw_only=True)
class _Term:
    """The inclusion-exclusion rows of one target set, over the events that touch it."""

    events: np.ndarray  # indices of the relevant events
    hits: np.ndarray  # (rows, events): does the event meet S
    owners: np.ndarray  # (events, owners) one-hot
    weight: np.ndarray  # (rows,): (-1)^|S| · Π (1 - b_i)

    def support(self, f: np.ndarray) -> float:
        per_owner = (self.hits * f[self.events]) @ self.owners
        return float(self.weight @ np.prod(np.clip(1.0 - per_owner, 0.0, 1.0), axis=1))


def _term(target: frozenset[int], events: Sequence[frozenset[int]], owners: Sequence[int],
          background: np.ndarray, holders: dict[int, list[int]] | None = None) -> _Term:
    items = sorted(target)
    exact = len(items) <= MAX_EXACT
    if holders is None:
        holders = _holders(events)
    near = sorted({k for i in items for k in holders.get(i, ())})
    touch = [k for k in near if exact or target <= events[k]]
    names = sorted({owners[k] for k in touch})
    one_hot = np.zeros((len(touch), len(names)))
    for j, k in enumerate(touch):
        one_hot[j, names.index(owners[k])] = 1.0
    if not exact:
        hits = np.array([[0.0] * len(touch), [1.0] * len(touch)])
        return _Term(events=np.array(touch, dtype=np.int64), hits=hits, owners=one_hot, weight=np.array([1.0, -1.0]))
    n = len(items)
    rows = np.arange(1 << n, dtype=np.int64)
    bits = ((rows[:, None] >> np.arange(n)) & 1).astype(np.float64)
    masks = np.array([sum(1 << b for b, i in enumerate(items) if i in events[k]) for k in touch], dtype=np.int64)
    hits = ((rows[:, None] & masks[None, :]) != 0).astype(np.float64)
    log_miss = np.log1p(-np.minimum(background[items], 1.0 - 1e-12))
    weight = np.where(bits.sum(axis=1) % 2 == 0, 1.0, -1.0) * np.exp(bits @ log_miss)
    return _Term(events=np.array(touch, dtype=np.int64), hits=hits, owners=one_hot, weight=weight)


def _holders(events: Sequence[frozenset[int]]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for k, e in enumerate(events):
        for i in e:
            out.setdefault(i, []).append(k)
    return out


def solve_fractions(events: Sequence[frozenset[int]], owners: Sequence[int], aims: Sequence[float],
                    background: np.ndarray) -> np.ndarray:
    """Event fractions ``f`` with modelled ``support(events[k]) == aims[k]`` (within [0, 1]).

    ``background[i]`` is the chance that the background alone puts id ``i`` into a
    transaction. Gauss-Seidel sweeps, largest sets first: a set's modelled support is
    affine in its own event's fraction, so each step solves that coordinate exactly;
    events of one owner never sum above 1.
    """
    holders = _holders(events)
    terms = [_term(e, events, owners, background, holders) for e in events]
    target = np.asarray(aims, dtype=np.float64)
    f = np.zeros(len(events))
    order = sorted(range(len(events)), key=lambda k: (-len(events[k]), k))
    group: dict[int, list[int]] = {}
    for k, o in enumerate(owners):
        group.setdefault(o, []).append(k)
    for _ in range(_SWEEPS):
        worst = 0.0
        for k in order:
            previous = f[k]
            room = 1.0 - sum(f[j] for j in group[owners[k]]) + previous
            f[k] = 0.0
            low = terms[k].support(f)
            f[k] = room
            slope = (terms[k].support(f) - low) / room if room > 0 else 0.0
            f[k] = min(room, max(0.0, (target[k] - low) / slope)) if slope > 0 else 0.0
            worst = max(worst, abs(f[k] - previous))
        if worst < _TOLERANCE:
            break
    return f
