"""A generated transaction block: CSR arrays, its Arrow table and its SPMF text file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs
import numpy as np
import pyarrow as pa
from attrs import frozen

from medmgen_transaction import _kernels as K


@frozen(kw_only=True)
class TransactionData:
    """Transactions as CSR (``offsets`` int64, ``items`` int32 sorted per row).

    Optional: ``timestamps`` (one per transaction), ``quantities`` (one per item
    occurrence) with ``profits`` (unit profit per id, index = id).
    """

    offsets: np.ndarray = attrs.field(eq=False)
    items: np.ndarray = attrs.field(eq=False)
    timestamps: np.ndarray | None = attrs.field(default=None, eq=False)
    quantities: np.ndarray | None = attrs.field(default=None, eq=False)
    profits: np.ndarray | None = attrs.field(default=None, eq=False)
    chunk: int = 65_536

    @property
    def records(self) -> int:
        return self.offsets.size - 1

    def _list(self, values: np.ndarray) -> pa.Array:
        """``list<int32>`` built zero-copy on the CSR offsets (``large_list`` past 2**31 values)."""
        flat = pa.array(values, type=pa.int32())
        if values.size < 2**31:
            return pa.ListArray.from_arrays(pa.array(self.offsets.astype(np.int32), type=pa.int32()), flat)
        return pa.LargeListArray.from_arrays(pa.array(self.offsets, type=pa.int64()), flat)

    def tables(self) -> Mapping[str, pa.Table]:
        """``""``: ``items`` (+ ``timestamp``, ``quantities``); ``"profits"``: ``item``, ``profit``."""
        columns = {"items": self._list(self.items)}
        if self.timestamps is not None:
            columns["timestamp"] = pa.array(self.timestamps, type=pa.int64())
        if self.quantities is None or self.profits is None:
            return {"": pa.table(columns)}
        columns["quantities"] = self._list(self.quantities)
        ids = np.arange(1, self.profits.size, dtype=np.int32)
        profits = pa.table({"item": ids, "profit": self.profits[1:].astype(np.int64)})
        return {"": pa.table(columns), "profits": profits}

    def write_extra(self, directory: Path, block: str) -> Sequence[Path]:
        """``<block>.txt`` (SPMF/FIMI: sorted ids separated by spaces, one transaction a line),
        and with utilities ``<block>.utility.txt`` (SPMF utility format)."""
        paths = [Path(directory) / f"{block}.txt"]
        with paths[0].open("wb") as f:
            for start in range(0, self.records, self.chunk):
                f.write(K.spmf_text(self.offsets, self.items, start, min(self.records, start + self.chunk)))
        if self.quantities is not None and self.profits is not None:
            paths.append(Path(directory) / f"{block}.utility.txt")
            with paths[1].open("wb") as f:
                for start in range(0, self.records, self.chunk):
                    stop = min(self.records, start + self.chunk)
                    f.write(K.spmf_utility_text(self.offsets, self.items, self.quantities, self.profits, start, stop))
        return paths
