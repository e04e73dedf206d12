"""Shared helpers of the graph plugin tests: generate a block, read it back as networkx."""

from __future__ import annotations

import os
from typing import Any

import networkx as nx
import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")


def _generate(block: dict[str, Any], seed: int = 11) -> Any:
    from medmgen import generate

    return generate({"dataset": {"name": "t", "seed": seed}, "blocks": {"net": {"modality": "graph", **block}}})


def _as_networkx(ds: Any) -> tuple[nx.Graph, np.ndarray]:
    edges = ds.table("net", "edges")
    nodes = ds.table("net", "nodes")
    g = nx.Graph()
    g.add_nodes_from(nodes.column("node").to_pylist())
    g.add_edges_from(zip(edges.column("src").to_pylist(), edges.column("dst").to_pylist()))
    return g, nodes.column("community").to_numpy()


@pytest.fixture(scope="session")
def make_graph():
    """``make_graph(block_keys, seed)`` -> the generated dataset."""
    return _generate


@pytest.fixture(scope="session")
def to_networkx():
    """``to_networkx(dataset)`` -> (networkx graph, community per node)."""
    return _as_networkx
