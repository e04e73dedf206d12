"""Deterministic matplotlib figures as inline SVG for ``report.html`` and ``compare``."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "medmgen"
    plt.rcParams["svg.fonttype"] = "none"
    return plt


def svg(fig: Any) -> str:
    plt = _plt()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def target_vs_realized(points: Mapping[str, Sequence[tuple[float, float]]]) -> str:
    """Scatter of realized against target per quantity, with the identity line."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(points), figsize=(4.2 * len(points), 3.8), squeeze=False)
    for ax, (quantity, pts) in zip(axes[0], sorted(points.items()), strict=True):
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        hi = max(xs + ys) * 1.05 if xs else 1.0
        ax.plot([0, hi], [0, hi], color="#999", lw=1, ls="--", label="target = realized")
        ax.scatter(xs, ys, s=14, color="#1f6feb", alpha=0.8)
        ax.set_xlabel(f"target {quantity}")
        ax.set_ylabel(f"realized {quantity}")
        ax.set_title(f"{quantity}: {len(pts)} planted patterns")
        ax.legend(loc="upper left", fontsize=8)
    return svg(fig)


def convergence(iterations: Sequence[Mapping[str, Any]], limits: Mapping[str, float]) -> str:
    """Max deviation per feedback iteration (log scale), with each threshold."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    quantities = sorted({q for it in iterations for q in it["max_deviation"]})
    for q in quantities:
        xs = [it["iteration"] for it in iterations if q in it["max_deviation"]]
        ys = [max(it["max_deviation"][q], 1e-9) for it in iterations if q in it["max_deviation"]]
        line = ax.plot(xs, ys, marker="o", label=f"max {q} deviation")[0]
        if q in limits:
            ax.axhline(limits[q], color=line.get_color(), ls=":", lw=1, label=f"threshold ({q})")
    ax.set_yscale("log")
    ax.set_xlabel("feedback iteration")
    ax.set_ylabel("max |realized - target|")
    ax.set_xticks(range(len(iterations)))
    ax.legend(fontsize=8)
    return svg(fig)


def bars(title: str, labels: Sequence[str], values: Sequence[float], ylabel: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(3.5, 1.1 * len(labels) + 1.5), 3.2))
    ax.bar(labels, values, color="#1f6feb")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    for i, v in enumerate(values):
        ax.annotate(f"{v:.4g}", (i, v), ha="center", va="bottom", fontsize=8)
    return svg(fig)
