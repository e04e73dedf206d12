"""The graph generators: ``planted`` (degree-corrected, exact mixing) and ``sbm`` (plain baseline)."""

from __future__ import annotations

import abc
import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pyarrow as pa

from medmgen.interfaces import BlockContext, BlockResult, Generator
from medmgen.ledger import Pattern
from medmgen.seeds import DATA, PLAN, state_words
from medmgen_graph import _kernels as K
from medmgen_graph.data import GraphData
from medmgen_graph.edges import (
    EdgeSet,
    add_motifs,
    edge_times,
    motif_degrees,
    motif_time_hits,
    orient,
    sample_pairs,
    seed_words_needed,
    split,
    split_external,
    stub_match,
    to_real,
)
from medmgen_graph.fit import from_source
from medmgen_graph.kinds import AttributePattern, CommunityPattern, MotifPattern
from medmgen_graph.layout import Layout, plan_layout, virtual_layout
from medmgen_graph.spec import DEFAULT_NODES, GraphBlock


class _GraphGenerator(Generator):
    """What both graph generators share: planning, attributes, counting, tables."""

    modality = "graph"
    config = GraphBlock
    degree_corrected = True

    def __init__(self) -> None:
        self._planned: dict[str, tuple[GraphBlock, int, GraphBlock, Layout]] = {}

    def records(self, block: Any) -> int | None:
        return block.nodes or (None if block.source else DEFAULT_NODES)

    def resolve(self, block: GraphBlock, ctx: BlockContext) -> tuple[GraphBlock, Layout]:
        """The block with ``nodes`` filled in (and, with ``source``, the fitted keys) and its layout."""
        seen = self._planned.get(ctx.block)
        if seen is None or seen[0] != block or seen[1] != ctx.root_seed:
            full = from_source(block, ctx) if block.source else attrs.evolve(block, nodes=block.nodes or DEFAULT_NODES)
            seen = (block, ctx.root_seed, full, plan_layout(full, ctx, degrees=self.degree_corrected))
            self._planned[ctx.block] = seen
        return seen[2], seen[3]

    def plan(self, block: GraphBlock, ctx: BlockContext) -> list[Pattern]:
        block, lay = self.resolve(block, ctx)
        b = ctx.block
        out: list[Pattern] = []
        overlap = _overlap_members(lay)
        targets = [block.mixing] + [mixing for _, mixing in block.hierarchy.counts()]
        for level, target in enumerate(targets):
            name, bounds = level_name(level), lay.bounds[level]
            out += [CommunityPattern(id=f"{b}/{name}/{c}", block=b, node_range=[int(lo), int(hi)],
                                     size=int(hi - lo) + len(overlap.get(c, ())), level=level, target_mixing=target,
                                     overlap_nodes=overlap.get(c, []) if len(lay.overlap_nodes) else None)
                    for c, (lo, hi) in enumerate(itertools.pairwise(bounds))]
        out += [MotifPattern(id=f"{b}/motif/{i}", block=b, shape=m.shape, placement=m.placement,
                             nodes=m.nodes.tolist(), communities=lay.community[m.nodes].tolist())
                for i, m in enumerate(lay.motifs)]
        if block.attributes.count:
            homes = ctx.rng(PLAN, 4).integers(0, block.attributes.values, (block.attributes.count, len(lay.sizes)))
            out += [AttributePattern(id=f"{b}/attribute/{a}", block=b, column=f"attr_{a}",
                                     values=block.attributes.values, home=homes[a].tolist(),
                                     target_agreement=block.attributes.strength)
                    for a in range(block.attributes.count)]
        return out

    @abc.abstractmethod
    def edges(self, block: GraphBlock, lay: Layout, aims: list[np.ndarray], ctx: BlockContext) -> EdgeSet:
        """The block's edges; ``aims[level][c]`` is the mixing to aim for on this pass."""

    def generate(self, block: GraphBlock, plan: Sequence[Pattern], ctx: BlockContext) -> BlockResult:
        block, lay = self.resolve(block, ctx)
        levels = len(lay.levels) - 1
        communities = [[p for p in plan if isinstance(p, CommunityPattern) and p.level == k] for k in range(levels)]
        aims = [np.array([ctx.aim(p) for p in group], np.float64) for group in communities]
        task = ctx.progress.task(f"graph {ctx.block}", 3)
        virtual, real_of = virtual_layout(lay)
        edges = add_motifs(to_real(self.edges(block, virtual, aims, ctx), real_of), lay)
        task.advance(1)
        src, dst = split(edges.keys, lay.nodes)
        realized: list[Pattern] = []
        for k in range(levels):
            degree, outside = _endpoint_counts(lay, src, dst, k)
            ends = np.add.reduceat(degree, lay.bounds[k][:-1])
            leaving = np.add.reduceat(outside, lay.bounds[k][:-1])
            if k == 0 and len(lay.overlap_nodes):
                m = lay.extra.shape[1]
                np.add.at(ends, lay.extra.ravel(), np.repeat(degree[lay.overlap_nodes], m))
                np.add.at(leaving, lay.extra.ravel(), np.repeat(outside[lay.overlap_nodes], m))
            realized += [attrs.evolve(p, realized_mixing=float(x / e) if e else None)
                         for p, e, x in zip(communities[k], ends, leaving)]
            if k == 0:
                total = int(degree.sum())
                metrics = {"nodes": lay.nodes, "edges": len(edges.keys), "communities": len(lay.sizes),
                           "target_mixing": block.mixing,
                           "realized_mixing": int(outside.sum()) / total if total else 0.0,
                           "avg_degree": total / lay.nodes, "max_degree": int(degree.max()),
                           "unplaced_stubs": edges.unplaced, "motif_edges_added": int(sum(edges.motif_added))}
        task.advance(1)
        edge_cols, windows, extra = _edge_columns(block, lay, edges, src, dst, ctx)
        node_cols: dict[str, Any] = {"node": np.arange(lay.nodes, dtype=np.int64), "community": lay.community}
        for k in range(1, levels):
            node_cols[level_name(k)] = lay.levels[k]
        if len(lay.overlap_nodes):
            node, community = lay.members()
            starts = np.zeros(lay.nodes + 1, np.int32)
            np.cumsum(np.bincount(node, minlength=lay.nodes), out=starts[1:])
            node_cols["communities"] = pa.ListArray.from_arrays(pa.array(starts), pa.array(community))
        motifs = iter(zip(edges.motif_added, windows))
        for p in plan:
            if isinstance(p, MotifPattern):
                added, window = next(motifs)
                realized.append(attrs.evolve(p, added_edges=added, **window))
            elif isinstance(p, AttributePattern):
                values = _attribute(lay, p, ctx.aim(p) or 0.0, ctx)
                node_cols[p.column] = values
                home = np.asarray(p.home, np.int32)[lay.community]
                realized.append(attrs.evolve(p, realized_agreement=float(np.mean(values == home))))
        task.advance(1)
        data = GraphData(edges=pa.table(edge_cols), nodes=pa.table(node_cols), export=tuple(block.export),
                         directed=block.directed)
        return BlockResult(data=data, patterns=realized, metrics=metrics | extra)


def _edge_columns(block: GraphBlock, lay: Layout, edges: EdgeSet, src: np.ndarray, dst: np.ndarray,
                  ctx: BlockContext) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, float]]:
    """The edges table's columns, each motif copy's time window, and weight metrics."""
    cols: dict[str, Any] = {"src": src, "dst": dst}
    if block.directed:
        cols["src"], cols["dst"] = orient(edges.keys, lay, ctx.rng(DATA, 32))
    extra: dict[str, float] = {}
    weight = block.weights
    if weight.inside:
        inside = lay.shared(src, dst)
        w = ctx.rng(DATA, 31).gamma(weight.shape, np.where(inside, weight.inside, weight.across) / weight.shape)
        cols["weight"] = w
        extra = {"mean_weight_inside": float(w[inside].mean()) if inside.any() else 0.0,
                 "mean_weight_across": float(w[~inside].mean()) if (~inside).any() else 0.0}
    time = block.timestamps
    windows: list[dict[str, Any]] = [{} for _ in lay.motifs]
    if time.span:
        times, starts = edge_times(edges.keys, lay, time.span, time.burst, ctx.rng(DATA, 30))
        cols["time"] = times
        if time.burst and lay.motifs:
            hits = motif_time_hits(edges.keys, times, lay, starts, time.burst)
            windows = [{"time_window": [int(t), int(t) + time.burst], "edges_in_window": int(h)}
                       for t, h in zip(starts, hits)]
    return cols, windows, extra


def level_name(level: int) -> str:
    """What a hierarchy level's groups are called in ids and node columns: community, group, group2, ..."""
    return ("community", "group")[level] if level < 2 else f"group{level}"


def _overlap_members(lay: Layout) -> dict[int, list[int]]:
    """Per community: the overlapping nodes that belong to it without being in its id range."""
    out: dict[int, list[int]] = {}
    for node, row in zip(lay.overlap_nodes.tolist(), lay.extra.tolist()):
        for c in row:
            out.setdefault(c, []).append(node)
    return out


def _endpoint_counts(lay: Layout, src: np.ndarray, dst: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray]:
    """Per node: degree and edges leaving its level group (at level 0 with overlap: edges to
    nodes sharing none of its communities)."""
    if level or len(lay.overlap_nodes) == 0:
        return K.endpoint_counts(src, dst, lay.levels[level])
    n = lay.nodes
    out = ~lay.shared(src, dst)
    degree = np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)
    return degree, np.bincount(src[out], minlength=n) + np.bincount(dst[out], minlength=n)


def _attribute(lay: Layout, p: AttributePattern, aim: float, ctx: BlockContext) -> np.ndarray:
    """Exactly ``round(aim * nodes)`` nodes (a random set) carry their community's home value."""
    n = lay.nodes
    rng = ctx.rng(DATA, 10, int(p.column.rsplit("_", 1)[1]))
    home = np.asarray(p.home, np.int64)[lay.community]
    agree = np.zeros(n, np.bool_)
    agree[rng.permutation(n)[: round(aim * n)]] = True
    other = (home + 1 + rng.integers(0, p.values - 1, n)) % p.values
    return np.where(agree, home, other).astype(np.int32)


class PlantedGraph(_GraphGenerator):
    """Degree-corrected planted partition with LFR's knobs and exact per-community mixing."""

    name = "planted"
    default = True
    description = "Power-law degrees and community sizes, exact mixing per community, planted motifs."

    def edges(self, block: GraphBlock, lay: Layout, aims: list[np.ndarray], ctx: BlockContext) -> EdgeSet:
        rng = ctx.rng(DATA, 0)
        deg = lay.degree
        leave = split_external(lay, aims[0], rng)
        counts = [deg - leave]
        for k in range(1, len(aims)):  # of the endpoints leaving a level k-1 group, those leaving its level-k one
            out = np.minimum(K.split_degrees(deg, lay.bounds[k], aims[k], rng.random(len(aims[k]))), leave)
            counts.append(leave - out)
            leave = out
        counts.append(leave)
        # motif edges count towards their nodes' stubs of the same class
        counts = [np.maximum(c - m, 0) for c, m in zip(counts, motif_degrees(lay))]
        seeds = state_words(ctx.seed_sequence(DATA, 1), seed_words_needed(lay))
        return stub_match(lay, counts, seeds, ctx.rng(DATA, 2))

    @classmethod
    def fit_block(cls, source: Path) -> dict[str, Any]:
        from medmgen_graph.fit import fit_edge_list

        return fit_edge_list(source)


class SbmGraph(_GraphGenerator):
    """Plain planted-partition SBM baseline: same community sizes, no degree heterogeneity.

    Each community gets Binomial(pairs, p_in) uniform internal edges with
    ``p_in = (1 - mixing) * avg_degree / (size - 1)``; external edges are uniform pairs
    across communities, ``mixing * avg_degree * nodes / 2`` in expectation. It does not
    steer mixing (the feedback controller's aims are ignored) and ignores
    ``max_degree`` and ``degree_exponent``. With a hierarchy, uniform pairs inside each
    group but across its communities add ``(mixing - hierarchy.mixing)`` of the degree
    (and likewise at each level above, with the mixings of the level and the one below).
    Motifs, attributes, weights, timestamps and orientation are added as by ``planted``.
    """

    name = "sbm"
    description = "Plain stochastic block model (uniform degrees) on the same communities; baseline."
    degree_corrected = False
    steers = False

    def edges(self, block: GraphBlock, lay: Layout, aims: list[np.ndarray], ctx: BlockContext) -> EdgeSet:
        rng = ctx.rng(DATA, 0)
        sizes = lay.sizes.astype(np.float64)
        pairs = (sizes * (sizes - 1) / 2).astype(np.int64)
        p_in = np.minimum(1.0, (1 - block.mixing) * block.avg_degree / np.maximum(sizes - 1, 1))
        want = [rng.binomial(pairs, p_in)]
        outside = block.mixing
        for k, (_, mixing) in enumerate(block.hierarchy.counts(), 1):
            group_nodes = np.diff(lay.bounds[k])
            want.append(rng.poisson((outside - mixing) * block.avg_degree * group_nodes / 2))
            outside = mixing
        want.append(rng.poisson(outside * block.avg_degree * block.nodes / 2, 1))
        return sample_pairs(lay, want, ctx.rng(DATA, 1))
