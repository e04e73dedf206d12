"""The support model against brute-force enumeration, and its solver."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from medmgen_transaction.model import _term, solve_fractions


def brute_support(target: frozenset[int], events: list[frozenset[int]], owners: list[int], f: list[float],
                  background: np.ndarray) -> float:
    """Enumerate which event each owner fires (at most one) and which ids the background adds."""
    by_owner: dict[int, list[int]] = {}
    for k, o in enumerate(owners):
        by_owner.setdefault(o, []).append(k)
    choices = [[None, *ks] for ks in by_owner.values()]
    items = sorted(target)
    total = 0.0
    for pick in itertools.product(*choices):
        p = 1.0
        covered: set[int] = set()
        for ks, k in zip(by_owner.values(), pick, strict=True):
            p *= (1.0 - sum(f[j] for j in ks)) if k is None else f[k]
            if k is not None:
                covered |= events[k]
        for bg in itertools.product([False, True], repeat=len(items)):
            q = p
            extra = set()
            for i, on in zip(items, bg, strict=True):
                q *= background[i] if on else 1.0 - background[i]
                if on:
                    extra.add(i)
            if target <= covered | extra:
                total += q
    return total


CASES = [
    ([{1, 2}, {1, 2, 3}, {2, 3, 4}, {5, 6}], [0, 1, 2, 3], [0.2, 0.1, 0.15, 0.3]),
    ([{1, 2, 3}, {1, 2}, {3, 4}, {2, 4}], [0, 0, 1, 2], [0.1, 0.2, 0.25, 0.05]),
]


@pytest.mark.parametrize(("events", "owners", "f"), CASES)
def test_modelled_support_matches_enumeration(events: list[set[int]], owners: list[int], f: list[float]) -> None:
    sets = [frozenset(e) for e in events]
    background = np.linspace(0.0, 0.12, 8)
    for target in [*sets, frozenset({1, 4}), frozenset({2, 3})]:
        got = _term(target, sets, owners, background).support(np.array(f))
        assert got == pytest.approx(brute_support(target, sets, owners, f, background), abs=1e-12)


def test_solver_hits_feasible_aims() -> None:
    sets = [frozenset(e) for e in ({1, 2}, {1, 2, 3}, {2, 3, 4}, {1, 2, 3, 4, 5}, {6, 7})]
    owners = [0, 1, 2, 3, 4]
    aims = [0.3, 0.2, 0.15, 0.05, 0.1]
    background = np.full(8, 0.01)
    f = solve_fractions(sets, owners, aims, background)
    modelled = [_term(s, sets, owners, background).support(f) for s in sets]
    np.testing.assert_allclose(modelled, aims, atol=1e-8)
    assert (f >= 0).all() and f[3] < 0.05 and f[0] < 0.3


def test_rule_events_of_one_owner_stay_within_one() -> None:
    sets = [frozenset({1, 2, 3}), frozenset({1, 2})]
    f = solve_fractions(sets, [0, 0], [0.6, 0.9], np.zeros(4))
    assert f.sum() <= 1.0 + 1e-12
    assert _term(sets[1], sets, [0, 0], np.zeros(4)).support(f) == pytest.approx(0.9)
