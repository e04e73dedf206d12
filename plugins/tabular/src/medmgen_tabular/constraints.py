"""Checking constraints on an Arrow table and repairing the rows that break them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from medmgen.errors import Problem
from medmgen_tabular import custom
from medmgen_tabular.expression import parse_expression
from medmgen_tabular.spec import Constraint

MAX_ROUNDS = 20
COUNT = "\x00rows"  # the count column of combination_table (no source column has this name)
# Constraints whose check and repair of a row look at that row alone (and the source table): a block with only
# these can be repaired chunk by chunk.
ROW_LOCAL = frozenset({"range", "inequality", "formula", "not_null", "allowed_values", "fixed_combinations"})


class Unsatisfiable(Exception):
    """No row or value can satisfy a constraint (``index``, when one is to blame); the repairer reports it with
    its key path."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.where = "" if index is None else f"[{index}]"


def _numbers(table: pa.Table, name: str) -> np.ndarray:
    col = table.column(name)
    t = col.type
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        col = col.cast(pa.int64())
    return col.to_numpy(zero_copy_only=False).astype(np.float64)


def _expression(table: pa.Table, text: str) -> np.ndarray:
    terms, _ = parse_expression(text)
    out = np.zeros(table.num_rows)
    for name, coef in terms:
        out += coef * (_numbers(table, name) if name else 1.0)
    return out


def _combos(table: pa.Table, columns: Sequence[str]) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(table.select(list(columns)).to_pandas())


def violations(table: pa.Table, c: Constraint, reference: pa.Table | None) -> np.ndarray:
    """Boolean mask of rows that break ``c`` (a missing value breaks only ``not_null``)."""
    if c.kind == "range":
        x = _numbers(table, c.column)
        bad = np.zeros(len(x), dtype=bool)
        with np.errstate(invalid="ignore"):
            if c.low is not None:
                bad |= x < c.low
            if c.high is not None:
                bad |= x > c.high
        return bad
    if c.kind == "inequality":
        a, b = _numbers(table, c.left), _numbers(table, c.right)
        with np.errstate(invalid="ignore"):
            return (a >= b) if c.strict else (a > b)
    if c.kind == "formula":
        want, got = _expression(table, c.expression), _numbers(table, c.column)
        with np.errstate(invalid="ignore"):
            return np.abs(got - want) > 1e-9 * (1.0 + np.abs(want))
    if c.kind == "unique":
        values = table.column(c.column).to_pandas()
        return (values.duplicated(keep="first") & values.notna()).to_numpy()
    if c.kind == "not_null":
        return table.column(c.column).is_null().to_numpy(zero_copy_only=False)
    if c.kind == "allowed_values":
        col = table.column(c.column)
        inside = pc.is_in(col, value_set=_value_set(c.values, col.type)).to_numpy(zero_copy_only=False)
        return ~inside & ~col.is_null().to_numpy(zero_copy_only=False)
    if c.kind == "custom":
        return custom.mask(custom.instance(c), table)
    if c.kind == "fixed_combinations":
        if reference is None:
            return np.zeros(table.num_rows, dtype=bool)
        present = np.logical_and.reduce([table.column(n).is_valid().to_numpy(zero_copy_only=False)
                                         for n in c.columns])
        return present & ~_combos(table, c.columns).isin(_combos(reference, c.columns).unique())
    raise ValueError(f"unknown constraint kind {c.kind!r}")


def _value_set(values: Sequence[Any], t: pa.DataType) -> pa.Array:
    try:
        return pa.array(values).cast(t)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([str(v) for v in values]).cast(t, safe=False)


def count_source_violations(table: pa.Table, cons: Sequence[Constraint]) -> list[int]:
    """How many rows of the real table break each constraint (a warning, never an error)."""
    return [int(violations(table, c, None).sum()) for c in cons]


def _replace(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    i = table.column_names.index(name)
    return table.set_column(i, name, values.cast(table.schema.field(name).type))


def clip_rows(table: pa.Table, c: Constraint, bad: np.ndarray) -> pa.Table:
    col = table.column(c.column)
    t = col.type
    low, high = c.low, c.high
    if pa.types.is_integer(t):
        low = None if low is None else float(np.ceil(low))
        high = None if high is None else float(np.floor(high))
    x = _numbers(table, c.column)
    y = np.clip(x, -np.inf if low is None else low, np.inf if high is None else high)
    arr = pa.array(np.where(bad, y, x), mask=col.is_null().to_numpy(zero_copy_only=False))
    if pa.types.is_timestamp(t):
        arr = arr.cast(pa.int64())
    return _replace(table, c.column, arr)


def _compliant(column: pa.Array, c: Constraint) -> pa.Array:
    """The present values of ``column`` that ``c`` (range, allowed_values, not_null) allows."""
    values = column.drop_null()
    return values.filter(pa.array(~violations(pa.table({c.column: values}), c, None)))


def resample_rows(table: pa.Table, c: Constraint, bad: np.ndarray, rng: np.random.Generator,
                  reference: pa.Table | None = None) -> tuple[pa.Table, str]:
    """``bad`` values replaced by compliant present values of the same column, and the action taken.

    Donors are the table's own compliant values; when it has none, the source's (``reference``); with
    neither, a range is clipped (the action returned is then ``"clip"``) and other kinds are unsatisfiable.
    """
    if c.kind == "fixed_combinations":
        return redraw_combinations(table, c, bad, rng, reference), "resample"
    col = table.column(c.column).combine_chunks()
    donors = _compliant(col, c)
    if len(donors) == 0 and reference is not None:
        donors = _compliant(reference.column(c.column).combine_chunks(), c)
    if len(donors) == 0:
        if c.kind == "range":
            return clip_rows(table, c, bad), "clip"
        raise Unsatisfiable(f"{c.kind} on {c.column!r} can never be met: no value of the column complies")
    picks = donors.take(pa.array(rng.integers(0, len(donors), int(bad.sum()))))
    return _replace(table, c.column, _scatter(col, bad, picks)), "resample"


def combination_table(reference: pa.Table, columns: Sequence[str]) -> tuple[pa.Table, str]:
    """The source's complete combinations of ``columns`` with their row counts (column ``COUNT``), sorted, and
    the column kept when a row is redrawn: the one with the most distinct values (ties: the first listed)."""
    part = reference.select(list(columns)).drop_null()
    kept = max(columns, key=lambda n: (pc.count_distinct(part.column(n)).as_py(), -list(columns).index(n)))
    order = [kept, *[n for n in columns if n != kept]]
    counted = part.group_by(order, use_threads=False).aggregate([([], "count_all")])
    counted = counted.rename_columns([COUNT if name == "count_all" else name for name in counted.column_names])
    return counted.select([*order, COUNT]).sort_by([(n, "ascending") for n in order]), kept


def redraw_combinations(table: pa.Table, c: Constraint, bad: np.ndarray, rng: np.random.Generator,
                        reference: pa.Table | None) -> pa.Table:
    """fixed_combinations ``resample``: each bad row keeps its value of the kept column (see
    :func:`combination_table`) and the other columns are drawn from the source's combinations with that value,
    in proportion to their source counts; a kept value the source never has whole gets a whole combination."""
    if reference is None:
        raise Unsatisfiable("fixed_combinations needs the source table")
    combos, kept = combination_table(reference, c.columns)
    if combos.num_rows == 0:
        raise Unsatisfiable(f"fixed_combinations on {list(c.columns)}: the source has no complete combination")
    weight = np.cumsum(combos.column(COUNT).to_numpy().astype(np.float64))
    keys = combos.column(kept).to_pandas()
    first = ~keys.duplicated().to_numpy()
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], len(keys))
    group = pd.Index(keys[first]).get_indexer(table.column(kept).filter(pa.array(bad)).to_pandas())
    lo = np.where(group >= 0, np.concatenate([[0.0], weight])[starts[group]], 0.0)
    hi = np.where(group >= 0, weight[ends[group] - 1], weight[-1])
    picks = np.searchsorted(weight, lo + rng.random(len(group)) * (hi - lo), side="right")
    picks = np.minimum(picks, len(weight) - 1)
    chosen = combos.take(pa.array(picks))
    for name in c.columns:
        table = _replace(table, name, _scatter(table.column(name).combine_chunks(), bad, chosen.column(name)
                                               .combine_chunks()))
    return table


NUMERIC_KINDS = frozenset({"range", "inequality", "formula"})


def _numeric(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_timestamp(t) or pa.types.is_date(t) \
        or pa.types.is_null(t)


def feasibility(cons: Sequence[Constraint], reference: pa.Table, identifiers: Sequence[str] = ()) -> list[Problem]:
    """Constraints a model fitted on ``reference`` can never meet (it draws only the source's values of each
    column), as problems keyed ``constraints[i]``; constraints on identifier columns are not judged."""
    out = []
    for i, c in enumerate(cons):
        if any(col in identifiers for _, col in c.named_columns()):
            continue
        action, key = c.resolved_action(), f"constraints[{i}]"
        if c.kind in NUMERIC_KINDS:
            text = [(k, n) for k, n in c.named_columns() if not _numeric(reference.column(n).type)]
            out += [Problem(f"{key}.{k}", f"{c.kind} needs numeric or datetime columns", "a numeric column",
                            f"{n} ({reference.column(n).type})") for k, n in text]
            if text:
                continue
        if c.kind == "range":
            col = reference.column(c.column)
            t = col.type
            span = f"[{-np.inf if c.low is None else c.low:g}, {np.inf if c.high is None else c.high:g}]"
            if pa.types.is_integer(t) and action == "clip":
                low = -np.inf if c.low is None else np.ceil(c.low)
                high = np.inf if c.high is None else np.floor(c.high)
                if low > high:
                    out.append(Problem(key, f"range can never be met: integer column {c.column!r} has no value "
                                       "in the range", "a range holding an integer", span))
            if action in ("resample", "reject") and len(_compliant(col.combine_chunks(), c)) == 0:
                x = _numbers(reference, c.column)
                got = f"source values {np.nanmin(x):g}..{np.nanmax(x):g}" if np.isfinite(x).any() else "no values"
                out.append(Problem(key, f"range with action {action!r} can never be met: no source value of "
                                   f"{c.column!r} lies in {span}, and the model draws only source values "
                                   "(action = \"clip\" clips instead)", f"a source value in {span}", got))
        elif c.kind in ("allowed_values", "not_null"):
            col = reference.column(c.column).combine_chunks()
            if len(_compliant(col, c)) == 0:
                seen = sorted(map(str, pc.unique(col.drop_null()).to_pylist()))
                got = (", ".join(seen[:10]) + (", ..." if len(seen) > 10 else "")) if seen else "only nulls"
                what = "none of the allowed values occurs" if c.kind == "allowed_values" else "every value is missing"
                out.append(Problem(key, f"{c.kind} on {c.column!r} can never be met: {what} in the source, and the "
                                   "model draws only source values",
                                   f"one of {list(c.values)} in the source" if c.kind == "allowed_values"
                                   else "a present value", got))
        elif c.kind == "inequality":
            a, b = _numbers(reference, c.left), _numbers(reference, c.right)
            if np.isfinite(a).any() and np.isfinite(b).any():
                least, most = float(np.nanmin(a)), float(np.nanmax(b))
                if least > most or (c.strict and least == most):
                    out.append(Problem(key, f"inequality can never be met: the smallest source value of "
                                       f"{c.left!r} is not below the largest of {c.right!r}",
                                       f"min({c.left}) {'<' if c.strict else '<='} max({c.right})",
                                       f"{least:g} vs {most:g}"))
    return out


def _scatter(col: pa.Array, bad: np.ndarray, fill: pa.Array) -> pa.Array:
    """``col`` with the ``bad`` positions replaced, in order, by ``fill``."""
    index = np.arange(len(col))
    index[bad] = len(col) + np.arange(int(bad.sum()))
    return pa.concat_arrays([col, fill.cast(col.type)]).take(pa.array(index))


def recompute_rows(table: pa.Table, c: Constraint, bad: np.ndarray, rng: np.random.Generator) -> pa.Table:
    if c.kind == "custom":
        fixed = custom.instance(c).repair(table, bad, rng)
        if fixed.schema != table.schema or fixed.num_rows != table.num_rows:
            raise TypeError(f"custom constraint {c.name!r}: repair must keep the table's rows and schema")
        return fixed
    col = table.column(c.column).combine_chunks()
    if c.kind == "formula":
        want = _expression(table, c.expression)
        if pa.types.is_integer(col.type):
            want = np.round(want)
        x = _numbers(table, c.column)
        return _replace(table, c.column, pa.array(np.where(bad, want, x), from_pandas=True))
    # unique: each duplicate gets a value not used yet
    n = int(bad.sum())
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
        top = pc.max(col).as_py() or 0
        fill = pa.array(np.arange(1, n + 1) + top)
    else:
        used = set(col.cast(pa.string()).to_pylist())
        base = col.cast(pa.string()).filter(pa.array(bad)).to_pylist()
        fill_list = []
        for b in base:  # only duplicated rows, usually few
            k = 1
            while f"{b}~{k}" in used:
                k += 1
            used.add(f"{b}~{k}")
            fill_list.append(f"{b}~{k}")
        fill = pa.array(fill_list)
    return _replace(table, c.column, _scatter(col, bad, fill))


def reject_rows(table: pa.Table, bad: np.ndarray, screen: Callable[[pa.Table], pa.Table],
                regenerate: Callable[[int, int], pa.Table] | None, identifiers: Sequence[str],
                rng: np.random.Generator, call: int = 0) -> tuple[pa.Table, int]:
    """Replace ``bad`` rows by fresh rows from ``regenerate`` that pass ``screen`` (else by good existing rows).

    Draw ``r`` of call ``call`` uses the regenerate seed ``call * MAX_ROUNDS + r``.
    """
    need = int(bad.sum())
    fresh: list[pa.Table] = []
    got = 0
    if regenerate is not None:
        for round_ in range(MAX_ROUNDS):
            if got >= need:
                break
            good = screen(regenerate(max(2 * (need - got), 64), call * MAX_ROUNDS + round_))
            fresh.append(good)
            got += good.num_rows
    if got < need:
        donors = np.flatnonzero(~bad)
        if len(donors) == 0:
            raise Unsatisfiable("the constraints can never be met together: no generated row satisfies them")
        fresh.append(table.take(pa.array(donors[rng.integers(0, len(donors), need - got)])))
    fill = pa.concat_tables(fresh).slice(0, need)
    rows = np.flatnonzero(bad)
    index = np.arange(table.num_rows)
    index[rows] = table.num_rows + np.arange(need)
    merged = pa.concat_tables([table, fill.select(table.column_names).cast(table.schema)]).take(pa.array(index))
    for name in identifiers:  # replaced rows keep their identifiers
        merged = _replace(merged, name, table.column(name).combine_chunks())
    return merged, need


def changed_cells(before: pa.Table, after: pa.Table) -> dict[str, np.ndarray]:
    """Per column, the rows (same positions) whose value differs, a missing value included."""
    out = {}
    for name in before.column_names:
        a, b = before.column(name).combine_chunks(), after.column(name).combine_chunks()
        a_null = a.is_null().to_numpy(zero_copy_only=False)
        b_null = b.is_null().to_numpy(zero_copy_only=False)
        same = pc.equal(a, b).fill_null(False).to_numpy(zero_copy_only=False)
        out[name] = (a_null != b_null) | (~a_null & ~b_null & ~same)
    return out
