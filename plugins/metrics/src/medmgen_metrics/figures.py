"""Report figures of the evaluators, drawn with matplotlib into deterministic inline SVG."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from medmgen import plots
from medmgen_metrics.tables import Pair

REAL, SYNTH, OTHER = "#8c959f", "#1f6feb", "#d1242f"
MAX_PANELS = 12
MAX_BARS = 20


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def marginals(pair: Pair) -> str:
    """A grid of real-vs-synthetic marginals: bars of category shares, or overlaid histograms."""
    plt = _pyplot()
    synth = pair.tally()  # already counted by the fidelity metrics
    cols = pair.columns[:MAX_PANELS]
    ncol = min(4, len(cols))
    nrow = -(-len(cols) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.3 * ncol, 2.6 * nrow), squeeze=False)
    for ax, (i, col) in zip(axes.flat, enumerate(cols)):
        if col.categorical:
            rc = col.codes(pair.real[col.name])
            fr = np.bincount(rc, minlength=col.levels) / len(rc)
            fs = synth.ones[i] / max(synth.rows, 1)
            keep = np.argsort(-fr, kind="stable")[:MAX_BARS]
            keep = keep[(fr[keep] > 0) | (fs[keep] > 0)]
            labels = [_short(col.label(int(k))) for k in keep]
            x = np.arange(len(keep))
            ax.bar(x - 0.2, fr[keep], width=0.4, color=REAL, label="real")
            ax.bar(x + 0.2, fs[keep], width=0.4, color=SYNTH, label="synthetic")
            ax.set_xticks(x, labels, rotation=90, fontsize=6)
            ax.set_ylabel("share", fontsize=7)
        else:
            r = col.comparable(pair.real[col.name])
            r = r[~np.isnan(r)]
            counted = pair.synthetic.numbers[col.name]
            s, w = counted.values, counted.counts
            lo, hi = min(col.low, s.min(initial=col.low)), max(col.high, s.max(initial=col.high))
            edges = np.linspace(lo, hi, 31) if hi > lo else 10
            ax.hist(r, bins=edges, density=True, color=REAL, alpha=0.6, label="real")
            ax.hist(s, bins=edges, weights=w, density=True, histtype="step", color=SYNTH, lw=1.4, label="synthetic")
            ax.tick_params(labelsize=6)
        ax.set_title(col.name, fontsize=8)
    for ax in list(axes.flat)[len(cols):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6)
    if len(pair.columns) > MAX_PANELS:
        fig.suptitle(f"first {MAX_PANELS} of {len(pair.columns)} columns", fontsize=8)
    fig.subplots_adjust(hspace=0.9, wspace=0.35)
    return plots.svg(fig)


def _short(text: str) -> str:
    return text if len(text) <= 12 else text[:11] + "…"


def heatmaps(names: Sequence[str], real: np.ndarray, synth: np.ndarray) -> str:
    """Association matrices of the real and synthetic tables and their absolute difference."""
    plt = _pyplot()
    size = min(3.6, max(2.6, 0.2 * len(names) + 1.2))
    fig, axes = plt.subplots(1, 3, figsize=(3 * size + 1.2, size))
    for ax, m, title, cmap, lo in ((axes[0], real, "real", "RdBu_r", -1), (axes[1], synth, "synthetic", "RdBu_r", -1),
                                   (axes[2], np.abs(real - synth), "|real - synthetic|", "Reds", 0)):
        im = ax.imshow(m, vmin=lo, vmax=1, cmap=cmap)
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=6)
        ax.set_yticks(range(len(names)), names, fontsize=6)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return plots.svg(fig)


def grouped_bars(title: str, groups: Mapping[str, Mapping[str, float]], ylabel: str) -> str:
    """Bars of several series (e.g. TSTR, TRTR, combined) for several metrics side by side."""
    plt = _pyplot()
    metrics = list(next(iter(groups.values())))
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * len(metrics) + 1.5), 3.2))
    width = 0.8 / len(groups)
    colors = (SYNTH, REAL, OTHER, "#2da44e")
    for k, (series, values) in enumerate(groups.items()):
        x = np.arange(len(metrics)) + (k - (len(groups) - 1) / 2) * width
        ys = [values.get(m, 0.0) for m in metrics]
        ax.bar(x, ys, width=width, label=series, color=colors[k % len(colors)])
        for xi, y in zip(x, ys):
            ax.annotate(f"{y:.3f}", (xi, y), ha="center", va="bottom", fontsize=6)
    values = [v for series in groups.values() for v in series.values()]
    ax.set_ylim(min(0.0, *values) * 1.1, max(1.0, *values) * 1.25)
    ax.set_xticks(range(len(metrics)), metrics)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper center", ncol=len(groups))
    return plots.svg(fig)


def dcr_histogram(synthetic: np.ndarray, baseline: np.ndarray) -> str:
    """Distances to the closest real record: synthetic rows against real holdout rows."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    hi = float(max(synthetic.max(initial=0), baseline.max(initial=0))) or 1.0
    edges = np.linspace(0, hi, 41)
    ax.hist(baseline, bins=edges, density=True, color=REAL, alpha=0.6, label="holdout → train (baseline)")
    ax.hist(synthetic, bins=edges, density=True, histtype="step", color=SYNTH, lw=1.5, label="synthetic → train")
    ax.set_xlabel("distance to closest real record")
    ax.set_ylabel("density")
    ax.legend(fontsize=7)
    return plots.svg(fig)


def roc(fpr: np.ndarray, tpr: np.ndarray, auc: float) -> str:
    """ROC curve of the membership-inference attack, with the chance diagonal."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.0, 3.8))
    ax.plot([0, 1], [0, 1], color="#999", ls="--", lw=1, label="chance")
    ax.plot(fpr, tpr, color=OTHER, lw=1.6, label=f"attack (AUC {auc:.3f})")
    ax.set_xlabel("false positive rate (holdout called member)")
    ax.set_ylabel("true positive rate (member found)")
    ax.legend(fontsize=7, loc="lower right")
    return plots.svg(fig)
