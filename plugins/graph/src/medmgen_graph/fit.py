"""Fit a graph block to a real edge list: degree law, Louvain communities, mixing."""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from medmgen.errors import InputError
from medmgen.interfaces import BlockContext
from medmgen_graph.laws import power_law_mean
from medmgen_graph.spec import FITTED, CommunityLayout, GraphBlock

COMMENTS = ("#", "%")


def read_edge_list(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``u v [anything]`` per line (``#``/``%`` comments, blank lines skipped); ids relabelled 0..n-1.

    Raises :class:`InputError` naming the first malformed line.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.one(str(path), "", f"cannot read: {exc}") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an empty file is reported below
            pairs = np.loadtxt(io.StringIO(text), dtype=np.int64, comments=COMMENTS, usecols=(0, 1), ndmin=2)
    except ValueError:
        raise _first_bad_line(path, text) from None
    if len(pairs) == 0:
        raise InputError.one(str(path), "", "no edges", expected="lines 'u v'", got="empty")
    ids = pairs.T.ravel()
    order = np.argsort(ids, kind="stable")
    first = np.ones(len(ids), np.bool_)
    first[1:] = ids[order][1:] != ids[order][:-1]
    label = np.empty(len(ids), np.int64)
    label[order] = np.cumsum(first) - 1
    return label[: len(pairs)], label[len(pairs):]


def _first_bad_line(path: Path, text: str) -> InputError:
    """The error for the first line that is not ``u v [anything]`` with integer ids."""
    for number, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts or parts[0].startswith(COMMENTS):
            continue
        try:
            int(parts[0]), int(parts[1])
        except (ValueError, IndexError):
            return InputError.one(str(path), f"line {number}", "not an edge",
                                  expected="two integer node ids", got=line.strip())
    return InputError.one(str(path), "", "not an edge list", expected="lines 'u v'", got="unreadable")


def _exponent(values: np.ndarray, lo: int) -> float:
    """Discrete power-law exponent by the continuous-approximation MLE (Clauset et al.)."""
    x = values[values >= lo].astype(np.float64)
    if len(x) == 0:
        return 2.5
    s = np.log(x / (lo - 0.5)).sum()
    return float(1 + len(x) / s) if s > 0 else 10.0


def fit_edge_list(source: Path, seed: int = 0) -> dict[str, Any]:
    """A ``[blocks.NAME]`` table (graph, planted) that reproduces the input's structure.

    Nodes and degrees come from the simple graph of the edge list (loops and repeats
    dropped); communities are networkx Louvain communities (seeded), single-node
    communities are merged into others; mixing is the measured fraction of endpoints
    whose edge leaves its community.
    """
    import networkx as nx

    a, b = read_edge_list(source)
    n = int(max(a.max(), b.max())) + 1
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(a.tolist(), b.tolist()))
    g.remove_edges_from(list(nx.selfloop_edges(g)))
    if n < 4 or g.number_of_edges() == 0:
        raise InputError.one(str(source), "", "too small to fit", expected=">= 4 nodes and 1 edge", got=n)
    deg = np.array([d for _, d in sorted(g.degree())], np.int64)
    parts = nx.community.louvain_communities(g, seed=seed)
    member = np.empty(n, np.int64)
    for c, nodes in enumerate(parts):
        member[list(nodes)] = c
    edges = np.array(list(g.edges()), np.int64)
    mixing = float(np.mean(member[edges[:, 0]] != member[edges[:, 1]]))
    sizes = np.sort(np.array([len(p) for p in parts], np.int64))[::-1]
    singles = int((sizes == 1).sum())
    sizes = sizes[sizes >= 2].copy()
    if len(sizes) == 0:
        sizes = np.array([n], np.int64)
    else:
        np.add.at(sizes, np.arange(singles) % len(sizes), 1)
    largest = int(sizes.max())
    max_degree = int(min(deg.max(), n - 1, math.floor((largest - 1) / max(1e-9, 1 - mixing))))
    max_degree = max(max_degree, 1)
    avg = float(min(deg.mean(), max_degree))
    tau1 = min(max(_exponent(deg, max(1, int(deg[deg > 0].min()))), 1.05), 10.0)
    while tau1 < 10.0 and power_law_mean(1, max_degree, tau1) > avg:
        tau1 = round(tau1 + 0.05, 4)
    tau2 = min(max(_exponent(sizes, int(sizes.min())), 0.0), 10.0)
    return {
        "modality": "graph",
        "generator": "planted",
        "nodes": n,
        "avg_degree": round(avg, 4),
        "max_degree": max_degree,
        "degree_exponent": round(tau1, 4),
        "community_exponent": round(tau2, 4),
        "community_size": [int(sizes.min()), largest],
        "communities": {"sizes": [int(s) for s in sizes]},
        "mixing": round(mixing, 4),
    }


def from_source(block: GraphBlock, ctx: BlockContext) -> GraphBlock:
    """``block`` with the keys learned from its ``source`` edge list (as ``medmgen fit graph``).

    ``nodes`` defaults to the source's node count; a larger graph keeps the fitted laws and
    draws ``len(sizes) * nodes / source nodes`` communities from the fitted size law.
    """
    where = f"blocks.{ctx.block}"
    path = ctx.resolve(str(block.source))
    if not path.is_file():
        raise InputError.one(ctx.source, f"{where}.source", "file not found", expected="an edge list", got=str(path))
    fitted = fit_edge_list(path)
    size = fitted["nodes"]
    nodes = block.nodes or size
    if nodes < size:
        raise InputError.one(ctx.source, f"{where}.nodes", "smaller than the source graph", f">= {size}", nodes)
    sizes = fitted["communities"]["sizes"]
    layout = CommunityLayout(sizes=sizes) if nodes == size else CommunityLayout(
        count=max(1, min(nodes // 2, round(len(sizes) * nodes / size))))
    out = attrs.evolve(block, source=None, nodes=nodes, communities=layout,
                       **{k: fitted[k] for k in FITTED if k != "communities"})
    problems = [attrs.evolve(p, path=f"{where}.{p.path}") for p in out.problems()]
    if problems:
        raise InputError(ctx.source, problems)
    return out
