"""Every numba kernel against a plain Python/NumPy twin on small inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from medmgen_graph import _kernels as K
from medmgen_graph.laws import community_sizes, degree_pmf

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def twin_shuffle_pair(stubs, offsets, seed):
    a, b, rest = [], [], []
    for s in range(len(offsets) - 1):
        buf = [int(x) for x in stubs[offsets[s]:offsets[s + 1]]]
        state = mix((seed + (s + 1) * GOLDEN) & MASK)
        for i in range(len(buf) - 1, 0, -1):
            state = (state + GOLDEN) & MASK
            j = int((mix(state) >> 11) * 2.0**-53 * (i + 1))
            buf[i], buf[j] = buf[j], buf[i]
        a += buf[0:len(buf) - 1:2]
        b += buf[1::2]
        if len(buf) % 2:
            rest.append(buf[-1])
    return a, b, rest


@pytest.mark.parametrize("seed", [1, 2**63 + 12345, MASK])
def test_shuffle_pair_segments_matches_twin(seed):
    rng = np.random.default_rng(seed % 1000)
    stubs = np.sort(rng.integers(0, 30, 101)).astype(np.int64)
    offsets = np.array([0, 0, 7, 40, 41, 101], np.int64)
    a, b, rest = K.shuffle_pair_segments(stubs, offsets, np.uint64(seed))
    ta, tb, trest = twin_shuffle_pair(stubs, offsets, seed)
    assert a.tolist() == ta and b.tolist() == tb and rest.tolist() == trest
    assert sorted(a.tolist() + b.tolist() + rest.tolist()) == stubs.tolist()


def test_dedup_sorted_matches_twin():
    n = 13
    rng = np.random.default_rng(4)
    lo = rng.integers(0, n, 400)
    hi = rng.integers(0, n, 400)
    keys = np.sort(np.minimum(lo, hi) * n + np.maximum(lo, hi))
    keep, drop = K.dedup_sorted(keys, n)
    twin_keep, twin_drop = [], []
    for i, k in enumerate(keys.tolist()):
        if (i > 0 and k == keys[i - 1]) or k // n == k % n:
            twin_drop.append(k)
        else:
            twin_keep.append(k)
    assert keep.tolist() == twin_keep and drop.tolist() == twin_drop
    assert keep.tolist() == sorted({k for k in keys.tolist() if k // n != k % n})


def test_place_nodes_matches_twin():
    rng = np.random.default_rng(7)
    sizes = np.sort(rng.integers(3, 40, 25))[::-1].astype(np.int64)
    need = np.sort(rng.integers(2, 45, int(sizes.sum())))[::-1].astype(np.int64)
    u = rng.random(len(need))
    got = K.place_nodes(need, sizes, u)
    free = sizes.copy()
    twin = []
    for v in range(len(need)):
        room = np.where(sizes >= need[v], free, 0)
        if room.sum() == 0:
            room = free.copy()
        r = int(u[v] * room.sum())
        c = int(np.searchsorted(np.cumsum(room), r, side="right"))
        twin.append(c)
        free[c] -= 1
    assert got.tolist() == twin
    assert np.bincount(got, minlength=len(sizes)).tolist() == sizes.tolist()


def test_split_degrees_matches_twin():
    rng = np.random.default_rng(3)
    sizes = rng.integers(2, 12, 20)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    deg = rng.integers(1, 15, int(offsets[-1])).astype(np.int64)
    aim = rng.random(20)
    u = rng.random(20)
    got = K.split_degrees(deg, offsets, aim, u)
    twin = np.zeros_like(deg)
    for c in range(20):
        lo, hi = offsets[c], offsets[c + 1]
        cum, prev = 0.0, math.floor(u[c])
        for v in range(lo, hi):
            cum += aim[c] * deg[v]
            cur = math.floor(cum + u[c])
            e = min(max(int(cur - prev), 0), int(deg[v]))
            prev = cur
            e += max(0, int(deg[v]) - e - int(hi - lo - 1))
            twin[v] = e
        d, t = deg[lo:hi], twin[lo:hi]  # views: edits land in twin
        if (d - t).sum() % 2:
            can_down = np.flatnonzero((t > 0) & (d - t < hi - lo - 1))
            if t.sum() > cum and len(can_down):
                t[can_down[0]] -= 1
            else:
                t[np.flatnonzero(d - t > 0)[0]] += 1
    assert got.tolist() == twin.tolist()
    internal = deg - got
    assert all((internal[offsets[c]:offsets[c + 1]] <= sizes[c] - 1).all() for c in range(20))
    assert all(internal[offsets[c]:offsets[c + 1]].sum() % 2 == 0 for c in range(20))


def test_endpoint_counts_matches_numpy():
    rng = np.random.default_rng(9)
    community = np.repeat(np.arange(6), 5)
    src = rng.integers(0, 30, 200)
    dst = rng.integers(0, 30, 200)
    degree, outside = K.endpoint_counts(src, dst, community)
    crossing = community[src] != community[dst]
    assert degree.tolist() == (np.bincount(src, minlength=30) + np.bincount(dst, minlength=30)).tolist()
    assert outside.tolist() == (np.bincount(src[crossing], minlength=30)
                                + np.bincount(dst[crossing], minlength=30)).tolist()


@pytest.mark.parametrize(("avg", "tau"), [(10.0, 2.5), (3.3, 2.0), (20.0, 3.0), (50.0, 2.5)])
def test_degree_law_has_the_asked_mean(avg, tau):
    pmf = degree_pmf(avg, 50, tau)
    k = np.arange(1, 51)
    assert pmf.sum() == pytest.approx(1.0)
    assert (pmf * k).sum() == pytest.approx(avg)


@pytest.mark.parametrize("count", [None, 40])
def test_community_sizes_cover_the_nodes(count):
    sizes = community_sizes(5003, (20, 200), 1.5, count, np.random.default_rng(1))
    assert sizes.sum() == 5003 and sizes.min() >= 2
    if count is None:
        assert sizes.min() >= 20 and sizes.max() <= 200
    else:
        assert len(sizes) == count


def test_merge_sorted_matches_numpy():
    rng = np.random.default_rng(2)
    a = np.sort(rng.integers(0, 50, 30))
    b = np.sort(rng.integers(0, 50, 17))
    assert K.merge_sorted(a, b).tolist() == np.sort(np.concatenate([a, b])).tolist()
    assert K.merge_sorted(a[:0], b).tolist() == b.tolist()


def test_isin_sorted_matches_numpy():
    rng = np.random.default_rng(8)
    hay = np.sort(rng.integers(0, 1000, 300))
    query = np.sort(rng.integers(-5, 1010, 500))
    assert K.isin_sorted(hay, query).tolist() == np.isin(query, hay).tolist()
    assert not K.isin_sorted(hay[:0], query).any()
