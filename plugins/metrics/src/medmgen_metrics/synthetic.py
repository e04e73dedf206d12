"""A block's synthetic table as the evaluators read it: in batches, never whole.

:class:`Synthetic` makes at most two passes over the rows. The first (:func:`scan`)
finds each number or datetime column's distinct values and counts (the shared codings
and KS need them; text columns are coded against the real tables' values, and
identifier columns are never read) and keeps the rows
of every seeded sample the evaluators draw (:func:`sample_plan`: the same positions
as sampling the whole table would pick). The second (:meth:`Synthetic.tally`, once the
codings exist) sums code counts, 2-way counts, moments for the association matrix, and
the count of each synthetic row that equals a real one (by row hash). Memory is a
batch plus these counts and samples: codes are bounded by the real tables' values or
bins, except the distinct values of a continuous column (16 bytes each).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from medmgen_metrics.tables import Column

Batches = Callable[[Sequence[str]], Iterator[pd.DataFrame]]
DENSE_LIMIT = 1_000_000  # joint domains larger than this are counted sparsely (only codes that occur)


def is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def as_text(s: pd.Series, missing: str) -> np.ndarray:
    return np.where(s.isna().to_numpy(), missing, s.astype(str).to_numpy()).astype(object)


def positions(rows: int, n: int, stream: int, seed: int) -> np.ndarray | None:
    """The rows a seeded sample of ``n`` keeps (sorted), or None for all of them (``rows <= n``)."""
    if rows <= n:
        return None
    return np.sort(np.random.default_rng([seed, stream]).choice(rows, size=n, replace=False))


class Counts:
    """Value -> count, merged batch by batch (values sorted)."""

    def __init__(self, dtype: Any = np.float64) -> None:
        self.values = np.zeros(0, dtype=dtype)
        self.counts = np.zeros(0, dtype=np.int64)

    def add(self, values: np.ndarray, counts: np.ndarray | None = None) -> None:
        counts = np.ones(len(values), dtype=np.int64) if counts is None else counts
        both, inverse = np.unique(np.concatenate([self.values, values]), return_inverse=True)
        self.counts = np.bincount(inverse.ravel(), weights=np.concatenate([self.counts, counts]),
                                  minlength=len(both)).astype(np.int64)
        self.values = both


class Synthetic:
    """The synthetic rows of one block: a row count, a batch source and the scan's results.

    ``batches(columns)`` yields the rows in order as frames of (at least) those columns.
    """

    def __init__(self, rows: int, batches: Batches, columns: Sequence[str]) -> None:
        self.rows = rows
        self._source = batches
        self.columns = list(columns)
        self.numbers: dict[str, Counts] = {}  # number-coded columns: distinct non-missing values and counts
        self._samples: dict[tuple[int, int], pd.DataFrame] = {}
        self._tally: Tally | None = None

    def __len__(self) -> int:
        return self.rows

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Synthetic:
        """A frame already in memory (tests, benchmarks), read as one batch."""
        return cls(len(frame), lambda cols: iter([frame[list(cols)]]), list(frame.columns))

    def select(self, columns: Sequence[str]) -> Synthetic:
        """The same rows, reading only ``columns`` (before any scan)."""
        return Synthetic(self.rows, self._source, columns)

    def batches(self) -> Iterator[pd.DataFrame]:
        return self._source(self.columns)

    def scan(self, convert: Mapping[str, Callable[[pd.Series], np.ndarray]], plan: Sequence[tuple[int, int]],
             seed: int) -> None:
        """First pass: distinct values and counts of the number-coded columns, and the rows of each planned sample.

        ``convert`` maps each number-coded column (numbers, datetimes) to its conversion
        to float64; text columns are coded against the real tables' values, so their
        synthetic values are never collected. ``plan``: the samples ``(n, stream)``.
        """
        wanted = {key: positions(self.rows, *key, seed) for key in plan}
        keep = [p for p in wanted.values() if p is not None]
        union = np.unique(np.concatenate(keep)) if keep else np.zeros(0, dtype=np.int64)
        take_all = any(p is None for p in wanted.values())
        self.numbers = {c: Counts() for c in convert}
        pieces, start = [], 0
        for frame in self.batches():
            frame = frame[self.columns]
            for c, to_float in convert.items():
                x = to_float(frame[c])
                self.numbers[c].add(*np.unique(x[~np.isnan(x)], return_counts=True))
            if take_all:
                pieces.append(frame.set_axis(np.arange(start, start + len(frame)), axis=0))
            else:
                lo, hi = np.searchsorted(union, [start, start + len(frame)])
                if hi > lo:
                    pieces.append(frame.iloc[union[lo:hi] - start].set_axis(union[lo:hi], axis=0))
            start += len(frame)
        gathered = pd.concat(pieces) if pieces else pd.DataFrame(columns=self.columns)
        self._samples = {key: gathered if p is None else gathered.loc[p] for key, p in wanted.items()}

    def sample(self, n: int, stream: int) -> pd.DataFrame:
        """The seeded sample ``(n, stream)`` the scan kept: at most ``n`` rows in their original order."""
        return self._samples[(n, stream)]

    def tally(self, make: Callable[[], Tally]) -> Tally:
        """Second pass (once): ``make()``'s counts over every batch."""
        if self._tally is None:
            tally = make()
            for frame in self.batches():
                tally.add(frame)
            self._tally = tally
        return self._tally


class Tally:
    """Counts of a table's codes, 1-way and 2-way, moments for associations, and copies of given rows.

    ``codes(frame)`` and ``scaled(frame)`` encode a batch; ``hashes(frame)`` hashes its
    rows, of which those in ``reference`` are counted (``copies``).
    """

    def __init__(self, columns: Sequence[Column], codes: Callable[[pd.DataFrame], np.ndarray],
                 hashes: Callable[[pd.DataFrame], np.ndarray], reference: np.ndarray) -> None:
        self.columns = list(columns)
        self.levels = [c.levels for c in columns]
        self._codes, self._hashes = codes, hashes
        self._reference = np.unique(reference)
        self.rows = 0
        self.ones = [np.zeros(k, dtype=np.int64) for k in self.levels]
        self.pairs: dict[tuple[int, int], Any] = {}
        for i, j in combinations(range(len(columns)), 2):
            size = self.levels[i] * self.levels[j]
            self.pairs[(i, j)] = np.zeros(size, dtype=np.int64) if size <= DENSE_LIMIT else Counts(np.int64)
        self.numeric = [i for i, c in enumerate(columns) if not c.categorical]
        self.moments = {i: (0, 0.0, 0.0) for i in self.numeric}  # n, mean, M2 (Chan et al. merge)
        self.comoments = {p: 0.0 for p in combinations(self.numeric, 2)}
        self.groups = {(i, j): (np.zeros(self.levels[i], dtype=np.int64), np.zeros(self.levels[i]))
                       for i, c in enumerate(columns) if c.categorical for j in self.numeric}
        self.copies = Counts(np.uint64)

    def add(self, frame: pd.DataFrame) -> None:
        n = len(frame)
        if not n:
            return
        codes = self._codes(frame)
        for acc, k, col in zip(self.ones, self.levels, codes.T):
            acc += np.bincount(col, minlength=k)
        for (i, j), acc in self.pairs.items():
            key = codes[:, i] * self.levels[j] + codes[:, j]
            if isinstance(acc, Counts):
                acc.add(*np.unique(key, return_counts=True))
            else:
                acc += np.bincount(key, minlength=len(acc))
        nums = {i: self.columns[i].scaled(frame[self.columns[i].name]) for i in self.numeric}
        means = {i: float(x.mean()) for i, x in nums.items()}
        total = self.rows + n
        for (i, j) in self.comoments:
            di, dj = means[i] - self.moments[i][1], means[j] - self.moments[j][1]
            own = float(((nums[i] - means[i]) * (nums[j] - means[j])).sum())
            self.comoments[(i, j)] += own + di * dj * self.rows * n / total
        for i, x in nums.items():
            m, mean, m2 = self.moments[i]
            d = means[i] - mean
            self.moments[i] = (total, mean + d * n / total, m2 + float(((x - means[i]) ** 2).sum())
                               + d * d * m * n / total)
        for (i, j), (counts, sums) in self.groups.items():
            counts += np.bincount(codes[:, i], minlength=self.levels[i])
            sums += np.bincount(codes[:, i], weights=nums[j], minlength=self.levels[i])
        self.rows = total
        h = self._hashes(frame)
        self.copies.add(*np.unique(h[np.isin(h, self._reference)], return_counts=True))

    def pair_counts(self, i: int, j: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Counts of the joint codes of columns ``i < j``; the codes they count when sparse (else None)."""
        acc = self.pairs[(i, j)]
        return (acc.counts, acc.values) if isinstance(acc, Counts) else (acc, None)

    def association(self) -> np.ndarray:
        """Pearson (numeric pairs), Cramér's V (categorical pairs), correlation ratio (mixed pairs).

        NaN for a wide categorical column (its contingency tables would be dense and huge).
        """
        from scipy.stats.contingency import association

        cols = self.columns
        m = np.eye(len(cols))
        for i, j in combinations(range(len(cols)), 2):
            a, b = cols[i], cols[j]
            if a.wide or b.wide:
                v = np.nan
            elif a.categorical and b.categorical:
                v = _cramers_v(self.pair_counts(i, j), self.levels[i], self.levels[j], association)
            elif a.categorical or b.categorical:
                cat, num = (i, j) if a.categorical else (j, i)
                counts, sums = self.groups[(cat, num)]
                _, mean, m2 = self.moments[num]
                if m2 <= 0:
                    v = 0.0
                else:
                    means = sums / np.maximum(counts, 1)
                    v = float(np.sqrt(min(float((counts * (means - mean) ** 2).sum()) / m2, 1.0)))
            else:
                mi, mj = self.moments[i][2], self.moments[j][2]
                v = 0.0 if mi <= 0 or mj <= 0 else float(np.clip(self.comoments[(i, j)] / np.sqrt(mi * mj), -1, 1))
            m[i, j] = m[j, i] = v
        return m

    def copy_count(self, among: np.ndarray) -> int:
        """Rows counted whose hash is one of ``among``."""
        return int(self.copies.counts[np.isin(self.copies.values, among)].sum())

    def copied(self, hashes: np.ndarray) -> np.ndarray:
        """For each hash, whether a counted row has it."""
        return np.isin(hashes, self.copies.values)


def _cramers_v(pair: tuple[np.ndarray, np.ndarray | None], la: int, lb: int, association: Callable) -> float:
    counts, keys = pair
    if keys is not None:  # sparse: rows and columns that occur
        a, b = np.unique(keys // lb, return_inverse=True), np.unique(keys % lb, return_inverse=True)
        table = np.zeros((len(a[0]), len(b[0])), dtype=np.int64)
        np.add.at(table, (a[1].ravel(), b[1].ravel()), counts)
    else:
        table = counts.reshape(la, lb)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(table.shape) < 2:
        return 0.0
    return float(association(table, method="cramer"))
