"""The community_recovery evaluator: Louvain against the planted partition, in the report."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import normalized_mutual_info_score

from medmgen_graph.recovery import recover


def test_recovery_is_in_the_report_and_falls_with_mixing(make_graph, to_networkx):
    nmi = {}
    for mu in (0.1, 0.5):
        ds = make_graph({"nodes": 2000, "avg_degree": 12, "max_degree": 40, "mixing": mu,
                         "community_size": [40, 120]})
        rec = ds.report["metrics"]["community_recovery"]
        block = rec["blocks"]["net"]
        assert block["communities_planted"] == len(np.unique(ds.table("net", "nodes").column("community")))
        nmi[mu] = rec["nmi"]
    assert nmi[0.1] > 0.9 and nmi[0.1] > nmi[0.5]


def test_recover_scores_a_perfect_split_as_one():
    # two disjoint cliques of 5: Louvain finds them exactly
    src, dst = [], []
    for base in (0, 5):
        for i in range(5):
            for j in range(i + 1, 5):
                src.append(base + i)
                dst.append(base + j)
    node = np.arange(10)
    community = np.array([0] * 5 + [1] * 5)
    out = recover(np.array(src), np.array(dst), node, community)
    assert out["nmi"] == 1.0 and out["ari"] == 1.0 and out["communities_found"] == 2
    assert normalized_mutual_info_score(community, community[::-1]) == 1.0  # labels are only names
