"""Discrete power laws for degrees and community sizes (vectorised inverse-CDF draws)."""

from __future__ import annotations

import numpy as np


def power_law_mean(lo: int, hi: int, exponent: float) -> float:
    """Mean of the discrete power law ``k^-exponent`` on ``lo..hi``."""
    k = np.arange(lo, hi + 1, dtype=np.float64)
    w = k**-exponent
    return float((w * k).sum() / w.sum())


def degree_pmf(avg: float, max_degree: int, exponent: float) -> np.ndarray:
    """Probabilities of degrees ``1..max_degree``: a power law whose mean is exactly ``avg``.

    It is the power law on ``k_min..max_degree`` mixed with the one on ``k_min+1..max_degree``,
    with ``k_min`` the largest start whose mean does not exceed ``avg``.
    """
    k = np.arange(1, max_degree + 1, dtype=np.float64)
    w = k**-exponent
    # mean of the law started at each k_min: suffix sums
    sw = np.cumsum(w[::-1])[::-1]
    swk = np.cumsum((w * k)[::-1])[::-1]
    means = swk / sw
    start = int(np.searchsorted(means, avg, side="right")) - 1
    start = min(max(start, 0), max_degree - 1)
    pmf = np.zeros(max_degree)
    if start == max_degree - 1 or means[start] >= avg:
        pmf[start:] = w[start:] / sw[start]
        return pmf
    lo_mean, hi_mean = means[start], means[start + 1]
    t = (avg - hi_mean) / (lo_mean - hi_mean)
    pmf[start:] += t * w[start:] / sw[start]
    pmf[start + 1:] += (1 - t) * w[start + 1:] / sw[start + 1]
    return pmf


def draw(pmf: np.ndarray, u: np.ndarray, first: int) -> np.ndarray:
    """Values ``first + i`` drawn with probabilities ``pmf[i]`` from uniforms ``u``."""
    cdf = np.cumsum(pmf)
    idx = np.searchsorted(cdf, u * cdf[-1], side="right")
    return np.minimum(idx, len(pmf) - 1).astype(np.int64) + first


def degree_sequence(n: int, avg: float, max_degree: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` degrees from the power law with mean ``avg`` on ``1..max_degree``."""
    return draw(degree_pmf(avg, max_degree, exponent), rng.random(n), 1)


def _size_pmf(lo: int, hi: int, exponent: float) -> np.ndarray:
    s = np.arange(lo, hi + 1, dtype=np.float64)
    w = s**-exponent
    return w / w.sum()


def community_sizes(
    n: int, size_range: tuple[int, int], exponent: float, count: int | None, rng: np.random.Generator
) -> np.ndarray:
    """Community sizes that add up to ``n``, drawn from ``s^-exponent`` on ``size_range``.

    With ``count``, that many sizes are drawn and scaled to add up to ``n`` (each at least
    2). Without it, sizes are drawn until they cover ``n`` and the overshoot is taken off
    the communities with the most room above the minimum (LFR's recipe).
    """
    lo, hi = size_range
    hi = min(hi, n)
    lo = min(lo, hi)
    pmf = _size_pmf(lo, hi, exponent)
    if count is not None:
        raw = draw(pmf, rng.random(count), lo).astype(np.float64)
        spare = n - 2 * count
        share = (raw - 2) / (raw - 2).sum() * spare if (raw - 2).sum() > 0 else np.full(count, spare / count)
        base = np.floor(share).astype(np.int64)
        left = spare - int(base.sum())
        order = np.argsort(-(share - base), kind="stable")
        base[order[:left]] += 1
        return base + 2
    sizes = draw(pmf, rng.random(n // lo + 1), lo)
    total = np.cumsum(sizes)
    k = int(np.searchsorted(total, n)) + 1
    sizes = sizes[:k].copy()
    excess = int(total[k - 1]) - n
    room = sizes - lo
    if room.sum() < excess:  # the last draw cannot be trimmed: drop it and grow the others
        sizes = sizes[:-1]
        short = n - int(sizes.sum())
        if len(sizes) == 0:
            return np.array([n], np.int64)
        grow = _spread(np.maximum(hi - sizes, 0), short)
        sizes = sizes + grow
        if sizes.sum() < n:
            sizes[0] += n - sizes.sum()
        return sizes
    return sizes - _spread(room, excess)


def _spread(room: np.ndarray, amount: int) -> np.ndarray:
    """Take ``amount`` units from slots with ``room``, the roomiest first (at most ``room`` each)."""
    order = np.argsort(-room, kind="stable")
    taken = np.minimum(room[order], np.maximum(amount - (np.cumsum(room[order]) - room[order]), 0))
    out = np.zeros(len(room), np.int64)
    out[order] = taken
    return out
