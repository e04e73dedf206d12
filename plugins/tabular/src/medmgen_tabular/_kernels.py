"""Every numba kernel of the tabular plugin.

The two sampling kernels release the GIL, so chunks can run on threads. Kernels draw
no randomness of their own: each takes a one-word splitmix64 state array
(seeded from :func:`medmgen.seeds.state_words`) and advances it explicitly. Marginals
are flat CSR-style arrays: column ``j``'s cumulative level probabilities are
``cum[off[j]:off[j + 1]]`` (the last entry of each run is 1).
"""

from __future__ import annotations

import math

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0
_SQRT2 = math.sqrt(2.0)


@numba.njit(cache=True)
def next_u64(state: np.ndarray) -> np.uint64:
    """splitmix64: advance ``state[0]`` and return the next 64-bit word."""
    state[0] = state[0] + _GOLDEN
    z = state[0]
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@numba.njit(cache=True)
def next_uniform(state: np.ndarray) -> float:
    """A uniform in the open interval (0, 1)."""
    return (float(next_u64(state) >> _S11) + 0.5) * _INV53


@numba.njit(cache=True)
def next_normal(state: np.ndarray) -> float:
    """A standard normal (Box-Muller, cosine branch; two uniforms per draw)."""
    u1 = next_uniform(state)
    u2 = next_uniform(state)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@numba.njit(cache=True)
def _search(cum: np.ndarray, lo: int, hi: int, u: float) -> int:
    """Smallest ``k`` in ``[lo, hi)`` with ``u < cum[k]`` (``hi - 1`` if none), minus ``lo``."""
    a, b = lo, hi - 1
    while a < b:
        m = (a + b) // 2
        if u < cum[m]:
            b = m
        else:
            a = m + 1
    return a - lo


@numba.njit(cache=True, nogil=True)
def copula_sample(state: np.ndarray, n: int, chol: np.ndarray, off: np.ndarray, cum: np.ndarray) -> np.ndarray:
    """``n`` rows of level indices from a Gaussian copula with empirical marginals.

    ``chol`` is the lower Cholesky factor of the normal-scores correlation (the
    identity gives independent marginals).
    """
    d = chol.shape[0]
    out = np.empty((n, d), dtype=np.int32)
    z = np.empty(d)
    for i in range(n):
        for j in range(d):
            z[j] = next_normal(state)
        for j in range(d):
            s = 0.0
            for k in range(j + 1):
                s += chol[j, k] * z[k]
            u = 0.5 * (1.0 + math.erf(s / _SQRT2))
            out[i, j] = _search(cum, off[j], off[j + 1], u)
    return out


@numba.njit(cache=True, nogil=True)
def tree_sample(
    state: np.ndarray,
    n: int,
    order: np.ndarray,
    parent: np.ndarray,
    parent2: np.ndarray,
    bin_off: np.ndarray,
    root_cum: np.ndarray,
    cpt_off: np.ndarray,
    cpt_cum: np.ndarray,
    first_level: np.ndarray,
    off: np.ndarray,
    cum: np.ndarray,
) -> np.ndarray:
    """``n`` rows of level indices by ancestral sampling of a tree over binned columns.

    Columns are visited in ``order`` (root first). The root's bin follows
    ``root_cum``; column ``c`` with parent ``p`` (and optional second parent
    ``q = parent2[c]``, the class column of a tree-augmented naive Bayes network) draws
    its bin from row ``r = bin_q * nbins_p + bin_p`` of its table:
    ``cpt_cum[cpt_off[c] + r * nbins_c :][:nbins_c]``. The level inside a bin follows the column's
    marginal ``cum[off[c]:off[c + 1]]`` restricted to that range. Bins of column ``c`` are
    level ranges: bin ``b`` is ``first_level[f]`` to ``first_level[f + 1]`` with
    ``f = bin_off[c] + c + b`` (each column stores ``nbins + 1`` boundaries).
    """
    d = order.shape[0]
    out = np.empty((n, d), dtype=np.int32)
    bins = np.empty(d, dtype=np.int64)
    for i in range(n):
        for t in range(d):
            c = order[t]
            nb = bin_off[c + 1] - bin_off[c]
            u = next_uniform(state)
            p = parent[c]
            if p < 0:
                b = _search(root_cum, 0, nb, u)
            else:
                row = bins[p]
                q = parent2[c]
                if q >= 0:
                    row += bins[q] * (bin_off[p + 1] - bin_off[p])
                start = cpt_off[c] + row * nb
                b = _search(cpt_cum, start, start + nb, u)
            bins[c] = b
            f = bin_off[c] + c + b
            lo = off[c] + first_level[f]
            hi = off[c] + first_level[f + 1]
            base = cum[lo - 1] if lo > off[c] else 0.0
            v = base + next_uniform(state) * (cum[hi - 1] - base)
            out[i, c] = first_level[f] + _search(cum, lo, hi, v)
    return out


@numba.njit(cache=True)
def pair_counts(a: np.ndarray, b: np.ndarray, kb: int, size: int) -> np.ndarray:
    """Counts of each ``(a, b)`` code pair, flattened as ``a * kb + b``."""
    out = np.zeros(size, dtype=np.int64)
    for i in range(a.shape[0]):
        out[a[i] * kb + b[i]] += 1
    return out
