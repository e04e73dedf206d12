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


def summary_counts(real: Sequence[np.ndarray], synth: Sequence[np.ndarray], real_pairs: Sequence[np.ndarray],
                   synth_pairs: Sequence[np.ndarray]) -> dict[str, float]:
    """:func:`summary` from code counts: per column, and per pair ``(i < j)`` as :func:`tvd_2way` orders them."""
    def tvd(r: np.ndarray, s: np.ndarray) -> float:
        return 0.5 * float(np.abs(r / max(r.sum(), 1) - s / max(s.sum(), 1)).sum())

    one = [tvd(r, s) for r, s in zip(real, synth)]
    two = [tvd(r, s) for r, s in zip(real_pairs, synth_pairs)]
    out = {"tvd_1way_mean": float(np.mean(one)) if one else 0.0, "tvd_1way_max": max(one, default=0.0)}
    if two:
        out |= {"tvd_2way_mean": float(np.mean(two)), "tvd_2way_max": max(two)}
    return {k: round(v, 6) for k, v in out.items()}


class Tally:
    """Synthetic code counts (1-way and 2-way) accumulated chunk by chunk against fixed real counts."""

    def __init__(self, real: Sequence[np.ndarray], sizes: Sequence[int]) -> None:
        self.sizes = [int(k) for k in sizes]
        self.pairs = [(i, j) for i in range(len(real)) for j in range(i + 1, len(real))]
        self.real = [np.bincount(r, minlength=k) for r, k in zip(real, self.sizes)]
        self.real_pairs = [_kernels.pair_counts(real[i], real[j], self.sizes[j], self.sizes[i] * self.sizes[j])
                           for i, j in self.pairs]
        self.synth = [np.zeros(k, dtype=np.int64) for k in self.sizes]
        self.synth_pairs = [np.zeros(self.sizes[i] * self.sizes[j], dtype=np.int64) for i, j in self.pairs]

    def add(self, synth: Sequence[np.ndarray]) -> None:
        """Count one chunk's synthetic codes (one array per column)."""
        for acc, s, k in zip(self.synth, synth, self.sizes):
            acc += np.bincount(s, minlength=k)
        for acc, (i, j) in zip(self.synth_pairs, self.pairs):
            acc += _kernels.pair_counts(synth[i], synth[j], self.sizes[j], len(acc))

    def summary(self) -> dict[str, float]:
        return summary_counts(self.real, self.synth, self.real_pairs, self.synth_pairs)


def summary(real: Sequence[np.ndarray], synth: Sequence[np.ndarray], sizes: Sequence[int]) -> dict[str, float]:
    """Mean and max 1-way and 2-way TVD (codes must share one coding per column)."""
    one = tvd_1way(real, synth, sizes)
    two = tvd_2way(real, synth, sizes)
    out = {"tvd_1way_mean": float(np.mean(one)) if one else 0.0, "tvd_1way_max": max(one, default=0.0)}
    if two:
        out |= {"tvd_2way_mean": float(np.mean(two)), "tvd_2way_max": max(two)}
    return {k: round(v, 6) for k, v in out.items()}
