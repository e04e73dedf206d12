"""The ledger tells the truth: checked with networkx and scikit-learn, never with our own code."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score

MOTIFS = [
    {"shape": "clique", "size": 6, "count": 8},
    {"shape": "star", "size": 7, "count": 3, "placement": "across"},
    {"shape": "cycle", "size": 5, "count": 3},
    {"shape": "biclique", "size": 6, "count": 2, "placement": "across"},
    {"shape": "path", "size": 4, "count": 2},
]


def test_louvain_recovers_partition_and_nmi_falls_as_mixing_rises(make_graph, to_networkx):
    scores, found = [], []
    for mu in (0.1, 0.3, 0.5):
        ds = make_graph({"nodes": 3000, "avg_degree": 15, "max_degree": 50, "mixing": mu,
                         "community_size": [20, 100]})
        g, community = to_networkx(ds)
        parts = nx.community.louvain_communities(g, seed=1)
        label = np.empty(g.number_of_nodes(), np.int64)
        for i, p in enumerate(parts):
            label[list(p)] = i
        scores.append(normalized_mutual_info_score(community, label))
        found.append(len(parts))
    planted = int(community.max()) + 1
    assert scores[0] > 0.97, (scores, found, planted)
    assert scores[0] > scores[1] > scores[2], (scores, found, planted)
    assert found[0] >= 0.9 * planted


def test_realized_mixing_is_exact_and_on_target(make_graph, to_networkx):
    ds = make_graph({"nodes": 10_000, "avg_degree": 12, "max_degree": 40, "mixing": 0.3, "motifs": MOTIFS[:2]})
    g, community = to_networkx(ds)
    communities = [p for p in ds.ledger.patterns if p.kind == "community"]
    assert len(communities) == community.max() + 1
    for p in communities:
        lo, hi = p.node_range
        assert (community[lo:hi] == community[lo]).all() and (community != community[lo]).sum() == 10_000 - (hi - lo)
        ends = sum(d for _, d in g.degree(range(lo, hi)))
        leaving = sum(1 for v in range(lo, hi) for w in g[v] if not lo <= w < hi)
        assert p.realized_mixing == pytest.approx(leaving / ends, abs=1e-12)
        assert abs(p.realized_mixing - 0.3) <= 0.01, p
    crossing = sum(1 for u, v in g.edges() if community[u] != community[v])
    assert abs(crossing / g.number_of_edges() - 0.3) <= 0.01
    assert ds.report["metrics"]["blocks"]["net"]["realized_mixing"] == pytest.approx(crossing / g.number_of_edges())
    assert all(p.status == "kept" for p in communities)


def test_graph_is_simple_and_degrees_follow_the_law(make_graph):
    ds = make_graph({"nodes": 5000, "avg_degree": 10, "max_degree": 60, "degree_exponent": 2.2, "mixing": 0.4})
    edges = ds.table("net", "edges").to_pandas()
    assert (edges.src < edges.dst).all()  # no self-loops, one orientation
    assert not edges.duplicated().any()
    degree = np.bincount(np.concatenate([edges.src, edges.dst]), minlength=5000)
    assert degree.mean() == pytest.approx(10, rel=0.05)
    assert (degree > 60).mean() < 0.001
    # the tail is heavy: the continuous MLE of the exponent above k=5 is near the asked 2.2
    tail = degree[degree >= 5]
    tau = 1 + len(tail) / np.log(tail / 4.5).sum()
    assert 1.8 < tau < 2.8, tau


def test_every_planted_motif_is_in_the_graph(make_graph, to_networkx):
    ds = make_graph({"nodes": 2000, "avg_degree": 8, "max_degree": 30, "mixing": 0.2, "motifs": MOTIFS})
    g, community = to_networkx(ds)
    motifs = [p for p in ds.ledger.patterns if p.kind == "motif"]
    assert len(motifs) == sum(m["count"] for m in MOTIFS)
    seen: set[int] = set()
    for p in motifs:
        v = p.nodes
        assert not seen & set(v)
        seen |= set(v)
        sub = g.subgraph(v)
        if p.shape == "clique":
            assert sub.number_of_edges() == len(v) * (len(v) - 1) // 2
        elif p.shape == "star":
            assert all(g.has_edge(v[0], w) for w in v[1:])
        elif p.shape == "cycle":
            assert all(g.has_edge(v[i], v[(i + 1) % len(v)]) for i in range(len(v)))
        elif p.shape == "path":
            assert all(g.has_edge(v[i], v[i + 1]) for i in range(len(v) - 1))
        else:
            half = len(v) // 2
            assert all(g.has_edge(x, y) for x in v[:half] for y in v[half:])
        groups = set(community[v].tolist())
        assert len(groups) == (1 if p.placement == "inside" else len(v))
        assert community[v].tolist() == p.communities


def test_attributes_agree_with_communities_as_asked(make_graph):
    ds = make_graph({"nodes": 3000, "attributes": {"count": 2, "values": 4, "strength": 0.7}})
    nodes = ds.table("net", "nodes").to_pandas()
    for p in (p for p in ds.ledger.patterns if p.kind == "attribute"):
        home = np.asarray(p.home)[nodes.community.to_numpy()]
        agreement = float((nodes[p.column].to_numpy() == home).mean())
        assert agreement == pytest.approx(p.realized_agreement) == pytest.approx(round(0.7 * 3000) / 3000)
        assert nodes[p.column].between(0, 3).all()


def test_sbm_baseline_has_the_same_partition_and_flat_degrees(make_graph, to_networkx):
    block = {"nodes": 4000, "avg_degree": 12, "max_degree": 60, "mixing": 0.3}
    planted = make_graph(block)
    sbm = make_graph({**block, "generator": "sbm"})
    ranges = [[p.node_range for p in ds.ledger.patterns if p.kind == "community"] for ds in (planted, sbm)]
    assert ranges[0] == ranges[1]
    g1, com = to_networkx(planted)
    g2, _ = to_networkx(sbm)
    d1 = np.array([d for _, d in g1.degree()])
    d2 = np.array([d for _, d in g2.degree()])
    assert d2.std() < d1.std() and d2.max() < d1.max()
    crossing = sum(1 for u, v in g2.edges() if com[u] != com[v]) / g2.number_of_edges()
    assert abs(crossing - 0.3) < 0.03


def test_motif_edges_fall_in_their_time_window(make_graph):
    ds = make_graph({"nodes": 2000, "avg_degree": 8, "max_degree": 30, "mixing": 0.2, "motifs": MOTIFS[:3],
                     "timestamps": {"span": 10_000, "burst": 50}})
    edges = ds.table("net", "edges").to_pandas()
    assert edges.time.between(0, 9_999).all()
    when = {(s, d): t for s, d, t in zip(edges.src, edges.dst, edges.time)}
    for p in (p for p in ds.ledger.patterns if p.kind == "motif"):
        lo, hi = p.time_window
        assert hi - lo == 50 and lo >= 0 and hi <= 10_000
        v = p.nodes
        if p.shape == "clique":
            pairs = [(a, b) for i, a in enumerate(v) for b in v[i + 1:]]
        elif p.shape == "star":
            pairs = [(v[0], w) for w in v[1:]]
        else:
            pairs = [(v[i], v[(i + 1) % len(v)]) for i in range(len(v))]
        times = [when[min(a, b), max(a, b)] for a, b in pairs]
        assert all(lo <= t < hi for t in times)
        assert p.edges_in_window == len(pairs)
    # outside the bursts, times are spread over the whole span
    assert edges.time.quantile(0.1) < 1_500 and edges.time.quantile(0.9) > 8_500


@pytest.mark.parametrize("generator", ["planted", "sbm"])
def test_hierarchy_groups_have_their_own_exact_mixing(make_graph, to_networkx, generator):
    ds = make_graph({"generator": generator, "nodes": 10_000, "avg_degree": 14, "max_degree": 40, "mixing": 0.4,
                     "hierarchy": {"groups": 8, "mixing": 0.1}})
    g, community = to_networkx(ds)
    group = ds.table("net", "nodes").column("group").to_numpy()
    groups = [p for p in ds.ledger.patterns if p.kind == "community" and p.level == 1]
    assert len(groups) == 8
    for p in groups:
        lo, hi = p.node_range
        assert (group[lo:hi] == group[lo]).all() and (group == group[lo]).sum() == hi - lo
        assert len(set(community[lo:hi].tolist())) >= 2  # a group holds whole communities
        assert (community[lo] == community[:lo]).sum() == 0 and (community[hi - 1] == community[hi:]).sum() == 0
        ends = sum(d for _, d in g.degree(range(lo, hi)))
        leaving = sum(1 for v in range(lo, hi) for w in g[v] if not lo <= w < hi)
        assert p.realized_mixing == pytest.approx(leaving / ends, abs=1e-12)
        assert abs(p.realized_mixing - 0.1) <= 0.01
    crossing = np.mean([community[u] != community[v] for u, v in g.edges()])
    assert abs(crossing - 0.4) <= 0.01
    if generator == "planted":
        assert all(abs(p.realized_mixing - 0.4) <= 0.01 for p in ds.ledger.patterns
                   if p.kind == "community" and p.level == 0)
        parts = nx.community.louvain_communities(g, seed=1)
        label = np.empty(10_000, np.int64)
        for i, c in enumerate(parts):
            label[list(c)] = i
        # Louvain resolves the groups (the coarser, sharper level) far better than the communities
        assert normalized_mutual_info_score(group, label) > normalized_mutual_info_score(community, label)


def test_weights_are_heavier_inside_communities(make_graph):
    ds = make_graph({"nodes": 3000, "mixing": 0.3, "weights": {"inside": 3.0, "across": 1.0, "shape": 4.0}})
    edges = ds.table("net", "edges").to_pandas()
    community = ds.table("net", "nodes").column("community").to_numpy()
    inside = community[edges.src] == community[edges.dst]
    assert (edges.weight > 0).all()
    assert edges.weight[inside].mean() == pytest.approx(3.0, rel=0.05)
    assert edges.weight[~inside].mean() == pytest.approx(1.0, rel=0.05)
    metrics = ds.report["metrics"]["blocks"]["net"]
    assert metrics["mean_weight_inside"] == pytest.approx(edges.weight[inside].mean())
    # Louvain on the weights recovers the partition at least as well as without them
    g = nx.Graph()
    g.add_nodes_from(range(3000))
    g.add_weighted_edges_from(zip(edges.src, edges.dst, edges.weight))
    scores = []
    for weight in ("weight", None):
        parts = nx.community.louvain_communities(g, weight=weight, seed=1)
        label = np.empty(3000, np.int64)
        for i, c in enumerate(parts):
            label[list(c)] = i
        scores.append(normalized_mutual_info_score(community, label))
    assert scores[0] >= scores[1] - 0.01


def test_directed_graph_keeps_mixing_and_orients_motifs(make_graph):
    ds = make_graph({"nodes": 3000, "avg_degree": 10, "max_degree": 40, "mixing": 0.25, "directed": True,
                     "motifs": MOTIFS})
    edges = ds.table("net", "edges").to_pandas()
    community = ds.table("net", "nodes").column("community").to_numpy()
    g = nx.DiGraph()
    g.add_nodes_from(range(3000))
    g.add_edges_from(zip(edges.src, edges.dst))
    assert nx.number_of_selfloops(g) == 0 and g.number_of_edges() == len(edges)
    assert not any(g.has_edge(v, u) for u, v in g.edges())  # no reciprocal pairs
    assert 0.4 < (edges.src > edges.dst).mean() < 0.6  # both directions occur
    for p in (p for p in ds.ledger.patterns if p.kind == "community"):
        lo, hi = p.node_range
        ends = sum(g.in_degree(v) + g.out_degree(v) for v in range(lo, hi))
        leaving = sum(1 for v in range(lo, hi) for w in [*g.successors(v), *g.predecessors(v)] if not lo <= w < hi)
        assert p.realized_mixing == pytest.approx(leaving / ends, abs=1e-12)
    for p in (p for p in ds.ledger.patterns if p.kind == "motif"):
        v = p.nodes
        if p.shape == "cycle":
            assert all(g.has_edge(v[i], v[(i + 1) % len(v)]) for i in range(len(v)))
        elif p.shape == "star":
            assert all(g.has_edge(v[0], w) for w in v[1:])
        elif p.shape == "clique":
            assert all(g.has_edge(x, y) for i, x in enumerate(v) for y in v[i + 1:])
    crossing = (community[edges.src] != community[edges.dst]).mean()
    assert crossing == pytest.approx(ds.report["metrics"]["blocks"]["net"]["realized_mixing"])


def test_deeper_hierarchy_nests_and_keeps_every_level_mixing(make_graph, to_networkx):
    targets = {"community": 0.4, "group": 0.2, "group2": 0.1, "group3": 0.03}
    ds = make_graph({"nodes": 10_000, "avg_degree": 14, "max_degree": 40, "mixing": 0.4, "community_size": [20, 100],
                     "hierarchy": {"groups": 27, "mixing": 0.2,
                                   "above": [{"groups": 9, "mixing": 0.1}, {"groups": 3, "mixing": 0.03}]}})
    g, _ = to_networkx(ds)
    nodes = ds.table("net", "nodes")
    for level, (column, target) in enumerate(targets.items()):
        label = nodes.column(column).to_numpy()
        if level:  # every group of the level below lies inside one group of this level
            below = nodes.column(list(targets)[level - 1]).to_numpy()
            assert all(len(set(label[below == b].tolist())) == 1 for b in np.unique(below))
        records = [p for p in ds.ledger.patterns if p.kind == "community" and p.level == level]
        assert len(records) == len(np.unique(label))
        for p in records:
            lo, hi = p.node_range
            assert (label[lo:hi] == label[lo]).all() and (label == label[lo]).sum() == hi - lo
            ends = sum(d for _, d in g.degree(range(lo, hi)))
            leaving = sum(1 for v in range(lo, hi) for w in g[v] if not lo <= w < hi)
            assert p.realized_mixing == pytest.approx(leaving / ends, abs=1e-12)
            assert abs(p.realized_mixing - target) <= 0.01, p
