"""Deterministic matplotlib figures as inline SVG for ``report.html`` and ``compare``."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any


def figure(nrows: int = 1, ncols: int = 1, **kw: Any) -> tuple[Any, Any]:
    """A matplotlib ``Figure`` and its axes (a 2-D array), without pyplot's global state,
    so reports can be drawn on a background thread while data is written."""
    import matplotlib
    from matplotlib.figure import Figure

    matplotlib.rcParams["svg.hashsalt"] = "medmgen"
    matplotlib.rcParams["svg.fonttype"] = "none"
    gridspec_kw = kw.pop("gridspec_kw", None)
    fig = Figure(**kw)
    return fig, fig.subplots(nrows, ncols, squeeze=False, gridspec_kw=gridspec_kw)


def svg(fig: Any, *, tight: bool = True) -> str:
    """The figure as an inline ``<svg>`` element (no date or creator: same figure, same bytes).

    ``tight`` crops to the drawn content (an extra layout pass); figures laid out with
    fixed margins pass ``False``.
    """
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "medmgen"
    matplotlib.rcParams["svg.fonttype"] = "none"
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight" if tight else None)
    if getattr(fig.canvas, "manager", None) is not None:  # made by pyplot: release it there
        import matplotlib.pyplot as plt

        plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


MAX_POINTS = 2000


def _thin(pts: Sequence[tuple[float, float]]) -> Sequence[tuple[float, float]]:
    """At most MAX_POINTS: the largest deviations, then an even spread of the rest."""
    if len(pts) <= MAX_POINTS:
        return pts
    order = sorted(range(len(pts)), key=lambda i: -abs(pts[i][1] - pts[i][0]))
    worst = order[: MAX_POINTS // 4]
    rest = sorted(order[MAX_POINTS // 4:])
    step = len(rest) / (MAX_POINTS - len(worst))
    keep = sorted(worst + [rest[int(k * step)] for k in range(MAX_POINTS - len(worst))])
    return [pts[i] for i in keep]


def target_vs_realized(points: Mapping[str, Sequence[tuple[float, float]]],
                       tolerances: Mapping[str, float] | None = None) -> str:
    """Per quantity: realized against target (top) and the deviation with its tolerance band (bottom)."""
    tolerances = tolerances or {}
    fig, axes = figure(2, len(points), figsize=(4.4 * len(points), 6.6), gridspec_kw={"height_ratios": [3, 2]})
    for col, (quantity, all_pts) in enumerate(sorted(points.items())):
        pts = _thin(all_pts)
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        top, bottom = axes[0][col], axes[1][col]
        hi = max(xs + ys) * 1.05 if xs else 1.0
        top.plot([0, hi], [0, hi], color="#999", lw=1, ls="--", label="target = realized")
        top.scatter(xs, ys, s=14, color="#1f6feb", alpha=0.8)
        top.set_ylabel(f"realized {quantity}")
        shown = "" if len(pts) == len(all_pts) else f" (showing {len(pts):,})"
        top.set_title(f"{quantity}: {len(all_pts):,} planted patterns{shown}")
        top.legend(loc="upper left", fontsize=8)
        bottom.axhline(0, color="#999", lw=1)
        tol = tolerances.get(quantity)
        if tol is not None:
            bottom.axhspan(-tol, tol, color="#1a7f37", alpha=0.12, label=f"tolerance ±{tol:g}")
            bottom.legend(loc="upper left", fontsize=8)
        bottom.scatter(xs, [y - x for x, y in pts], s=14, color="#cf222e", alpha=0.8)
        bottom.set_xlabel(f"target {quantity}")
        bottom.set_ylabel("realized − target")
    # Fixed margins: the text layout passes of tight_layout and a tight bounding box
    # doubled the cost of the report's largest figure.
    fig.subplots_adjust(left=0.22 / len(points), right=0.97, top=0.95, bottom=0.08, hspace=0.25, wspace=0.3)
    return svg(fig, tight=False)


def convergence(iterations: Sequence[Mapping[str, Any]], limits: Mapping[str, float]) -> str:
    """Max deviation per feedback iteration (log scale), with each threshold."""
    fig, axes = figure(figsize=(5.5, 3.6))
    ax = axes[0][0]
    quantities = sorted({q for it in iterations for q in it["max_deviation"]})
    for q in quantities:
        xs = [it["iteration"] + 1 for it in iterations if q in it["max_deviation"]]
        ys = [max(it["max_deviation"][q], 1e-9) for it in iterations if q in it["max_deviation"]]
        line = ax.plot(xs, ys, marker="o", label=f"max {q} deviation")[0]
        if q in limits and 0 < limits[q] <= 1e6 * max(ys):  # a far-off limit would only flatten the curve
            ax.axhline(limits[q], color=line.get_color(), ls=":", lw=1, label=f"threshold ({q})")
    ax.set_yscale("log")
    ax.set_xlabel("generation pass")
    ax.set_ylabel("max |realized - target|")
    ax.set_xticks(range(1, len(iterations) + 1))
    if quantities:
        ax.legend(fontsize=8)
    return svg(fig)


def bars(title: str, labels: Sequence[str], values: Sequence[float], ylabel: str) -> str:
    fig, axes = figure(figsize=(max(3.5, 1.1 * len(labels) + 1.5), 3.2))
    ax = axes[0][0]
    ax.bar(labels, values, color="#1f6feb")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    for i, v in enumerate(values):
        ax.annotate(f"{v:.4g}", (i, v), ha="center", va="bottom", fontsize=8)
    return svg(fig)
