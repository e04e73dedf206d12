"""Nearest-neighbour search (scikit-learn brute-force index) with exact distances."""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import NearestNeighbors


def nearest(index_rows: np.ndarray, queries: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Distances and positions of the ``k`` nearest index rows of every query row.

    The search uses scikit-learn's ``NearestNeighbors`` (brute force, fastest for the
    one-hot encodings here); the returned distances are then recomputed row by row, so
    an exact copy is at distance exactly 0 (the search's dot-product form is not exact).
    """
    k = min(k, len(index_rows))
    if k == 0 or not len(queries):
        return np.zeros((len(queries), 0)), np.zeros((len(queries), 0), dtype=np.int64)
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute", n_jobs=1).fit(index_rows)
    _, idx = nn.kneighbors(queries)
    dist = np.sqrt(((queries[:, None, :] - index_rows[idx]) ** 2).sum(axis=2))
    order = np.argsort(dist, axis=1, kind="stable")
    return np.take_along_axis(dist, order, axis=1), np.take_along_axis(idx, order, axis=1)
