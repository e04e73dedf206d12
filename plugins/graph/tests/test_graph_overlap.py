"""Overlapping memberships: recounted with networkx from the written files, not with our code."""

from __future__ import annotations

import numpy as np
import pytest

OVERLAP = {"nodes": 10_000, "avg_degree": 12, "max_degree": 40, "mixing": 0.3,
           "overlap": {"nodes": 0.1, "memberships": 2}}


@pytest.fixture(scope="module")
def overlapping(make_graph, to_networkx):
    ds = make_graph(OVERLAP)
    g, _ = to_networkx(ds)
    members = ds.table("net", "nodes").column("communities").to_pylist()
    return ds, g, [set(m) for m in members]


def test_memberships_match_the_ledger(overlapping):
    ds, _, members = overlapping
    home = ds.table("net", "nodes").column("community").to_pylist()
    assert all(next(iter(sorted(m, key=lambda c: c != h))) == h for m, h in zip(members, home))
    several = [v for v, m in enumerate(members) if len(m) > 1]
    assert len(several) == 1000 and all(len(members[v]) == 2 for v in several)
    for p in (p for p in ds.ledger.patterns if p.kind == "community"):
        c = int(p.id.rsplit("/", 1)[1])
        lo, hi = p.node_range
        inside = {v for v, m in enumerate(members) if c in m}
        assert inside == set(range(lo, hi)) | set(p.overlap_nodes)
        assert p.size == len(inside) and not set(p.overlap_nodes) & set(range(lo, hi))


def test_overlapping_nodes_have_edges_into_each_community(overlapping):
    _, g, members = overlapping
    for v, mine in enumerate(members):
        if len(mine) > 1:
            reached = set().union(*(members[w] & mine for w in g[v]))
            assert reached == mine, (v, mine, reached)


def test_realized_mixing_recounted_and_near_target(overlapping):
    ds, g, members = overlapping
    # an edge leaves a node's communities when its other end shares none of them
    outside = {v: sum(1 for w in g[v] if not members[v] & members[w]) for v in g}
    crossing = sum(1 for u, v in g.edges() if not members[u] & members[v])
    assert ds.report["metrics"]["blocks"]["net"]["realized_mixing"] == pytest.approx(crossing / g.number_of_edges())
    assert abs(crossing / g.number_of_edges() - 0.3) <= 0.005
    deviation = []
    for p in (p for p in ds.ledger.patterns if p.kind == "community"):
        c = int(p.id.rsplit("/", 1)[1])
        inside = [v for v, m in enumerate(members) if c in m]
        ends = sum(g.degree(v) for v in inside)
        assert p.realized_mixing == pytest.approx(sum(outside[v] for v in inside) / ends, abs=1e-12)
        deviation.append(abs(p.realized_mixing - 0.3))
    assert max(deviation) <= 0.01 and np.mean(deviation) <= 0.003


def test_every_community_is_denser_inside_than_outside(overlapping):
    _, g, members = overlapping
    n = g.number_of_nodes()
    for c in set().union(*members):
        inside = {v for v, m in enumerate(members) if c in m}
        k = len(inside)
        internal = g.subgraph(inside).number_of_edges() / (k * (k - 1) / 2)
        cut = sum(1 for v in inside for w in g[v] if w not in inside) / (k * (n - k))
        assert internal > 20 * cut, (c, internal, cut)


def test_overlap_is_refused_with_a_hierarchy(make_graph):
    from medmgen.errors import InputError

    with pytest.raises(InputError, match="overlap"):
        make_graph({"nodes": 2000, "hierarchy": {"groups": 3}, "overlap": {"nodes": 0.1}})


def test_overlapping_nodes_split_into_parts_inside_each_community():
    from pathlib import Path

    from medmgen.interfaces import BlockContext
    from medmgen_graph.edges import split_external
    from medmgen_graph.layout import plan_layout, virtual_layout
    from medmgen_graph.spec import GraphBlock, OverlapSpec

    block = GraphBlock(modality="graph", nodes=3000, mixing=0.3, overlap=OverlapSpec(nodes=0.2, memberships=3))
    lay = plan_layout(block, BlockContext(block="net", root_seed=3, spec_dir=Path(".")))
    virtual, real_of = virtual_layout(lay)
    assert virtual.nodes == 3000 + 600 * 2
    assert np.array_equal(np.bincount(real_of, weights=virtual.degree, minlength=3000), lay.degree)
    node, community = lay.members()
    pairs = set(zip(node.tolist(), community.tolist()))
    assert set(zip(real_of.tolist(), virtual.community.tolist())) == pairs  # one part per membership
    assert np.array_equal(virtual.community, np.repeat(np.arange(len(virtual.sizes)), virtual.sizes))
    for v in lay.overlap_nodes[:50]:
        parts = virtual.degree[real_of == v]
        assert parts.max() - parts.min() <= 1 and parts.min() >= 1
    aims = np.full(len(virtual.sizes), 0.3)
    leave = split_external(virtual, aims, np.random.default_rng(0))
    pinned = virtual.pinned & (virtual.degree > 0)
    assert (virtual.degree[pinned] - leave[pinned] >= 1).all()
    assert (np.add.reduceat(virtual.degree - leave, virtual.offsets[:-1]) % 2 == 0).all()
    # each community's members (an overlapping node with its whole degree) get the asked share
    external = np.bincount(real_of, weights=leave, minlength=3000)
    ends = np.bincount(community, weights=lay.degree[node])
    leaving = np.bincount(community, weights=external[node])
    assert np.abs(leaving - 0.3 * ends).max() <= 3  # rounding and two parity moves
