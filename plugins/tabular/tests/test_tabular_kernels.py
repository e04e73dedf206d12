"""Every numba kernel against a plain Python twin on small inputs."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from medmgen_tabular import _kernels, model
from medmgen_tabular.io import encode

MASK = (1 << 64) - 1


class Twin:
    """splitmix64, its uniforms and Box-Muller normals in plain Python."""

    def __init__(self, seed: int) -> None:
        self.s = seed

    def u64(self) -> int:
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self) -> float:
        return ((self.u64() >> 11) + 0.5) / 2.0**53

    def normal(self) -> float:
        u1, u2 = self.uniform(), self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def first_above(cum: list[float], u: float) -> int:
    for k, c in enumerate(cum):
        if u < c:
            return k
    return len(cum) - 1


def twin_copula(seed: int, n: int, chol: np.ndarray, off: np.ndarray, cum: np.ndarray) -> np.ndarray:
    r = Twin(seed)
    d = chol.shape[0]
    out = np.empty((n, d), dtype=np.int32)
    for i in range(n):
        z = [r.normal() for _ in range(d)]
        for j in range(d):
            s = sum(chol[j, k] * z[k] for k in range(j + 1))
            u = 0.5 * (1.0 + math.erf(s / math.sqrt(2.0)))
            out[i, j] = first_above(list(cum[off[j]:off[j + 1]]), u)
    return out


def twin_tree(seed: int, n: int, t: model.Tree) -> np.ndarray:
    r = Twin(seed)
    d = len(t.order)
    out = np.empty((n, d), dtype=np.int32)
    for i in range(n):
        bins = {}
        for c in t.order:
            nb = t.bin_off[c + 1] - t.bin_off[c]
            u = r.uniform()
            p, q = t.parent[c], t.parent2[c]
            if p < 0:
                b = first_above(list(t.root_cum), u)
            else:
                row = bins[p] + (bins[q] * (t.bin_off[p + 1] - t.bin_off[p]) if q >= 0 else 0)
                start = t.cpt_off[c] + row * nb
                b = first_above(list(t.cpt_cum[start:start + nb]), u)
            bins[c] = b
            f = t.bin_off[c] + c + b
            lo_rel, hi_rel = t.first_level[f], t.first_level[f + 1]
            col = list(t.cum[t.off[c]:t.off[c + 1]])
            base = col[lo_rel - 1] if lo_rel > 0 else 0.0
            v = base + r.uniform() * (col[hi_rel - 1] - base)
            out[i, c] = lo_rel + first_above(col[lo_rel:hi_rel], v)
    return out


def small_columns(seed: int = 0, n: int = 400) -> list:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 5, n)
    b = (a + rng.integers(0, 2, n)) % 5
    c = rng.normal(size=n).round(2)  # many levels: binned by the tree
    y = (a > 2).astype(np.int64)
    table = pa.table({"a": a, "b": b, "c": c, "y": y})
    return encode(table, 1000, "test")


@pytest.mark.parametrize("seed", [1, 12345, 2**63 + 5])
def test_prng_matches_twin(seed):
    state = np.array([seed], dtype=np.uint64)
    twin = Twin(seed)
    for _ in range(20):
        assert int(_kernels.next_u64(state)) == twin.u64()
    state = np.array([seed], dtype=np.uint64)
    twin = Twin(seed)
    for _ in range(20):
        assert _kernels.next_normal(state) == pytest.approx(twin.normal(), rel=1e-12)


def test_copula_sample_matches_twin():
    cols = small_columns()
    cop = model.fit_copula(cols)
    got = _kernels.copula_sample(np.array([99], dtype=np.uint64), 60, cop.chol, cop.off, cop.cum)
    assert np.array_equal(got, twin_copula(99, 60, cop.chol, cop.off, cop.cum))


@pytest.mark.parametrize("target", [None, 3])
def test_tree_sample_matches_twin(target):
    cols = small_columns()
    tree = model.fit_tree(cols, 8, target)
    got = tree.sample(np.array([7], dtype=np.uint64), 60)
    assert np.array_equal(got, twin_tree(7, 60, tree))


def test_pair_counts_matches_numpy():
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 4, 500), rng.integers(0, 6, 500)
    expected = np.zeros(24, dtype=np.int64)
    np.add.at(expected, a * 6 + b, 1)
    assert np.array_equal(_kernels.pair_counts(a, b, 6, 24), expected)


def test_copula_maps_ranks_back_to_levels():
    cols = small_columns()
    cop = model.fit_copula(cols, target=3, reorder_levels=10)
    assert any(not np.array_equal(p, np.arange(len(p))) for p in cop.perms)
    state = np.array([5], dtype=np.uint64)
    ranks = _kernels.copula_sample(state.copy(), 200, cop.chol, cop.off, cop.cum)
    levels = cop.sample(state.copy(), 200)
    for j, perm in enumerate(cop.perms):
        assert np.array_equal(levels[:, j], perm[ranks[:, j]])
