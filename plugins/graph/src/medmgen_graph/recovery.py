"""Community recovery: does an independent detector find the planted partition?

Runs networkx's Louvain (seeded) on each graph block and scores it against the planted
communities (each node's home community) with NMI and ARI from scikit-learn, beside the
number of communities found (the resolution limit makes detectors merge small ones).
Graphs above ``MAX_EDGES`` edges are skipped and the metrics say so: networkx's Louvain is
pure Python (about a minute per million edges on this machine kind); run
``medmgen evaluate`` on a smaller copy, or a faster detector, for those.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from medmgen.interfaces import Evaluation, Evaluator

MAX_EDGES = 300_000
SEED = 0


def _graph_blocks(evaluation: Evaluation) -> list[str]:
    return [name for name, b in evaluation.spec.blocks.items() if b.modality == "graph"]


class CommunityRecovery(Evaluator):
    """NMI / ARI of Louvain communities against the planted partition, per graph block."""

    name = "community_recovery"

    def applies(self, evaluation: Evaluation) -> bool:
        return bool(_graph_blocks(evaluation)) and bool(evaluation.tables)

    def evaluate(self, evaluation: Evaluation) -> dict[str, Any]:
        blocks: dict[str, Any] = {}
        for name in _graph_blocks(evaluation):
            parts = evaluation.tables[name]
            if parts.rows("edges") > MAX_EDGES:  # known before any edge is read
                blocks[name] = {"skipped": f"{parts.rows('edges'):,} edges > {MAX_EDGES:,} (networkx Louvain is slow)"}
                continue
            edges, nodes = parts["edges"], parts["nodes"]
            blocks[name] = recover(edges.column("src").to_numpy(), edges.column("dst").to_numpy(),
                                   nodes.column("node").to_numpy(), nodes.column("community").to_numpy())
        scored = [b for b in blocks.values() if "nmi" in b]
        out: dict[str, Any] = {"blocks": blocks, "detector": f"networkx louvain_communities(seed={SEED})"}
        if scored:
            out["nmi"] = min(b["nmi"] for b in scored)
            out["ari"] = min(b["ari"] for b in scored)
        return out


def recover(src: np.ndarray, dst: np.ndarray, node: np.ndarray, community: np.ndarray) -> dict[str, Any]:
    """Louvain on the edge list, scored against ``community`` (one label per ``node``)."""
    import networkx as nx
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    g = nx.Graph()
    g.add_nodes_from(node.tolist())
    g.add_edges_from(zip(src.tolist(), dst.tolist()))
    found = nx.community.louvain_communities(g, seed=SEED)
    label = {}
    for i, members in enumerate(sorted(found, key=min)):
        for v in members:
            label[v] = i
    predicted = np.array([label[v] for v in node.tolist()])
    return {
        "nmi": round(float(normalized_mutual_info_score(community, predicted)), 6),
        "ari": round(float(adjusted_rand_score(community, predicted)), 6),
        "communities_planted": int(np.unique(community).size),
        "communities_found": len(found),
    }
