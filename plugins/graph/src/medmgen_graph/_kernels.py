"""Numba kernels of the graph modality: flat arrays in and out, randomness passed in.

Random choices inside kernels come from splitmix64 streams whose state is derived from
a seed word and a segment index, so every segment (community, round) is reproducible
on its own and the result does not depend on how work is split.
"""

from __future__ import annotations

import numba
import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
S30, S27, S31, S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@numba.njit(cache=True)
def mix64(z: np.uint64) -> np.uint64:
    """The splitmix64 output function."""
    z = (z ^ (z >> S30)) * MIX1
    z = (z ^ (z >> S27)) * MIX2
    return z ^ (z >> S31)


@numba.njit(cache=True)
def segment_state(seed: np.uint64, segment: int) -> np.uint64:
    """The starting state of segment ``segment``'s stream."""
    return mix64(seed + np.uint64(segment + 1) * GOLDEN)


@numba.njit(cache=True)
def shuffle_pair_segments(
    stubs: np.ndarray, offsets: np.ndarray, seed: np.uint64
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle each segment ``stubs[offsets[s]:offsets[s+1]]`` (Fisher-Yates) and pair neighbours.

    Returns ``(a, b, rest)``: pair ``i`` is ``(a[i], b[i])``; ``rest`` holds the last stub of
    every odd-length segment.
    """
    n_seg = len(offsets) - 1
    n_pairs = 0
    n_rest = 0
    for s in range(n_seg):
        length = offsets[s + 1] - offsets[s]
        n_pairs += length // 2
        n_rest += length % 2
    a = np.empty(n_pairs, np.int64)
    b = np.empty(n_pairs, np.int64)
    rest = np.empty(n_rest, np.int64)
    buf = stubs.copy()
    p = 0
    r = 0
    for s in range(n_seg):
        lo = offsets[s]
        hi = offsets[s + 1]
        state = segment_state(seed, s)
        for i in range(hi - lo - 1, 0, -1):
            state += GOLDEN
            j = int((mix64(state) >> S11) * TO_UNIT * (i + 1))
            t = buf[lo + i]
            buf[lo + i] = buf[lo + j]
            buf[lo + j] = t
        k = lo
        while k + 1 < hi:
            a[p] = buf[k]
            b[p] = buf[k + 1]
            p += 1
            k += 2
        if k < hi:
            rest[r] = buf[k]
            r += 1
    return a, b, rest


@numba.njit(cache=True)
def dedup_sorted(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Split sorted edge keys ``lo * n + hi`` into unique non-loop keys and dropped ones.

    Dropped are repeats of the previous key and self-loops (``lo == hi``).
    """
    keep = np.empty(len(keys), np.int64)
    drop = np.empty(len(keys), np.int64)
    m = 0
    d = 0
    for i in range(len(keys)):
        key = keys[i]
        if (i > 0 and key == keys[i - 1]) or key // n == key % n:
            drop[d] = key
            d += 1
        else:
            keep[m] = key
            m += 1
    return keep[:m], drop[:d]


@numba.njit(cache=True)
def place_nodes(need: np.ndarray, sizes: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Put nodes into communities that can hold their internal degree.

    ``need`` (non-increasing) is the smallest community size each node fits in; ``sizes``
    (non-increasing) the community sizes; ``u`` one uniform per node. Node ``v`` goes to a
    free slot drawn uniformly among communities with ``size >= need[v]``, or among all
    communities with a free slot when those are full. Returns the community index per node.
    """
    c = len(sizes)
    tree = np.zeros(c + 1, np.int64)  # Fenwick tree of free slots
    for i in range(c):
        j = i + 1
        while j <= c:
            tree[j] += sizes[i]
            j += j & -j
    top = 1
    while top * 2 <= c:
        top *= 2
    out = np.empty(len(need), np.int64)
    m = 0
    for v in range(len(need)):
        while m < c and sizes[m] >= need[v]:
            m += 1
        avail = 0
        j = m
        while j > 0:
            avail += tree[j]
            j -= j & -j
        if avail == 0:
            j = c
            while j > 0:
                avail += tree[j]
                j -= j & -j
        r = int(u[v] * avail)
        pos = 0
        step = top
        while step > 0:
            if pos + step <= c and tree[pos + step] <= r:
                pos += step
                r -= tree[pos]
            step //= 2
        out[v] = pos
        j = pos + 1
        while j <= c:
            tree[j] -= 1
            j += j & -j
    return out


@numba.njit(cache=True)
def split_degrees(deg: np.ndarray, offsets: np.ndarray, aim: np.ndarray, u: np.ndarray) -> np.ndarray:
    """External degree of every node: community ``c``'s ``aim[c]`` share of its endpoints.

    Systematic rounding inside each community (one uniform ``u[c]``) gives every node
    ``floor`` or ``ceil`` of ``aim * degree`` and the community ``floor(aim * D + u)``
    external endpoints in total. Internal degrees are then capped at ``size - 1`` and
    made even per community by moving one endpoint to the side that brings the
    community's external count closer to ``aim * D``.
    """
    ext = np.zeros(len(deg), np.int64)
    for c in range(len(offsets) - 1):
        lo = offsets[c]
        hi = offsets[c + 1]
        cum = 0.0
        prev = np.floor(u[c])
        internal = 0
        external = 0
        for v in range(lo, hi):
            cum += aim[c] * deg[v]
            cur = np.floor(cum + u[c])
            e = int(cur - prev)
            prev = cur
            e = min(max(e, 0), deg[v])
            i = deg[v] - e
            if i > hi - lo - 1:
                e += i - (hi - lo - 1)
            ext[v] = e
            internal += deg[v] - e
            external += e
        if internal % 2 == 1:
            # one endpoint changes side: towards the exact share aim * D when a node allows it
            down = external > cum
            for v in range(lo, hi):
                if down and ext[v] > 0 and deg[v] - ext[v] < hi - lo - 1:
                    ext[v] -= 1
                    break
                if not down and deg[v] - ext[v] > 0:
                    ext[v] += 1
                    break
            else:
                for v in range(lo, hi):
                    if deg[v] - ext[v] > 0:
                        ext[v] += 1
                        break
    return ext


@numba.njit(cache=True)
def endpoint_counts(src: np.ndarray, dst: np.ndarray, community: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per node: its degree and how many of its edges leave its community."""
    n = len(community)
    degree = np.zeros(n, np.int64)
    outside = np.zeros(n, np.int64)
    for e in range(len(src)):
        s = src[e]
        d = dst[e]
        degree[s] += 1
        degree[d] += 1
        if community[s] != community[d]:
            outside[s] += 1
            outside[d] += 1
    return degree, outside


@numba.njit(cache=True)
def merge_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The sorted union (with repeats) of two sorted arrays, in linear time."""
    out = np.empty(len(a) + len(b), a.dtype)
    i = 0
    j = 0
    k = 0
    while i < len(a) and j < len(b):
        if b[j] < a[i]:
            out[k] = b[j]
            j += 1
        else:
            out[k] = a[i]
            i += 1
        k += 1
    while i < len(a):
        out[k] = a[i]
        i += 1
        k += 1
    while j < len(b):
        out[k] = b[j]
        j += 1
        k += 1
    return out


@numba.njit(cache=True)
def isin_sorted(hay: np.ndarray, query: np.ndarray) -> np.ndarray:
    """For sorted ``query``, whether each value is in sorted ``hay`` (galloping search)."""
    out = np.zeros(len(query), np.bool_)
    i = 0
    n = len(hay)
    for q in range(len(query)):
        x = query[q]
        if i >= n:
            break
        if hay[i] < x:
            step = 1
            while i + step < n and hay[i + step] < x:
                i += step
                step *= 2
            lo = i + 1
            hi = min(i + step, n)
            while lo < hi:  # first index in [lo, hi) with hay >= x
                mid = (lo + hi) // 2
                if hay[mid] < x:
                    lo = mid + 1
                else:
                    hi = mid
            i = lo
        out[q] = i < n and hay[i] == x
    return out
