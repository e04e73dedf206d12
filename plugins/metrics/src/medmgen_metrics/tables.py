"""Real and synthetic tables side by side: reading, column kinds, shared codings, samples.

Every evaluator of this plugin works on a :class:`Pair`: the synthetic table of one
tabular block, the real table it is compared with (``--against`` or the block's
``source``), a real holdout the generator should not have seen, and one
:class:`Column` coding per shared column, built from all three tables so that codes
mean the same value everywhere.
"""

from __future__ import annotations

import functools
import re
import warnings
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from attrs import frozen

from medmgen.errors import InputError
from medmgen.interfaces import Evaluation
from medmgen_metrics.sources import SUFFIXES, real_path
from medmgen_metrics.spec import EvaluationSection, settings
from medmgen_metrics.synthetic import Synthetic, Tally, as_text, is_numeric

MISSING = "<NA>"


# ------------------------------------------------------------------ reading
def read_table(path: Path) -> pd.DataFrame:
    """A real table from CSV (gzip, bzip2 or zstd allowed) or Parquet; bad files raise :class:`InputError`."""
    path = Path(path)
    stat = path.stat() if path.exists() else None
    if stat is None:
        raise InputError.one(str(path), "", "file not found")
    return _read_cached(path.resolve(), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _read_cached(path: Path, mtime_ns: int, size: int) -> pd.DataFrame:
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            frame = pd.read_parquet(path)
        elif name.endswith((".csv", ".csv.gz")):
            frame = pd.read_csv(path, engine="c", low_memory=False)
        elif name.endswith((".csv.bz2", ".csv.zst")):  # pyarrow decompresses, pandas parses as above
            with pa.input_stream(str(path), compression="detect") as stream:
                frame = pd.read_csv(stream, engine="c", low_memory=False)
        else:
            raise InputError.one(str(path), "", "unknown table format", "one of " + ", ".join(SUFFIXES), path.name)
    except InputError:
        raise
    except pd.errors.ParserError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise InputError.one(str(path), f"line {line.group(1)}" if line else "", f"not valid CSV: {exc}") from None
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputError.one(str(path), "", f"cannot read: {exc}") from None
    if frame.empty or not len(frame.columns):
        raise InputError.one(str(path), "", "the table has no rows", "at least one row", len(frame))
    return frame


# ------------------------------------------------------------------ columns
ID_MIN_ROWS = 50  # as the tabular plugin: all-distinct text or integer values in at least this many rows: an id
EPOCH = pd.Timestamp(0, tz="UTC")


def numbers(s: pd.Series) -> np.ndarray:
    """A column as float64 numbers (anything else missing: NaN)."""
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def seconds(s: pd.Series) -> np.ndarray:
    """A column of datetimes (or datetime text) as float64 seconds since 1970 UTC (anything else: NaN)."""
    with warnings.catch_warnings():  # "could not infer format": the values are then parsed one by one
        warnings.simplefilter("ignore")
        t = pd.to_datetime(s, errors="coerce", utc=True)
    return ((t - EPOCH) / pd.Timedelta(1, "s")).to_numpy(dtype=np.float64, na_value=np.nan)


CONVERT = {"number": numbers, "datetime": seconds}


def kind_of(s: pd.Series) -> str:
    """``number``, ``datetime`` (also numbers or datetimes stored as text) or ``text`` (booleans too)."""
    if pd.api.types.is_bool_dtype(s):
        return "text"
    if is_numeric(s):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime"
    x = s.dropna()
    inferred = pd.api.types.infer_dtype(x.iloc[:1000], skipna=True) if len(x) else "empty"
    if inferred in ("datetime", "datetime64", "date"):
        return "datetime"
    if inferred != "string":
        return "number" if inferred in ("integer", "floating", "mixed-integer-float", "decimal") else "text"
    for kind, convert in CONVERT.items():  # a sample first: parsing every value of a text column costs
        if not np.isnan(convert(x.iloc[:100])).any() and not np.isnan(convert(x)).any():
            return kind
    return "text"


def identifiers(real: pd.DataFrame, kinds: Mapping[str, str], max_levels: int | None) -> list[str]:
    """Columns the tabular plugin treats as identifiers, by its rule (``medmgen_tabular.io.encode``).

    A text or integer column without missing values whose values are all distinct
    (at least 50 rows), or a text column with more than ``max_levels`` distinct values
    (the block's ``max_levels``). A synthetic identifier is a fresh value, never a
    sample of the real ones, so the evaluators leave these columns out.
    """
    out = []
    for name in real.columns:
        s = real[name]
        text = kinds[name] == "text" and not pd.api.types.is_bool_dtype(s)
        if not (text or (pd.api.types.is_integer_dtype(s) and not pd.api.types.is_bool_dtype(s))):
            continue
        distinct = s.nunique(dropna=True)
        if (distinct == len(s) >= ID_MIN_ROWS and not s.isna().any()) or \
                (text and max_levels is not None and distinct > max_levels):
            out.append(name)
    return out


@frozen(kw_only=True, eq=False)
class Column:
    """One shared column: its kind and a coding that means the same in every table.

    ``kind`` is ``number``, ``datetime`` (compared as seconds since 1970, like numbers)
    or ``text``. A text column's ``values`` are the sorted distinct values of the real
    and holdout tables (missing as ``<NA>``); a synthetic value neither has gets the
    last code. A number or datetime column's ``values`` are the sorted distinct
    non-missing values of all tables; with more than ``levels`` of them (and not
    categorical) it has no ``values`` but ``edges``: the inner quantile-bin edges of
    the real column, with one more code below and one above the real range; the last
    code is "missing". ``wide``: a categorical column with more than
    ``onehot_levels`` codes, left out of the distance-based metrics.
    """

    name: str
    kind: str
    categorical: bool
    values: np.ndarray
    edges: np.ndarray | None
    low: float = 0.0
    high: float = 0.0
    median: float = 0.0
    wide: bool = False

    @property
    def text(self) -> bool:
        return self.kind == "text"

    @property
    def levels(self) -> int:
        return (len(self.edges) + 4) if self.edges is not None else len(self.values) + 1

    def label(self, code: int) -> str:
        """A short text for a code (bins are named by their lower edge)."""
        if code == self.levels - 1:
            return "other" if self.text else "missing"
        if self.edges is not None:
            return "below" if code == 0 else "above" if code == self.levels - 2 else \
                f">={self._show(([self.low, *self.edges])[code - 1])}"
        return self._show(self.values[code])

    def _show(self, v: object) -> str:
        if self.kind == "datetime":
            return str(pd.Timestamp(float(v), unit="s"))  # type: ignore[arg-type]
        return f"{v:g}" if isinstance(v, float) else str(v)

    def comparable(self, s: pd.Series) -> np.ndarray:
        """Values as float64 (numbers, seconds of datetimes; NaN missing) or as text (``<NA>`` missing)."""
        if self.text:
            return as_text(s, MISSING)
        return CONVERT[self.kind](s)

    def codes(self, s: pd.Series) -> np.ndarray:
        """Integer codes in ``0..levels-1``, comparable across tables."""
        x = self.comparable(s)
        if self.text:  # a value the real tables never had: the last code
            at = np.searchsorted(self.values, x).astype(np.int64)
            known = self.values[np.minimum(at, len(self.values) - 1)] == x if len(self.values) else at < 0
            return np.where(known, at, len(self.values))
        missing = np.isnan(x)
        if self.edges is not None:  # below the real range, the bins, above it, missing
            out = np.searchsorted(self.edges, x, side="right").astype(np.int64) + 1
            out[x < self.low] = 0
            out[x > self.high] = self.levels - 2
        else:
            out = np.searchsorted(self.values, x).astype(np.int64)
        out[missing] = self.levels - 1
        return out

    def scaled(self, s: pd.Series) -> np.ndarray:
        """A numeric column mapped by the real range onto [0, 1] (missing: the real median)."""
        x = self.comparable(s)
        x = np.where(np.isnan(x), self.median, x)
        span = self.high - self.low
        return (x - self.low) / span if span > 0 else np.zeros_like(x)


def _column(name: str, kind: str, real: pd.Series, holdout: pd.Series, synth: Synthetic,
            cfg: EvaluationSection) -> Column:
    if kind == "text":
        values = np.unique(np.concatenate([as_text(s, MISSING) for s in (real, holdout)]))
        return Column(name=name, kind=kind, categorical=True, values=values, edges=None,
                      wide=len(values) + 1 > cfg.onehot_levels)
    r, h = CONVERT[kind](real), CONVERT[kind](holdout)
    rv = np.unique(r[~np.isnan(r)])
    integer = kind == "number" and (pd.api.types.is_integer_dtype(real) or
                                    (len(rv) > 0 and bool(np.all(rv == np.round(rv)))))
    categorical = name in cfg.categorical or (integer and len(rv) <= cfg.categorical_levels)
    allv = np.unique(np.concatenate([rv, h[~np.isnan(h)], synth.numbers[name].values]))
    edges = None
    if len(allv) > cfg.levels and not categorical:
        edges = np.unique(np.quantile(rv, np.linspace(0, 1, cfg.bins + 1)[1:-1])) if len(rv) else np.zeros(0)
        allv = np.zeros(0)
    low, high = (float(rv[0]), float(rv[-1])) if len(rv) else (0.0, 0.0)
    median = float(np.median(r[~np.isnan(r)])) if len(rv) else 0.0
    return Column(name=name, kind=kind, categorical=categorical, values=allv, edges=edges, low=low, high=high,
                  median=median, wide=categorical and len(allv) + 1 > cfg.onehot_levels)


# --------------------------------------------------------------------- pair
@frozen(kw_only=True, eq=False)
class Pair:
    """One tabular block's synthetic table next to its real table, split and coded.

    ``synthetic`` is read in batches (:class:`~medmgen_metrics.synthetic.Synthetic`):
    whole-table statistics come from :meth:`tally`, rows from its seeded samples.
    """

    block: str
    real_file: str
    synthetic: Synthetic
    real: pd.DataFrame
    train: pd.DataFrame
    holdout: pd.DataFrame
    holdout_source: str
    columns: list[Column]
    identifiers: list[str]
    target: str
    cfg: EvaluationSection

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def distance_names(self) -> list[str]:
        """The columns of the distance-based metrics: all but the wide categorical ones."""
        return [c.name for c in self.columns if not c.wide]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def rng(self, *stream: int) -> np.random.Generator:
        """A generator for one use, seeded by ``[evaluation] seed`` and a fixed stream number."""
        return np.random.default_rng([self.cfg.seed, *stream])

    def codes(self, frame: pd.DataFrame) -> np.ndarray:
        """An ``(n, columns)`` int64 matrix of codes."""
        if not self.columns:
            return np.zeros((len(frame), 0), dtype=np.int64)
        return np.column_stack([c.codes(frame[c.name]) for c in self.columns])

    def distance_matrix(self, frame: pd.DataFrame, names: Sequence[str] | None = None) -> np.ndarray:
        """Rows for Euclidean nearest-neighbour search (on ``names``, default :attr:`distance_names`).

        Numeric columns scaled to [0, 1] by the real range; categorical columns one-hot
        divided by sqrt(2), so a differing category adds exactly 1 to the squared distance.
        Wide categorical columns are never one-hot encoded (left out even if named).
        """
        parts = []
        for c in self.columns:
            if c.wide or (names is not None and c.name not in names):
                continue
            if c.categorical:
                onehot = np.zeros((len(frame), c.levels), dtype=np.float64)
                onehot[np.arange(len(frame)), c.codes(frame[c.name])] = np.sqrt(0.5)
                parts.append(onehot)
            else:
                parts.append(c.scaled(frame[c.name])[:, None])
        return np.hstack(parts) if parts else np.zeros((len(frame), 0))

    def row_hashes(self, frame: pd.DataFrame) -> np.ndarray:
        """One 64-bit hash per row of the comparable values of every shared column."""
        values = pd.DataFrame({c.name: c.comparable(frame[c.name]) for c in self.columns})
        return pd.util.hash_pandas_object(values, index=False).to_numpy()

    def sample(self, n: int, stream: int) -> pd.DataFrame:
        """The synthetic rows of the seeded sample ``(n, stream)`` (one of :func:`sample_plan`)."""
        return self.synthetic.sample(n, stream)

    def tally(self, frame: pd.DataFrame | None = None) -> Tally:
        """Code counts, moments and copies of real rows: of ``frame``, else of every synthetic row (one pass)."""
        reference = np.concatenate([self.row_hashes(self.real), self.row_hashes(self.holdout)])

        def make() -> Tally:
            return Tally(self.columns, self.codes, self.row_hashes, reference)

        if frame is None:
            return self.synthetic.tally(make)
        tally = make()
        tally.add(frame)
        return tally

    def model_matrix(self, frame: pd.DataFrame, exclude: str = "") -> tuple[np.ndarray, np.ndarray]:
        """Features for tree models: categorical codes and raw numbers, plus the categorical mask."""
        cols = [c for c in self.columns if c.name != exclude]
        x = np.column_stack([c.codes(frame[c.name]).astype(np.float64) if c.categorical
                             else c.comparable(frame[c.name]) for c in cols]) if cols else np.zeros((len(frame), 0))
        mask = np.array([c.categorical and c.levels <= 255 for c in cols], dtype=bool)
        return x, mask


def sample_plan(cfg: EvaluationSection) -> list[tuple[int, int]]:
    """Every seeded sample ``(rows, stream)`` the evaluators draw from a synthetic table."""
    return [(cfg.mmd_rows, 2), (cfg.max_rows, 3), (cfg.max_rows, 4), (cfg.max_rows, 6), (5 * cfg.max_rows, 12)]


def sample(frame: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """At most ``n`` rows, drawn without replacement, kept in their original order."""
    if len(frame) <= n:
        return frame
    return frame.iloc[np.sort(rng.choice(len(frame), size=n, replace=False))]


def prepare(evaluation: Evaluation, block: str) -> Pair:
    """The :class:`Pair` of one block (see :func:`~medmgen_metrics.sources.tabular_blocks` for which qualify)."""
    cfg = settings(evaluation.spec)
    spec_block = evaluation.spec.blocks[block]
    path = real_path(evaluation, block)
    assert path is not None
    if not path.exists():
        where = "--against" if evaluation.against is not None else f"blocks.{block}.source"
        raise InputError.one(str(path), "", f"the real table to compare block {block!r} with is not found ({where})")
    real = read_table(path)
    synthetic = evaluation.tables[block]
    names = synthetic.schema().names
    shared = [c for c in names if c in real.columns]
    max_levels = getattr(spec_block, "max_levels", None)
    if not shared:
        raise InputError.one(str(path), "", f"no column in common with block {block!r}",
                             ", ".join(map(str, names[:8])), ", ".join(map(str, real.columns[:8])))
    holdout = None
    source = ""
    if cfg.holdout:
        hpath = Path(cfg.holdout).expanduser()
        hpath = hpath if hpath.is_absolute() else Path(evaluation.spec.directory) / hpath
        holdout = read_table(hpath)
        missing = [c for c in shared if c not in holdout.columns]
        if missing:
            raise InputError.one(str(hpath), "", "holdout lacks columns of the real table", "every shared column",
                                 missing[:8])
        source = str(hpath)
    target = getattr(spec_block, "target", "")
    key = (block, str(path), source, repr(cfg), target, repr(max_levels))
    known = _prepared(synthetic)
    if key not in known:
        tables = weakref.ref(synthetic)  # the cache must not keep the block alive
        stream = Synthetic(synthetic.rows(""), lambda cols: (b.to_pandas() for b in tables().batches("", cols)),
                           shared)
        known[key] = make_pair(real[shared], stream, holdout[shared] if holdout is not None else None, cfg,
                               target=target if isinstance(target, str) else "", block=block, real_file=str(path),
                               holdout_source=source, max_levels=max_levels if isinstance(max_levels, int) else None)
    return known[key]


# Pairs already prepared, per block's tables (the fidelity, utility and privacy evaluators share one scan),
# by id while those tables live (a Mapping is not hashable).
_PAIRS: dict[int, tuple[weakref.ref, dict[tuple[str, ...], Pair]]] = {}


def _prepared(tables: Any) -> dict[tuple[str, ...], Pair]:
    entry = _PAIRS.get(id(tables))
    if entry is None or entry[0]() is not tables:
        entry = _PAIRS[id(tables)] = (weakref.ref(tables), {})
        weakref.finalize(tables, _PAIRS.pop, id(tables), None)
    return entry[1]


def make_pair(real: pd.DataFrame, synthetic: pd.DataFrame | Synthetic, holdout: pd.DataFrame | None,
              cfg: EvaluationSection, *, target: str = "", block: str = "", real_file: str = "",
              holdout_source: str = "", max_levels: int | None = None) -> Pair:
    """A :class:`Pair` from frames with the same columns; no holdout: a random share of ``real`` is held out.

    ``synthetic`` may be a :class:`~medmgen_metrics.synthetic.Synthetic` (rows read in batches).
    Identifier columns (:func:`identifiers`, with the block's ``max_levels``) are left
    out: the pair never reads them from the synthetic table.
    """
    kinds = {c: kind_of(real[c]) for c in real.columns}
    ids = identifiers(real, kinds, max_levels)
    kept = [c for c in real.columns if c not in ids]
    real = real[kept]
    if holdout is not None:
        holdout = holdout[kept]
    if holdout is None:
        order = np.random.default_rng([cfg.seed, 1]).permutation(len(real))
        n_hold = max(1, round(cfg.holdout_fraction * len(real))) if len(real) > 1 else 0
        train, holdout = real.iloc[np.sort(order[n_hold:])], real.iloc[np.sort(order[:n_hold])]
        holdout_source = f"random {cfg.holdout_fraction:g} of the real table (seed {cfg.seed})"
    else:
        train = real
    synthetic = (Synthetic.from_frame(synthetic) if isinstance(synthetic, pd.DataFrame) else synthetic).select(kept)
    synthetic.scan({c: CONVERT[kinds[c]] for c in kept if kinds[c] != "text"}, sample_plan(cfg), cfg.seed)
    columns = [_column(c, kinds[c], real[c], holdout[c], synthetic, cfg) for c in kept]
    return Pair(block=block, real_file=real_file, synthetic=synthetic, real=real, train=train, holdout=holdout,
                holdout_source=holdout_source, columns=columns, identifiers=ids,
                target=target if target in real.columns else "", cfg=cfg)


def worst(per_block: Mapping[str, Mapping[str, Any]], higher_is_worse: Mapping[str, bool]) -> dict[str, float]:
    """Across blocks, the worst value of each headline metric (the one thresholds judge)."""
    out: dict[str, float] = {}
    for key, up in higher_is_worse.items():
        vals = [m[key] for m in per_block.values() if isinstance(m.get(key), int | float)]
        if vals:
            out[key] = max(vals) if up else min(vals)
    return out
