"""Fidelity against the spec's intended distributions (no real file needed).

Per graph block, from the final edges and nodes:

- ``degree_ks``: Kolmogorov-Smirnov statistic (largest gap between the cumulative
  distributions) of the realized node degrees (in + out for directed graphs, isolated
  nodes as 0) against the spec's degree law: ``k^-degree_exponent`` on ``1..max_degree``
  with its mean set to ``avg_degree`` (:func:`medmgen_graph.laws.degree_pmf`);
  ``mean_degree`` beside ``avg_degree``, ``max_degree_realized`` beside ``max_degree``.
  Planted motifs and de-duplicated edges move degrees a little; a clearly different law
  gives a KS of several tenths.
- ``community_size_ks``: KS of the home-community sizes against ``s^-community_exponent``
  on ``community_size`` (cut at ``nodes``); with ``communities.count`` the drawn sizes are
  rescaled to add up to ``nodes``, so expect a larger value there. With explicit
  ``communities.sizes``: ``community_size_error``, the share of nodes that would have to
  move for the sorted realized sizes to equal the sorted given ones (0 when exact).

Blocks with a ``source`` file are skipped (their laws come from the file).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from medmgen.interfaces import Evaluation, Evaluator
from medmgen_graph.laws import degree_pmf


def ks(values: np.ndarray, pmf: np.ndarray, first: int) -> float:
    """Largest gap between the empirical CDF of integer ``values`` and the CDF of ``pmf`` on ``first..``."""
    top = max(int(values.max(initial=first)), first + pmf.size - 1)
    law = np.zeros(top + 1)
    law[first:first + pmf.size] = pmf / pmf.sum()
    seen = np.bincount(values, minlength=top + 1) / max(values.size, 1)
    return float(np.abs(np.cumsum(seen) - np.cumsum(law)).max())


def size_pmf(lo: int, hi: int, exponent: float) -> np.ndarray:
    """Probabilities of sizes ``lo..hi`` under ``s^-exponent``."""
    w = np.arange(lo, hi + 1, dtype=np.float64) ** -exponent
    return w / w.sum()


def block_fidelity(src: np.ndarray, dst: np.ndarray, community: np.ndarray, block: Any) -> dict[str, Any]:
    """The metrics of one block from its edge endpoints and each node's home community."""
    n = community.size
    degree = np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)
    out: dict[str, Any] = {
        "degree_ks": ks(degree, degree_pmf(block.avg_degree, block.max_degree, block.degree_exponent), 1),
        "mean_degree": float(degree.mean()) if n else 0.0,
        "avg_degree": float(block.avg_degree),
        "max_degree_realized": int(degree.max(initial=0)),
        "max_degree": int(block.max_degree),
    }
    sizes = np.bincount(community)
    sizes = sizes[sizes > 0]
    out["communities"] = int(sizes.size)
    given = block.communities.sizes
    if given:
        want = np.sort(np.asarray(given, dtype=np.int64))
        got = np.sort(sizes)
        width = max(want.size, got.size)
        gap = np.abs(np.pad(got, (width - got.size, 0)) - np.pad(want, (width - want.size, 0))).sum()
        out["community_size_error"] = float(gap / 2 / max(n, 1))
    else:
        lo, hi = block.community_size
        hi = min(hi, n)
        lo = min(lo, hi)
        out["community_size_ks"] = ks(sizes, size_pmf(lo, hi, block.community_exponent), lo)
    return out


class IntendedFit(Evaluator):
    """Each graph block against its own spec's degree and community-size laws."""

    name = "graph_intended"

    def applies(self, evaluation: Evaluation) -> bool:
        return bool(evaluation.tables) and any(
            getattr(b, "modality", None) == "graph" for b in evaluation.spec.blocks.values())

    def evaluate(self, evaluation: Evaluation) -> dict[str, Any]:
        blocks: dict[str, Any] = {}
        for name, block in evaluation.spec.blocks.items():
            parts = evaluation.tables.get(name, {})
            if block.modality != "graph" or "edges" not in parts:
                continue
            if block.source is not None:
                blocks[name] = {"skipped": "laws come from the source file"}
                continue
            edges, nodes = parts["edges"], parts["nodes"]
            community = np.empty(nodes.num_rows, np.int64)
            community[nodes.column("node").to_numpy()] = nodes.column("community").to_numpy()
            blocks[name] = block_fidelity(edges.column("src").to_numpy(), edges.column("dst").to_numpy(),
                                          community, block)
        out: dict[str, Any] = {"blocks": blocks}
        scored = [b for b in blocks.values() if "degree_ks" in b]
        if scored:
            out["degree_ks"] = max(b["degree_ks"] for b in scored)
        return out

    def figures(self, evaluation: Evaluation, metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Per scored block: realized degree frequencies against the intended law (log-log)."""
        out = []
        for name, b in metrics.get("blocks", {}).items():
            if "degree_ks" not in b:
                continue
            block = evaluation.spec.blocks[name]
            parts = evaluation.tables[name]
            n = parts["nodes"].num_rows
            degree = (np.bincount(parts["edges"].column("src").to_numpy(), minlength=n)
                      + np.bincount(parts["edges"].column("dst").to_numpy(), minlength=n))
            law = degree_pmf(block.avg_degree, block.max_degree, block.degree_exponent)
            out.append((f"{name}: degree distribution, realized vs intended (KS {b['degree_ks']:.3f})",
                        loglog(np.bincount(degree) / n, law, 1, "degree")))
        return out


def loglog(realized: np.ndarray, law: np.ndarray, first: int, what: str) -> str:
    """Inline SVG: realized frequencies (dots) and the intended pmf on ``first..`` (line), log-log."""
    import matplotlib.ticker

    from medmgen.plots import figure, svg

    fig, axes = figure(figsize=(5, 3.4))
    ax = axes[0][0]
    k = np.arange(realized.size)
    seen = realized > 0
    ax.loglog(k[seen & (k > 0)], realized[seen & (k > 0)], "o", ms=3, color="#1f6feb", label="realized")
    ax.loglog(np.arange(first, first + law.size)[law > 0], law[law > 0], "-", color="#d1242f", label="intended")
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel(what)
    ax.set_ylabel("share of nodes")
    ax.legend()
    return svg(fig)
