"""Edge construction on flat arrays: stub matching, rewiring of rejects, SBM sampling, motifs.

Undirected edges are int64 keys ``lo * n + hi`` with ``lo < hi``; sets of edges are
sorted unique key arrays, built by a sort and a neighbour comparison (never ``np.unique``).
"""

from __future__ import annotations

import numpy as np
from attrs import frozen

from medmgen_graph import _kernels as K
from medmgen_graph.layout import Layout, motif_edges

ROUNDS = 16
PARTNER_ROUNDS = 40
SAMPLE_ROUNDS = 30


@frozen(kw_only=True)
class EdgeSet:
    """The edges of a block and what it cost to make them simple."""

    keys: np.ndarray  # sorted unique keys lo * n + hi
    unplaced: int = 0  # endpoint stubs that could not be matched without a loop or repeat
    motif_added: tuple[int, ...] = ()


def edge_keys(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Undirected edge keys ``min * n + max``."""
    return np.minimum(a, b) * n + np.maximum(a, b)


def _contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Which ``keys`` are in ``sorted_keys`` (queries sorted, then one galloping pass)."""
    out = np.zeros(len(keys), np.bool_)
    if len(sorted_keys) == 0 or len(keys) == 0:
        return out
    order = np.argsort(keys)
    out[order] = K.isin_sorted(sorted_keys, keys[order])
    return out


def pair_class(layout: Layout, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The class of each pair: the finest level whose group holds both ends (top = whole graph)."""
    top = len(layout.levels) - 1
    out = np.full(len(a), top, np.int64)
    for k in range(top - 1, -1, -1):
        group = layout.levels[k]
        out[group[a] == group[b]] = k
    return out


def _group_range(layout: Layout, nodes: np.ndarray, cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First node and size of the level-``cls`` group of each node."""
    start = np.zeros(len(nodes), np.int64)
    size = np.zeros(len(nodes), np.int64)
    for k, (group, bounds) in enumerate(zip(layout.levels, layout.bounds)):
        m = cls == k
        g = group[nodes[m]]
        start[m] = bounds[g]
        size[m] = bounds[g + 1] - bounds[g]
    return start, size


def _accept(a: np.ndarray, b: np.ndarray, cls: np.ndarray, layout: Layout, taken: tuple[np.ndarray, ...]
            ) -> np.ndarray:
    """Which candidate pairs make a new simple edge of their class (first of repeats wins)."""
    keys = edge_keys(a, b, layout.nodes)
    ok = (a != b) & (pair_class(layout, a, b) == cls)
    for t in taken:
        ok &= ~_contains(t, keys)
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    first = np.ones(len(sk), np.bool_)
    first[1:] = sk[1:] != sk[:-1]
    repeat = np.empty(len(sk), np.bool_)
    repeat[order] = ~first
    return ok & ~repeat


def _merge(sorted_keys: np.ndarray, new: np.ndarray) -> np.ndarray:
    """``sorted_keys`` plus ``new`` (any order), sorted."""
    return K.merge_sorted(sorted_keys, np.sort(new))


def _unique_groups(keys: np.ndarray, group: np.ndarray, size: int) -> np.ndarray:
    """Groups (candidates) none of whose keys occurs twice among all ``keys``."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    dup = np.zeros(len(sk), np.bool_)
    dup[1:] |= sk[1:] == sk[:-1]
    dup[:-1] |= sk[1:] == sk[:-1]
    bad = np.zeros(size, np.bool_)
    bad[group[order][dup]] = True
    return ~bad


@frozen(kw_only=True)
class _Pools:
    """Existing edges by class (sorted keys) and where each group's edges start."""

    keys: tuple[np.ndarray, ...]
    bounds: tuple[np.ndarray, ...]


def _pools(layout: Layout, keys: np.ndarray) -> _Pools:
    n = layout.nodes
    cls = pair_class(layout, keys // n, keys % n)
    pools = tuple(keys[cls == k] for k in range(len(layout.levels)))
    return _Pools(keys=pools, bounds=tuple(np.searchsorted(p, b * n) for p, b in zip(pools, layout.bounds)))


def _swap(a: np.ndarray, b: np.ndarray, cls: np.ndarray, layout: Layout, pools: _Pools,
          taken: tuple[np.ndarray, np.ndarray], removed: np.ndarray, rng: np.random.Generator
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Place stub pairs ``(a, b)`` by a degree-preserving swap with a random existing edge ``(x, y)``.

    The edge ``(x, y)`` of the same class and group is replaced by ``(a, x)`` and
    ``(b, y)`` when both are new edges of that class. Returns the accepted mask, the new
    keys and the removed keys.
    """
    n = layout.nodes
    u = rng.random((2, len(a)))
    picked = np.zeros(len(a), np.int64)
    ok = np.zeros(len(a), np.bool_)
    for k, (pool, bounds) in enumerate(zip(pools.keys, pools.bounds)):
        m = np.flatnonzero(cls == k)
        if len(m) == 0 or len(pool) == 0:
            continue
        g = layout.levels[k][a[m]]
        start, stop = bounds[g], bounds[g + 1]
        idx = np.minimum(start + (u[0, m] * (stop - start)).astype(np.int64), len(pool) - 1)
        picked[m] = pool[idx]
        ok[m] = stop > start
    x, y = picked // n, picked % n
    flip = u[1] < 0.5
    x, y = np.where(flip, y, x), np.where(flip, x, y)
    ok &= (a != x) & (b != y) & (pair_class(layout, a, x) == cls) & (pair_class(layout, b, y) == cls)
    k1, k2 = edge_keys(a, x, n), edge_keys(b, y, n)
    ok &= k1 != k2
    for t in taken:
        ok &= ~_contains(t, k1) & ~_contains(t, k2)
    ok &= ~_contains(removed, picked)
    cand = np.flatnonzero(ok)
    m = len(cand)
    fine = _unique_groups(np.concatenate([k1[cand], k2[cand]]), np.tile(np.arange(m), 2), m)
    fine &= _unique_groups(picked[cand], np.arange(m), m)
    ok[cand[~fine]] = False
    return ok, np.concatenate([k1[ok], k2[ok]]), picked[ok]


def _pair_by_group(layout: Layout, stubs: list[np.ndarray], seeds: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """Shuffle and pair each class's stubs (sorted) inside their groups: ``(a, b, class, rests)``."""
    a_parts, b_parts, c_parts, rests = [], [], [], []
    for k, bounds in enumerate(layout.bounds):
        stub = stubs[k]
        a, b, rest = K.shuffle_pair_segments(stub, np.searchsorted(stub, bounds), seeds[k])
        a_parts.append(a)
        b_parts.append(b)
        c_parts.append(np.full(len(a), k, np.int64))
        rests.append(rest)
    return np.concatenate(a_parts), np.concatenate(b_parts), np.concatenate(c_parts), rests


def seed_words_needed(layout: Layout) -> int:
    """How many uint64 seed words :func:`stub_match` takes for this layout."""
    return len(layout.levels) * (ROUNDS + 2)


def stub_match(layout: Layout, counts: list[np.ndarray], seeds: np.ndarray, rng: np.random.Generator) -> EdgeSet:
    """Configuration model by stub class: ``counts[k]`` stubs per node join a node of the same
    level-``k`` group but (for ``k > 0``) of another level-``k-1`` group.

    With flat communities class 0 is internal and class 1 external. Loops, repeats and
    pairs of the wrong class are rejected; their stubs are re-paired in further rounds,
    and a pair that still cannot be an edge is placed by a degree-preserving swap with a
    random existing edge of its class and group. So every stub is used once and each
    group's endpoint counts per class are exactly as planned. The few stubs left after
    all rounds are paired again and each pair becomes one edge from one of its stubs to
    a random partner of the right class, which keeps those counts.
    """
    n = layout.nodes
    classes = len(layout.levels)
    ids = np.arange(n, dtype=np.int64)
    a, b, cls, rests = _pair_by_group(layout, [np.repeat(ids, c) for c in counts], seeds[:classes])
    good = cls == 0  # pairs inside one community are of class 0 by construction
    good[~good] = pair_class(layout, a[~good], b[~good]) == cls[~good]
    keys = edge_keys(a[good], b[good], n)
    keys.sort()
    keys, dropped = K.dedup_sorted(keys, n)
    lo, hi = dropped // n, dropped % n
    dropped_cls = pair_class(layout, lo, hi)
    bad = ~good
    left = [np.concatenate([rests[k], a[bad & (cls == k)], b[bad & (cls == k)], lo[dropped_cls == k],
                            hi[dropped_cls == k]]) for k in range(classes)]
    pools = _pools(layout, keys)
    added = np.empty(0, np.int64)
    removed = np.empty(0, np.int64)
    for r in range(ROUNDS):
        if sum(len(x) for x in left) < 2:
            break
        a, b, cls, rests = _pair_by_group(layout, [np.sort(x) for x in left], seeds[classes * (r + 1):])
        ok = _accept(a, b, cls, layout, (keys, added))
        added = _merge(added, edge_keys(a[ok], b[ok], n))
        a, b, cls = a[~ok], b[~ok], cls[~ok]
        ok, new, gone = _swap(a, b, cls, layout, pools, (keys, added), removed, rng)
        added = _merge(added, new)
        removed = _merge(removed, gone)
        bad = ~ok
        left = [np.concatenate([rests[k], a[bad & (cls == k)], b[bad & (cls == k)]]) for k in range(classes)]
    first, second, cls, rests = _pair_by_group(layout, [np.sort(x) for x in left], seeds[classes * (ROUNDS + 1):])
    for r in range(PARTNER_ROUNDS):
        if len(first) == 0:
            break
        who = first if r % 2 == 0 else second
        start, size = _group_range(layout, who, cls)
        partner = start + (rng.random(len(who)) * size).astype(np.int64)
        ok = _accept(who, partner, cls, layout, (keys, added))
        added = _merge(added, edge_keys(who[ok], partner[ok], n))
        first, second, cls = first[~ok], second[~ok], cls[~ok]
    unplaced = 2 * len(first) + sum(len(x) for x in rests)
    kept = keys[~_contains(removed, keys)]
    return EdgeSet(keys=_merge(kept, added), unplaced=unplaced)


def sample_pairs(layout: Layout, want: list[np.ndarray], rng: np.random.Generator) -> EdgeSet:
    """Uniform distinct pairs: ``want[k][g]`` pairs of class ``k`` inside level-``k`` group ``g``.

    Draws, drops loops, repeats and pairs of the wrong class, and draws again for what
    is missing, up to a fixed number of rounds (the SBM baseline).
    """
    n = layout.nodes
    keys = np.empty(0, np.int64)
    want = [w.astype(np.int64) for w in want]
    for _ in range(SAMPLE_ROUNDS):
        if sum(int(w.sum()) for w in want) == 0:
            break
        a_parts, b_parts, c_parts = [], [], []
        for k, bounds in enumerate(layout.bounds):
            g = np.repeat(np.arange(len(bounds) - 1), want[k])
            size = bounds[g + 1] - bounds[g]
            a_parts.append(bounds[g] + (rng.random(len(g)) * size).astype(np.int64))
            b_parts.append(bounds[g] + (rng.random(len(g)) * size).astype(np.int64))
            c_parts.append(np.full(len(g), k, np.int64))
        a, b, cls = np.concatenate(a_parts), np.concatenate(b_parts), np.concatenate(c_parts)
        ok = _accept(a, b, cls, layout, (keys,))
        keys = _merge(keys, edge_keys(a[ok], b[ok], n))
        for k, group in enumerate(layout.levels):
            want[k] = want[k] - np.bincount(group[a[ok & (cls == k)]], minlength=len(want[k]))
    return EdgeSet(keys=keys, unplaced=int(2 * sum(int(w.sum()) for w in want)))


def _motif_pairs(layout: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Endpoints of every motif edge and the copy it belongs to (layout has motifs)."""
    parts = [motif_edges(m) for m in layout.motifs]
    copy = np.repeat(np.arange(len(parts)), [len(p[0]) for p in parts])
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), copy


def motif_degrees(layout: Layout) -> list[np.ndarray]:
    """Per stub class: how many motif edges of that class each node has."""
    n = layout.nodes
    if not layout.motifs:
        return [np.zeros(n, np.int64) for _ in layout.levels]
    a, b, _ = _motif_pairs(layout)
    cls = pair_class(layout, a, b)
    return [np.bincount(np.concatenate([a[cls == k], b[cls == k]]), minlength=n) for k in range(len(layout.levels))]


def add_motifs(edges: EdgeSet, layout: Layout) -> EdgeSet:
    """Add every edge of every planted motif copy that the graph does not have yet."""
    if not layout.motifs:
        return edges
    a, b, copy = _motif_pairs(layout)
    keys = edge_keys(a, b, layout.nodes)
    new = ~_contains(edges.keys, keys)
    added = np.bincount(copy[new], minlength=len(layout.motifs))
    return EdgeSet(keys=_merge(edges.keys, keys[new]), unplaced=edges.unplaced,
                   motif_added=tuple(int(x) for x in added))


def edge_times(keys: np.ndarray, layout: Layout, span: int, burst: int, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray]:
    """Uniform times in ``[0, span)``; each motif copy's edges inside ``[start, start + burst)``.

    Returns the time of every edge (in ``keys`` order) and each copy's window start.
    """
    times = rng.integers(0, span, len(keys))
    starts = rng.integers(0, span - burst + 1, len(layout.motifs))
    if burst and layout.motifs:
        a, b, copy = _motif_pairs(layout)
        at = np.searchsorted(keys, edge_keys(a, b, layout.nodes))
        times[at] = starts[copy] + rng.integers(0, burst, len(at))
    return times, starts


def motif_time_hits(keys: np.ndarray, times: np.ndarray, layout: Layout, starts: np.ndarray, burst: int
                    ) -> np.ndarray:
    """Per motif copy: how many of its shape's edges have a time inside its window."""
    a, b, copy = _motif_pairs(layout)
    pos = np.searchsorted(keys, edge_keys(a, b, layout.nodes))
    pos = np.minimum(pos, len(keys) - 1)
    present = keys[pos] == edge_keys(a, b, layout.nodes)
    t = times[pos]
    inside = present & (t >= starts[copy]) & (t < starts[copy] + burst)
    return np.bincount(copy[inside], minlength=len(layout.motifs))


def orient(keys: np.ndarray, layout: Layout, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Directed endpoints: each edge turned a random way, motif edges along their shape.

    A star points out of its centre, a path and a cycle run in node order, a biclique
    from its first side to its second, a clique from lower to higher node id (acyclic).
    """
    n = layout.nodes
    src, dst = split(keys, n)
    flip = rng.random(len(keys)) < 0.5
    if layout.motifs:
        a, b, _ = _motif_pairs(layout)
        flip[np.searchsorted(keys, edge_keys(a, b, n))] = a > b
    return np.where(flip, dst, src), np.where(flip, src, dst)


def to_real(edges: EdgeSet, real_of: np.ndarray) -> EdgeSet:
    """Edges matched on a virtual layout mapped to real nodes; loops and repeats that the
    mapping makes (two parts of one overlapping node) are dropped and counted as unplaced."""
    n = int(real_of.max()) + 1
    if len(real_of) == n:
        return edges
    a, b = split(edges.keys, len(real_of))
    a, b = real_of[a], real_of[b]
    keys = edge_keys(a, b, n)
    keys.sort()
    keys, dropped = K.dedup_sorted(keys, n)
    return EdgeSet(keys=keys, unplaced=edges.unplaced + 2 * len(dropped), motif_added=edges.motif_added)


def split_external(layout: Layout, aims: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """External degree of every node: each community's ``aims[c]`` share of its endpoints.

    With overlap (a virtual layout), a community's endpoints are those of all its members,
    an overlapping node counting with its whole degree and external stubs in each of its
    communities. The parts of overlapping nodes are split first (each keeping one internal
    stub); the community's other nodes then take what is left of ``aim * D`` by systematic
    rounding. Internal stub counts are kept even per community (one more endpoint leaves
    where needed and a node allows it).
    """
    deg = layout.degree
    leave = K.split_degrees(deg, layout.offsets, aims, rng.random(len(aims)))
    if layout.pinned is None or layout.owner is None:
        return leave
    pinned, owner, community = layout.pinned, layout.owner, layout.community
    leave = np.where(pinned & (deg > 0), np.minimum(leave, deg - 1), leave)
    n = int(owner.max()) + 1
    ext = np.bincount(owner[pinned], weights=leave[pinned], minlength=n)[owner[pinned]]
    total = np.bincount(owner[pinned], weights=deg[pinned], minlength=n)[owner[pinned]]
    count = len(aims)
    fixed = np.bincount(community[pinned], weights=ext, minlength=count)
    shared = np.bincount(community[pinned], weights=total, minlength=count)
    free = np.where(pinned, 0, deg)
    own = np.add.reduceat(free, layout.offsets[:-1])
    rest = np.clip((aims * (own + shared) - fixed) / np.maximum(own, 1), 0.0, 1.0)
    leave = np.where(pinned, leave, K.split_degrees(free, layout.offsets, rest, rng.random(count)))
    internal = deg - leave
    odd = np.add.reduceat(internal, layout.offsets[:-1]) % 2 == 1
    free = np.flatnonzero(odd[layout.community] & (internal > layout.pinned))
    first = free[np.r_[True, layout.community[free[1:]] != layout.community[free[:-1]]]] if len(free) else free
    leave[first] += 1
    return leave


def split(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Endpoint arrays ``(src, dst)`` with ``src < dst`` from sorted keys."""
    return keys // n, keys % n
