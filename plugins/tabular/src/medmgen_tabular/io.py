"""Reading a real table (CSV or Parquet) and encoding each column as sorted levels."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from attrs import frozen

from medmgen.errors import InputError

ID_MIN_ROWS = 50


TABLE_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".csv.bz2", ".csv.zst")


def read_table(path: Path) -> pa.Table:
    """A CSV (optionally compressed) or Parquet file as an Arrow table; bad files raise :class:`InputError`."""
    source = str(path)
    if not path.is_file():
        raise InputError.one(source, "", "file not found")
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            table = pq.read_table(path)
        elif name.endswith(TABLE_SUFFIXES[1:]):
            table = _read_csv(path)
        else:
            raise InputError.one(source, "", "unknown table format", ".csv, .csv.gz or .parquet", path.suffix)
    except InputError:
        raise
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise InputError.one(source, "", f"cannot read: {str(exc).splitlines()[0]}") from None
    if table.num_rows < 2 or table.num_columns == 0:  # a model needs two rows to see any variation
        raise InputError.one(source, "", "the table is empty" if table.num_rows == 0 else "too few rows to fit",
                             "a header and at least 2 rows", f"{table.num_rows} rows")
    return table


def _read_csv(path: Path) -> pa.Table:
    bad: list[tuple[int | None, int, int]] = []

    def on_bad_row(row: pcsv.InvalidRow) -> str:
        bad.append((row.number, row.expected_columns, row.actual_columns))
        return "skip"

    table = pcsv.read_csv(path, read_options=pcsv.ReadOptions(use_threads=False),
                          parse_options=pcsv.ParseOptions(invalid_row_handler=on_bad_row),
                          convert_options=pcsv.ConvertOptions(strings_can_be_null=True))
    if bad:
        number, expected, actual = bad[0]
        where = f"line {number}" if number is not None else ""
        raise InputError.one(str(path), where, f"ragged row ({len(bad)} such rows in the file)",
                             f"{expected} fields", f"{actual} fields")
    return table


def source_mtime(path: Path) -> tuple[str, int, int]:
    st = os.stat(path)
    return str(path.resolve()), st.st_mtime_ns, st.st_size


@frozen(kw_only=True)
class Column:
    """One source column: its sorted distinct values (null first) and each row's level index.

    ``identifier`` columns (primary keys, free-text ids) are not modelled: the output
    gets fresh unique values of the same type.
    """

    name: str
    levels: pa.Array
    counts: np.ndarray
    codes: np.ndarray
    identifier: bool = False

    @property
    def cum(self) -> np.ndarray:
        c = np.cumsum(self.counts, dtype=np.float64) / float(self.counts.sum())
        c[-1] = 1.0
        return c


def encode(table: pa.Table, max_levels: int, source: str, *, warn: bool = True) -> list[Column]:
    """Encode every column; a huge text column is treated as an identifier (and, with
    ``warn``, warned about: the generator warns once, an evaluator reading the same file again
    does not)."""
    out = []
    n = table.num_rows
    for name in table.column_names:
        col = table.column(name).combine_chunks()
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        series = col.to_pandas()
        codes, uniques = pd.factorize(series, sort=True, use_na_sentinel=True)
        has_null = bool((codes < 0).any())
        nuniq = len(uniques)
        text = pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
        integer = pa.types.is_integer(col.type)
        is_id = (text or integer) and not has_null and nuniq == n and n >= ID_MIN_ROWS
        if text and nuniq > max_levels and not is_id:
            if warn:
                warnings.warn(f"{source}: column {name!r} has {nuniq} distinct values (more than max_levels = "
                              f"{max_levels}); treated as an identifier", stacklevel=3)
            is_id = True
        codes = codes.astype(np.int32)
        values = pa.array(np.asarray(uniques)).cast(col.type) if len(uniques) else pa.array([], type=col.type)
        if has_null:
            codes = codes + 1
            values = pa.concat_arrays([pa.nulls(1, type=col.type), values])
        counts = np.bincount(codes, minlength=len(values)).astype(np.int64)
        out.append(Column(name=name, levels=values, counts=counts, codes=codes, identifier=is_id))
    return out


def fresh_ids(column: Column, records: int, start: int = 0, count: int | None = None) -> pa.Array:
    """Values ``start .. start + count`` of ``records`` unique values shaped like an identifier column."""
    count = records - start if count is None else count
    t = column.levels.type
    if pa.types.is_integer(t):
        first_id = int(pc.min(column.levels).as_py())
        return pa.array(np.arange(first_id + start, first_id + start + count, dtype=np.int64)).cast(t, safe=False)
    prefix, first_number, width = id_shape(column.levels, records)
    numbers = pa.array(np.arange(first_number + start, first_number + start + count)).cast(pa.string())
    numbers = pc.utf8_lpad(numbers, width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), numbers, "").cast(t)


def id_shape(levels: pa.Array, records: int) -> tuple[str, int, int]:
    """``(prefix, first number, zero-padded width)`` of text identifiers.

    When every value is one common prefix plus digits (``ORD-000000``), the source's smallest number and its
    digit width (1 when the widths differ: not zero-padded); otherwise the values' common prefix without
    trailing digits, numbers from 1 and the width of ``records``.
    """
    text = levels.cast(pa.string())
    parts = pc.extract_regex(text, r"^(?P<prefix>.*?)(?P<digits>[0-9]+)$")
    if parts.null_count == 0 and len(parts):
        prefixes = pc.unique(pc.struct_field(parts, "prefix"))
        digits = pc.struct_field(parts, "digits")
        lengths = pc.unique(pc.utf8_length(digits))
        if len(prefixes) == 1 and pc.max(lengths).as_py() <= 18:
            first = int(pc.min(digits.cast(pa.uint64())).as_py())
            return str(prefixes[0].as_py()), first, int(lengths[0].as_py()) if len(lengths) == 1 else 1
    first, last = str(text[0].as_py()), str(text[-1].as_py())
    same = next((i for i, (a, b) in enumerate(zip(first, last)) if a != b), min(len(first), len(last)))
    prefix = first[:same].rstrip("0123456789")  # levels are sorted: the ends share every common prefix
    return prefix, 1, len(str(records))
