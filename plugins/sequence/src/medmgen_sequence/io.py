"""Sequence data in memory (CSR arrays), its Arrow table and SPMF text in and out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs
import numpy as np
import pyarrow as pa
from attrs import frozen

from medmgen.errors import InputError
from medmgen_sequence import _kernels as k
from medmgen_sequence.threads import numba_threads

WRITE_BATCH = 65536  # sequences per SPMF write (memory bound only; bytes do not depend on it)

_PARSE_ERRORS = {
    1: "not an integer token",
    2: "item id outside 1..2147483647 (only -1 and -2 may be negative)",
    3: "empty itemset (-1 with no item before it)",
    4: "-2 must follow an itemset's -1 (and a sequence needs at least one itemset)",
    5: "line does not end with -2",
    6: "text after -2 on the same line",
}


@frozen(kw_only=True)
class SequenceData:
    """A block's sequences: ``seq_off`` -> itemsets, ``set_off`` -> ``items`` (sorted per itemset).

    ``times`` holds one time per itemset, or nothing when the block has no timestamps;
    ``workers`` is how many threads write the files (the bytes do not depend on it).
    """

    seq_off: np.ndarray
    set_off: np.ndarray
    items: np.ndarray
    times: np.ndarray = attrs.field(factory=lambda: np.empty(0, np.int64))
    workers: int = attrs.field(default=1, eq=False)

    @property
    def records(self) -> int:
        return int(self.seq_off.shape[0] - 1)

    def rows(self) -> Mapping[str, int]:
        """Rows per part without building the table."""
        return {"": self.records}

    def tables(self) -> Mapping[str, pa.Table]:
        """One row per sequence: ``itemsets`` as ``list<list<int32>>`` (and ``timestamps`` as ``list<int64>``)."""
        inner = _lists(self.set_off, pa.array(self.items))
        columns = {"itemsets": _lists(self.seq_off, inner)}
        if self.times.shape[0]:
            columns["timestamps"] = _lists(self.seq_off, pa.array(self.times))
        return {"": pa.table(columns)}

    def write_extra(self, directory: Path, block: str) -> Sequence[Path]:
        """``<block>.txt`` (SPMF) and, with timestamps, ``<block>.timestamped.txt``."""
        paths = [Path(directory) / f"{block}.txt"]
        with numba_threads(self.workers):
            write_spmf(self, paths[0], timed=False)
            if self.times.shape[0]:
                paths.append(Path(directory) / f"{block}.timestamped.txt")
                write_spmf(self, paths[1], timed=True)
        return paths


def _lists(offsets: np.ndarray, values: pa.Array) -> pa.Array:
    """A list array (``large_list`` only beyond 2**31 - 1 values, where int32 offsets overflow)."""
    if offsets[-1] < 2**31:
        return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values)
    return pa.LargeListArray.from_arrays(pa.array(offsets), values)


def write_spmf(data: SequenceData, path: Path, timed: bool = False) -> None:
    """SPMF sequence format: items of an itemset, ``-1`` after each itemset, ``-2`` ends a line;
    ``timed`` puts ``<t>`` before each itemset (SPMF's timestamped format)."""
    times = data.times if timed else np.empty(0, np.int64)
    with open(path, "wb") as f:
        for lo in range(0, data.records, WRITE_BATCH):
            hi = min(data.records, lo + WRITE_BATCH)
            f.write(k.spmf_bytes(data.seq_off, data.set_off, data.items, times, lo, hi).tobytes())


def read_spmf(path: Path) -> SequenceData:
    """Read an SPMF sequence file (timestamps, if any, are skipped); a malformed line raises
    :class:`InputError` naming it."""
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise InputError.one(str(path), "", f"cannot read: {exc}") from None
    error, line, seq_off, set_off, items = k.parse_spmf(raw)
    if error:
        raise InputError.one(str(path), f"line {line}", _PARSE_ERRORS[error])
    if seq_off.shape[0] < 2:
        raise InputError.one(str(path), "", "no sequences", "SPMF lines such as '5 -1 8 9 -1 -2'", "none")
    return SequenceData(seq_off=seq_off, set_off=set_off, items=items)
