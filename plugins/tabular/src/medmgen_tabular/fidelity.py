"""Fidelity of a synthetic table to its source: total-variation distance of marginals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from medmgen_tabular import _kernels


def tvd_1way(real: Sequence[np.ndarray], synth: Sequence[np.ndarray], sizes: Sequence[int]) -> list[float]:
    """Per column: half the L1 distance between the real and synthetic code frequencies."""
    out = []
    for r, s, k in zip(real, synth, sizes):
        pr = np.bincount(r, minlength=k) / len(r)
        ps = np.bincount(s, minlength=k) / len(s)
        out.append(0.5 * float(np.abs(pr - ps).sum()))
    return out


def tvd_2way(real: Sequence[np.ndarray], synth: Sequence[np.ndarray], sizes: Sequence[int]) -> list[float]:
    """Per column pair ``(i < j)``: TVD of the joint code frequencies."""
    out = []
    d = len(real)
    for i in range(d):
        for j in range(i + 1, d):
            size = sizes[i] * sizes[j]
            pr = _kernels.pair_counts(real[i], real[j], sizes[j], size) / len(real[i])
            ps = _kernels.pair_counts(synth[i], synth[j], sizes[j], size) / len(synth[i])
            out.append(0.5 * float(np.abs(pr - ps).sum()))
    return out


def summary(real: Sequence[np.ndarray], synth: Sequence[np.ndarray], sizes: Sequence[int]) -> dict[str, float]:
    """Mean and max 1-way and 2-way TVD (codes must share one coding per column)."""
    one = tvd_1way(real, synth, sizes)
    two = tvd_2way(real, synth, sizes)
    out = {"tvd_1way_mean": float(np.mean(one)) if one else 0.0, "tvd_1way_max": max(one, default=0.0)}
    if two:
        out |= {"tvd_2way_mean": float(np.mean(two)), "tvd_2way_max": max(two)}
    return {k: round(v, 6) for k, v in out.items()}
