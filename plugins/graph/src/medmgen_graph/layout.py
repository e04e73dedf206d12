"""The plan of a graph block: community sizes, node degrees, motif nodes (seeded, no edges yet).

Communities occupy contiguous node ids: community ``c`` is ``[offsets[c], offsets[c+1])``.
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

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.offsets)


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
    groups = block.hierarchy.groups
    if groups:
        if len(sizes) < 2 * groups:
            raise InputError("spec", [Problem(f"blocks.{ctx.block}.hierarchy.groups",
                                              "fewer than 2 communities per group", f"<= {len(sizes) // 2}", groups)])
        group_of = np.arange(len(sizes), dtype=np.int64) * groups // len(sizes)
        levels.append(group_of[community])
        bounds.append(offsets[np.searchsorted(group_of, np.arange(groups + 1))])
    levels.append(np.zeros(n, np.int64))
    bounds.append(np.array([0, n], np.int64))
    return Layout(nodes=n, offsets=offsets, community=community, degree=degree, motifs=motifs,
                  levels=tuple(levels), bounds=tuple(bounds))


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
    return InputError("spec", [Problem(f"blocks.{ctx.block}.motifs[{i}]", f"community sizes cannot hold the motifs: "
                                       f"{why}", "fewer or smaller motifs, or larger communities",
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

