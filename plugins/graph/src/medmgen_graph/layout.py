"""The plan of a graph block: community sizes, node degrees, motif nodes (seeded, no edges yet).

Communities occupy contiguous node ids: community ``c`` is ``[offsets[c], offsets[c+1])``,
its home members. Overlapping nodes also belong to ``extra`` other communities.
"""

from __future__ import annotations

import numpy as np
from attrs import frozen

from medmgen.errors import InputError, Problem
from medmgen.interfaces import BlockContext
from medmgen.seeds import PLAN
from medmgen_graph import _kernels as K
from medmgen_graph.laws import community_sizes, degree_sequence
from medmgen_graph.spec import GraphBlock, MotifSpec


@frozen(kw_only=True)
class MotifCopy:
    """One planted copy of a motif."""

    shape: str
    placement: str
    nodes: np.ndarray


@frozen(kw_only=True)
class Layout:
    """Communities, degrees and motif nodes of one block."""

    nodes: int
    offsets: np.ndarray  # int64, len communities + 1
    community: np.ndarray  # int64 per node
    degree: np.ndarray  # int64 per node (target degrees; zeros for the SBM baseline)
    motifs: tuple[MotifCopy, ...]
    # nested groupings, finest first: communities, [groups of communities], the whole graph
    levels: tuple[np.ndarray, ...]  # group id per node, per level
    bounds: tuple[np.ndarray, ...]  # offsets of each level's contiguous groups
    overlap_nodes: np.ndarray = np.empty(0, np.int64)  # sorted ids of the nodes in several communities
    extra: np.ndarray = np.empty((0, 0), np.int64)  # their other communities, one row per overlapping node
    # virtual layouts only: parts of overlapping nodes (each keeps an internal stub) and every node's real node
    pinned: np.ndarray | None = None
    owner: np.ndarray | None = None

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.offsets)

    def members(self) -> tuple[np.ndarray, np.ndarray]:
        """Every ``(node, community)`` membership, by node, home community first."""
        node = np.concatenate([np.arange(self.nodes, dtype=np.int64),
                               np.repeat(self.overlap_nodes, self.extra.shape[1])])
        community = np.concatenate([self.community, self.extra.ravel()])
        order = np.argsort(node, kind="stable")
        return node[order], community[order]

    def shared(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether the two ends of each pair have a community in common."""
        same = self.community[a] == self.community[b]
        if len(self.overlap_nodes) == 0:
            return same
        row = np.full(self.nodes, -1, np.int64)
        row[self.overlap_nodes] = np.arange(len(self.overlap_nodes))
        touch = np.flatnonzero(~same & ((row[a] >= 0) | (row[b] >= 0)))
        table = np.concatenate([self.community[:, None], np.full((self.nodes, self.extra.shape[1]), -1)], axis=1)
        table[self.overlap_nodes, 1:] = self.extra
        ma, mb = table[a[touch]], table[b[touch]]
        same[touch] = ((ma[:, :, None] == mb[:, None, :]) & (ma[:, :, None] >= 0)).any(axis=(1, 2))
        return same


def partition(block: GraphBlock, ctx: BlockContext) -> np.ndarray:
    """Community sizes of the block, in community-id order."""
    if block.communities.sizes is not None:
        return np.asarray(block.communities.sizes, np.int64)
    lo, hi = block.community_size
    return community_sizes(block.nodes, (lo, hi), block.community_exponent, block.communities.count,
                           ctx.rng(PLAN, 0))


def plan_layout(block: GraphBlock, ctx: BlockContext, degrees: bool = True) -> Layout:
    """Draw sizes, degrees (degree-corrected model) and motif nodes from the PLAN streams."""
    sizes = partition(block, ctx)
    n = block.nodes
    offsets = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    community = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    degree = np.zeros(n, np.int64)
    if degrees:
        degree = _place_degrees(block, sizes, ctx)
    motifs = _plan_motifs(block.motifs, offsets, ctx)
    levels, bounds = [community], [offsets]
    below = len(sizes)
    for groups, _ in block.hierarchy.counts():
        if below < 2 * groups:  # only the first level can fail here: its communities were drawn
            raise InputError(ctx.source, [Problem(f"blocks.{ctx.block}.hierarchy.groups",
                                              "fewer than 2 communities per group", f"<= {below // 2}", groups)])
        group_of = np.arange(below, dtype=np.int64) * groups // below
        levels.append(group_of[levels[-1]])
        bounds.append(bounds[-1][np.searchsorted(group_of, np.arange(groups + 1))])
        below = groups
    levels.append(np.zeros(n, np.int64))
    bounds.append(np.array([0, n], np.int64))
    overlap_nodes, extra = _plan_overlap(block, community, degree, motifs, ctx)
    return Layout(nodes=n, offsets=offsets, community=community, degree=degree, motifs=motifs,
                  levels=tuple(levels), bounds=tuple(bounds), overlap_nodes=overlap_nodes, extra=extra)


def _plan_overlap(block: GraphBlock, community: np.ndarray, degree: np.ndarray, motifs: tuple[MotifCopy, ...],
                  ctx: BlockContext) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping nodes (a random set of nodes outside motifs, of degree >= memberships when
    degrees are planned) and their ``memberships - 1`` other communities, distinct, uniform."""
    spec = block.overlap
    count = round(spec.nodes * block.nodes)
    if count == 0:
        return np.empty(0, np.int64), np.empty((0, 0), np.int64)
    eligible = np.ones(block.nodes, np.bool_)
    for m in motifs:
        eligible[m.nodes] = False
    if degree.any():
        eligible &= degree >= spec.memberships
    pool = np.flatnonzero(eligible)
    if len(pool) < count:
        raise InputError(ctx.source, [Problem(f"blocks.{ctx.block}.overlap.nodes",
                                              "not enough nodes outside motifs with a degree of at least "
                                              "memberships to overlap", f"<= {len(pool) / block.nodes:.4g}",
                                              spec.nodes)])
    rng = ctx.rng(PLAN, 5)
    chosen = np.sort(rng.choice(pool, count, replace=False))
    home = community[chosen][:, None]
    others = int(community[-1])  # communities other than the home one: 0..others-1, shifted past it
    extra = np.zeros((count, spec.memberships - 1), np.int64)
    redo = np.arange(count)
    while len(redo):
        draw = rng.integers(0, others, (len(redo), spec.memberships - 1))
        extra[redo] = draw + (draw >= home[redo])
        row = np.sort(extra[redo], axis=1)
        redo = redo[(row[:, 1:] == row[:, :-1]).any(axis=1)]
    return chosen, extra


def virtual_layout(lay: Layout) -> tuple[Layout, np.ndarray]:
    """The layout edges are matched on, and the real node of each of its nodes.

    An overlapping node becomes one node per membership, each in its community's id
    range with an even share of the degree (the home part gets the remainder); edges
    between those parts are mapped back to the real node afterwards.
    """
    n = lay.nodes
    if len(lay.overlap_nodes) == 0:
        return lay, np.arange(n, dtype=np.int64)
    over, m = lay.overlap_nodes, lay.extra.shape[1] + 1
    k = lay.degree[over]
    parts = k[:, None] // m + (np.arange(m) < (k % m)[:, None])
    degree = lay.degree.copy()
    degree[over] = parts[:, 0]
    pinned = np.zeros(n, np.bool_)
    pinned[over] = True
    community = np.concatenate([lay.community, lay.extra.ravel()])
    order = np.argsort(community, kind="stable")  # a community's own nodes first, then the parts it hosts
    real_of = np.concatenate([np.arange(n, dtype=np.int64), np.repeat(over, m - 1)])[order]
    virtual_of = np.empty(n, np.int64)
    virtual_of[order[order < n]] = np.flatnonzero(order < n)
    total = len(order)
    offsets = np.zeros(len(lay.offsets), np.int64)
    np.cumsum(np.bincount(community, minlength=len(lay.sizes)), out=offsets[1:])
    motifs = tuple(MotifCopy(shape=c.shape, placement=c.placement, nodes=virtual_of[c.nodes]) for c in lay.motifs)
    virtual = Layout(nodes=total, offsets=offsets, community=community[order],
                     degree=np.concatenate([degree, parts[:, 1:].ravel()])[order], motifs=motifs,
                     levels=(community[order], np.zeros(total, np.int64)),
                     bounds=(offsets, np.array([0, total], np.int64)),
                     pinned=np.concatenate([pinned, np.ones(total - n, np.bool_)])[order], owner=real_of)
    return virtual, real_of


def _place_degrees(block: GraphBlock, sizes: np.ndarray, ctx: BlockContext) -> np.ndarray:
    """Power-law degrees, each put in a community large enough for its internal share."""
    n = block.nodes
    deg = degree_sequence(n, block.avg_degree, block.max_degree, block.degree_exponent, ctx.rng(PLAN, 1))
    order = np.argsort(-deg, kind="stable")
    deg = deg[order]
    need = np.ceil((1.0 - block.mixing) * deg - 1e-9).astype(np.int64) + 1
    by_size = np.argsort(-sizes, kind="stable")
    rng = ctx.rng(PLAN, 2)
    slot = K.place_nodes(need, sizes[by_size], rng.random(n))
    placed = by_size[slot]
    return deg[np.argsort(placed + rng.random(n))]  # by community, in random order inside each


def _plan_motifs(motifs: list[MotifSpec], offsets: np.ndarray, ctx: BlockContext) -> tuple[MotifCopy, ...]:
    """Motif nodes: copies never share nodes; ``inside`` copies sit in one community."""
    if not motifs:
        return ()
    rng = ctx.rng(PLAN, 3)
    sizes = np.diff(offsets)
    free = sizes.copy()
    used = np.zeros(int(offsets[-1]), np.bool_)
    out = []
    for i, m in enumerate(motifs):
        for _ in range(m.count):
            if m.placement == "inside":
                ok = np.flatnonzero(free >= m.size)
                if len(ok) == 0:
                    raise _no_room(ctx, i, m, "no community has enough unused nodes left for another copy")
                c = rng.choice(ok, p=free[ok] / free[ok].sum())
                lo = offsets[c]
                cand = lo + np.flatnonzero(~used[lo:offsets[c + 1]])
                nodes = rng.choice(cand, m.size, replace=False)
            else:
                ok = np.flatnonzero(free >= 1)
                if len(ok) < m.size:
                    raise _no_room(ctx, i, m, "fewer communities with unused nodes than the motif has nodes")
                cs = rng.choice(ok, m.size, replace=False, p=free[ok] / free[ok].sum())
                nodes = np.array([rng.choice(offsets[c] + np.flatnonzero(~used[offsets[c]:offsets[c + 1]]))
                                  for c in cs], np.int64)
            if m.shape == "clique":
                nodes = np.sort(nodes)
            used[nodes] = True
            np.subtract.at(free, np.searchsorted(offsets, nodes, side="right") - 1, 1)
            out.append(MotifCopy(shape=m.shape, placement=m.placement, nodes=nodes.astype(np.int64)))
    return tuple(out)


def _no_room(ctx: BlockContext, i: int, m: MotifSpec, why: str) -> InputError:
    return InputError(ctx.source, [Problem(f"blocks.{ctx.block}.motifs[{i}]",
                                           f"community sizes cannot hold the motifs: {why}",
                                           "fewer or smaller motifs, or larger communities",
                                           f"{m.count} x {m.shape} of {m.size}")])


def motif_edges(copy: MotifCopy) -> tuple[np.ndarray, np.ndarray]:
    """The edges of one motif copy as two endpoint arrays."""
    v = copy.nodes
    s = len(v)
    if copy.shape == "clique":
        i, j = np.triu_indices(s, 1)
        return v[i], v[j]
    if copy.shape == "star":
        return np.full(s - 1, v[0]), v[1:]
    if copy.shape == "path":
        return v[:-1], v[1:]
    if copy.shape == "cycle":
        return v, np.roll(v, -1)
    half = s // 2  # biclique
    i, j = np.meshgrid(np.arange(half), np.arange(half, s), indexing="ij")
    return v[i.ravel()], v[j.ravel()]

