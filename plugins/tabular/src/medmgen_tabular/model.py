"""Fitted models over encoded columns: Gaussian copula, Chow-Liu tree, independent marginals.

Every model samples *level indices* per modelled column; :func:`decode` turns them
into Arrow columns. Sampling runs in fixed-size chunks, chunk ``i`` seeded from
``seed_sequence(DATA, i)``, so the bytes never depend on the worker count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
from attrs import evolve, frozen

from medmgen_tabular import _kernels
from medmgen_tabular.io import Column


def marginal_arrays(columns: Sequence[Column]) -> tuple[np.ndarray, np.ndarray]:
    """Flat ``(off, cum)``: column ``j``'s cumulative level probabilities are ``cum[off[j]:off[j+1]]``."""
    off = np.zeros(len(columns) + 1, dtype=np.int64)
    off[1:] = np.cumsum([len(c.counts) for c in columns])
    cum = np.concatenate([c.cum for c in columns]) if columns else np.zeros(0)
    return off, cum


@frozen(kw_only=True)
class Copula:
    """Empirical marginals joined by a Gaussian copula (``chol`` = identity: independent).

    Inside the copula each column's levels are ranked in ``perms[j]`` order (rank ->
    level index); sampling returns level indices.
    """

    chol: np.ndarray
    off: np.ndarray
    cum: np.ndarray
    perms: tuple[np.ndarray, ...]

    def sample(self, state: np.ndarray, n: int) -> np.ndarray:
        ranks = _kernels.copula_sample(state, n, self.chol, self.off, self.cum)
        for j, perm in enumerate(self.perms):
            ranks[:, j] = perm[ranks[:, j]]
        return ranks


def normal_scores(column: Column) -> np.ndarray:
    """Each row's normal score: the inverse normal CDF at the middle of its level's CDF step."""
    cum = column.cum
    before = np.concatenate([[0.0], cum[:-1]])
    mid = (before + cum) / 2.0
    from scipy.special import ndtri  # scipy loads on use, not at plugin import

    return ndtri(mid)[column.codes]


def _scores(columns: Sequence[Column]) -> np.ndarray:
    z = np.empty((len(columns[0].codes), len(columns)))
    for j, c in enumerate(columns):
        z[:, j] = normal_scores(c)
    return z


def _reference(z: np.ndarray, target: int | None) -> np.ndarray:
    """The score levels are ordered by: the target's, else the first principal component's."""
    if target is not None:
        return z[:, target]
    std = z.std(axis=0)
    zc = (z[:, std > 0] - z[:, std > 0].mean(axis=0)) / std[std > 0]
    _, _, vt = np.linalg.svd(zc, full_matrices=False)
    return zc @ vt[0]


def rank_levels(columns: Sequence[Column], target: int | None, max_levels: int) -> tuple[list[Column], list]:
    """Reorder the levels of columns with at most ``max_levels`` levels by the mean reference score.

    A category code's natural order means nothing to a Gaussian copula; ordering the
    levels by how they relate to the target (or to the main axis of variation) lets
    the copula's correlations carry that relation. Returns the re-ranked columns and,
    per column, the rank -> level permutation.
    """
    perms = [np.arange(len(c.counts)) for c in columns]
    if max_levels < 2 or len(columns) < 2:
        return list(columns), perms
    r = _reference(_scores(columns), target)
    out = []
    for j, c in enumerate(columns):
        k = len(c.counts)
        if j == target or k > max_levels:
            out.append(c)
            continue
        means = np.bincount(c.codes, weights=r, minlength=k) / np.maximum(c.counts, 1)
        perm = np.argsort(means, kind="stable")
        rank = np.empty(k, dtype=np.int32)
        rank[perm] = np.arange(k, dtype=np.int32)
        out.append(evolve(c, counts=c.counts[perm], codes=rank[c.codes]))
        perms[j] = perm
    return out, perms


def fit_copula(columns: Sequence[Column], independent: bool = False, target: int | None = None,
               reorder_levels: int = 0) -> Copula:
    d = len(columns)
    if independent or d < 2:
        off, cum = marginal_arrays(columns)
        return Copula(chol=np.eye(d), off=off, cum=cum, perms=tuple(np.arange(len(c.counts)) for c in columns))
    columns, perms = rank_levels(columns, target, reorder_levels)
    off, cum = marginal_arrays(columns)
    z = _scores(columns)
    std = z.std(axis=0)
    z -= z.mean(axis=0)
    ok = std > 0
    corr = np.eye(d)
    if ok.sum() > 1:
        sub = (z[:, ok].T @ z[:, ok]) / len(z)
        sub /= np.outer(std[ok], std[ok])
        corr[np.ix_(ok, ok)] = sub
    np.fill_diagonal(corr, 1.0)
    return Copula(chol=_cholesky(corr), off=off, cum=cum, perms=tuple(perms))


def _cholesky(corr: np.ndarray) -> np.ndarray:
    ridge = 0.0
    while True:
        try:
            return np.linalg.cholesky((corr + ridge * np.eye(len(corr))) / (1.0 + ridge))
        except np.linalg.LinAlgError:
            ridge = max(1e-10, ridge * 10)


@frozen(kw_only=True)
class Tree:
    """A Chow-Liu tree over binned columns, sampled ancestrally from ``order[0]``."""

    order: np.ndarray
    parent: np.ndarray
    parent2: np.ndarray
    bin_off: np.ndarray
    root_cum: np.ndarray
    cpt_off: np.ndarray
    cpt_cum: np.ndarray
    first_level: np.ndarray
    off: np.ndarray
    cum: np.ndarray

    def sample(self, state: np.ndarray, n: int) -> np.ndarray:
        return _kernels.tree_sample(state, n, self.order, self.parent, self.parent2, self.bin_off, self.root_cum,
                                    self.cpt_off, self.cpt_cum, self.first_level, self.off, self.cum)


def level_bins(column: Column, max_bins: int) -> np.ndarray:
    """Bin index of each level: levels as they are up to ``max_bins``, else equal-mass groups.

    A missing-value level (index 0 when the column has nulls) keeps a bin of its own.
    """
    k = len(column.counts)
    if k <= max_bins:
        return np.arange(k, dtype=np.int64)
    has_null = column.levels.null_count > 0
    start = 1 if has_null else 0
    counts = column.counts[start:].astype(np.float64)
    mid = (np.cumsum(counts) - counts / 2.0) / counts.sum()
    raw = np.minimum((mid * (max_bins - start)).astype(np.int64), max_bins - start - 1)
    _, dense = np.unique(raw, return_inverse=True)
    return np.concatenate([[0], dense + 1]) if has_null else dense


def entropy(codes: np.ndarray, size: int) -> float:
    p = np.bincount(codes, minlength=size).astype(np.float64)
    p = p[p > 0] / len(codes)
    return float(-(p * np.log(p)).sum())


def mutual_information(a: np.ndarray, b: np.ndarray, ka: int, kb: int,
                       given: np.ndarray | None = None, kg: int = 1) -> float:
    """I(a; b), or I(a; b | given): sums of entropies over joint codes."""
    g = np.zeros_like(a) if given is None else given
    ag, bg = a.astype(np.int64) * kg + g, b.astype(np.int64) * kg + g
    abg = (a.astype(np.int64) * kb + b) * kg + g
    return entropy(ag, ka * kg) + entropy(bg, kb * kg) - entropy(abg, ka * kb * kg) - entropy(g, kg)


def fit_tree(columns: Sequence[Column], max_bins: int, target: int | None = None) -> Tree:
    """Chow-Liu tree over the binned columns; with a ``target``, a tree-augmented naive Bayes.

    Without a target the tree maximises the sum of pairwise mutual information,
    rooted at column 0. With one, the tree spans the other columns by conditional
    mutual information given the target, and the target is every column's second
    parent (the root of the feature tree has the target as its only parent).
    """
    d = len(columns)
    if d == 0:  # every column is an identifier: nothing to model
        empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0)
        return Tree(order=empty_i, parent=empty_i, parent2=empty_i, bin_off=np.zeros(1, dtype=np.int64),
                    root_cum=empty_f, cpt_off=empty_i, cpt_cum=empty_f, first_level=empty_i,
                    off=np.zeros(1, dtype=np.int64), cum=empty_f)
    maps = [level_bins(c, max_bins) for c in columns]
    nbins = np.array([int(m.max()) + 1 for m in maps], dtype=np.int64)
    binned = [m[c.codes].astype(np.int64) for m, c in zip(maps, columns)]
    feats = [i for i in range(d) if i != target]
    given = None if target is None else binned[target]
    kg = 1 if target is None else int(nbins[target])
    f = len(feats)
    mi = np.zeros((f, f))
    for i in range(f):
        for j in range(i + 1, f):
            a, b = feats[i], feats[j]
            mi[i, j] = mi[j, i] = mutual_information(binned[a], binned[b], int(nbins[a]), int(nbins[b]), given, kg)
    parent = np.full(d, -1, dtype=np.int64)
    parent2 = np.full(d, -1, dtype=np.int64)
    order = []
    if f:
        # maximum spanning tree = minimum spanning tree of (C - MI); every weight stays positive
        weights = np.triu(mi.max() + 1.0 - mi, 1)
        from scipy.sparse import csgraph, csr_matrix

        mst = csgraph.minimum_spanning_tree(csr_matrix(weights))
        sub, preds = csgraph.breadth_first_order(mst, 0, directed=False, return_predecessors=True)
        order = [feats[i] for i in sub]
        for i in sub[1:]:
            parent[feats[i]] = feats[preds[i]]
    if target is not None:
        order = [target, *order]
        for c in feats:
            if parent[c] < 0:
                parent[c] = target
            else:
                parent2[c] = target
    bin_off = np.zeros(d + 1, dtype=np.int64)
    bin_off[1:] = np.cumsum(nbins)
    first_level = np.concatenate([np.searchsorted(m, np.arange(nb + 1)) for m, nb in zip(maps, nbins)])
    cpt_off = np.zeros(d + 1, dtype=np.int64)
    blocks = []
    for c in range(d):
        p, q = parent[c], parent2[c]
        if p < 0:
            blocks.append(np.zeros(0))
        else:
            rows = binned[p] + (0 if q < 0 else binned[q] * nbins[p])
            nrows = int(nbins[p] * (1 if q < 0 else nbins[q]))
            counts = _kernels.pair_counts(rows, binned[c], int(nbins[c]), nrows * int(nbins[c]))
            blocks.append(_row_cum(counts.reshape(nrows, nbins[c])).ravel())
        cpt_off[c + 1] = cpt_off[c] + len(blocks[-1])
    root = order[0]
    root_counts = np.bincount(binned[root], minlength=nbins[root]).astype(np.float64)
    root_cum = _row_cum(root_counts[None, :])[0]
    off, cum = marginal_arrays(columns)
    return Tree(order=np.asarray(order, dtype=np.int64), parent=parent, parent2=parent2, bin_off=bin_off,
                root_cum=root_cum, cpt_off=cpt_off[:-1].copy(), cpt_cum=np.concatenate(blocks),
                first_level=first_level.astype(np.int64), off=off, cum=cum)


def with_level_weights(fitted: Copula | Tree, j: int, weights: np.ndarray) -> Copula | Tree:
    """``fitted`` with column ``j`` drawn with level probabilities ``weights`` (its relations kept).

    In a copula only column ``j``'s marginal changes, so the same normal draws give
    the same rows except where a class boundary moved; in a tree ``j`` must be the
    root (the target of a tree-augmented network) with one level per bin.
    """
    weights = np.asarray(weights, dtype=np.float64)
    if isinstance(fitted, Copula):  # the copula's cum runs over ranks; perms[j] maps rank -> level
        cum = np.cumsum(weights[fitted.perms[j]]) / weights.sum()
        cum[-1] = 1.0
        new = fitted.cum.copy()
        new[fitted.off[j]:fitted.off[j + 1]] = cum
        return evolve(fitted, cum=new)
    cum = np.cumsum(weights) / weights.sum()
    cum[-1] = 1.0
    if int(fitted.order[0]) != j or len(fitted.root_cum) != len(cum):
        raise ValueError("level weights need the tree's root column with one level per bin")
    return evolve(fitted, root_cum=cum)


def _row_cum(counts: np.ndarray) -> np.ndarray:
    """Row-wise cumulative probabilities; an all-zero row (never sampled) becomes uniform."""
    counts = counts.astype(np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    empty = totals[:, 0] == 0
    counts[empty] = 1.0
    totals[empty] = counts.shape[1]
    cum = np.cumsum(counts, axis=1) / totals
    cum[:, -1] = 1.0
    return cum


def sample_chunks(sample: Callable[[np.ndarray, int], np.ndarray], records: int, chunk_rows: int,
                  state_for: Callable[[int], np.ndarray], d: int, advance: Callable[[int], None],
                  workers: int = 1) -> np.ndarray:
    """Level indices for ``records`` rows; chunk ``i`` is sampled with ``state_for(i)``.

    Chunks run on ``workers`` threads (the kernels release the GIL); each writes its
    own slice, so the result does not depend on ``workers``.
    """
    out = np.empty((records, d), dtype=np.int32)
    starts = list(range(0, records, chunk_rows))

    def one(i: int) -> int:
        n = min(chunk_rows, records - starts[i])
        out[starts[i]:starts[i] + n] = sample(state_for(i), n)
        return n

    if workers > 1 and len(starts) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for n in pool.map(one, range(len(starts))):
                advance(n)
    else:
        for i in range(len(starts)):
            advance(one(i))
    return out


def decode(columns: Sequence[Column], codes: np.ndarray) -> list[pa.Array]:
    """Arrow arrays of the sampled values: each column's levels taken at its level indices."""
    return [c.levels.take(pa.array(np.ascontiguousarray(codes[:, j]))) for j, c in enumerate(columns)]
