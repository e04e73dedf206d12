"""Fitted tabular blocks kept as their recipe, so files are written chunk by chunk.

A :class:`Recipe` re-samples chunk ``i`` from ``state_for(i)`` (and repairs it, when the
block has row-local constraints) whenever it is needed: the counting sweeps in
``generate()`` and the repairer keep only counts, evaluators read chunk by chunk, and
:func:`write_chunks` writes one chunk at a time (one Parquet row group per chunk), so
peak memory is a few chunks whatever the number of records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from attrs import frozen

from medmgen_tabular import model
from medmgen_tabular.io import Column, fresh_ids


def assemble(columns: Sequence[Column], modelled: Sequence[Column], codes: np.ndarray, records: int,
             start: int = 0) -> pa.Table:
    """Rows ``start .. start + len(codes)`` of a ``records``-row table from sampled level indices."""
    sampled = dict(zip([c.name for c in modelled], model.decode(modelled, codes)))
    arrays = [sampled[c.name] if not c.identifier else fresh_ids(c, records, start, len(codes)) for c in columns]
    return pa.table(arrays, names=[c.name for c in columns])


@frozen(kw_only=True)
class Recipe:
    """How to sample a fitted block chunk by chunk: chunk ``i`` always from ``state_for(i)``."""

    columns: tuple[Column, ...]
    modelled: tuple[Column, ...]
    sample: Callable[[np.ndarray, int], np.ndarray] = attrs.field(eq=False, repr=False)
    state_for: Callable[[int], np.ndarray] = attrs.field(eq=False, repr=False)
    records: int
    chunk_rows: int
    workers: int = 1
    # Applied to each chunk as it is sampled: (chunk, chunk index) -> the repaired rows; ``kept``: their total.
    repair: Callable[[pa.Table, int], pa.Table] | None = attrs.field(default=None, eq=False, repr=False)
    kept: int | None = None

    @property
    def rows_out(self) -> int:
        """Rows of the block: ``records``, less any a chunk repair dropped."""
        return self.records if self.kept is None else self.kept

    def codes(self) -> Iterator[np.ndarray]:
        """Level indices of each chunk, in order; ``workers`` chunks are sampled at a time."""
        starts = list(range(0, self.records, self.chunk_rows))

        def one(i: int) -> np.ndarray:
            return self.sample(self.state_for(i), min(self.chunk_rows, self.records - starts[i]))

        batch = max(1, self.workers)
        with ThreadPoolExecutor(max_workers=batch) as pool:
            for first in range(0, len(starts), batch):
                yield from pool.map(one, range(first, min(first + batch, len(starts))))

    def chunks(self) -> Iterator[pa.Table]:
        """Each chunk as an Arrow table (identifier columns numbered across the whole block), repaired if set."""
        start = 0
        for i, codes in enumerate(self.codes()):
            table = assemble(self.columns, self.modelled, codes, self.records, start)
            yield table if self.repair is None else self.repair(table, i)
            start += len(codes)

    def empty(self) -> pa.Table:
        return assemble(self.columns, self.modelled, np.zeros((0, len(self.modelled)), dtype=np.int32), 0)


def write_chunks(chunks: Iterator[pa.Table], empty: pa.Table, directory: Path, block: str,
                 csv: bool) -> list[Path]:
    """``<block>.parquet`` with one row group per chunk (and ``<block>.csv`` when ``csv``)."""
    path = directory / f"{block}.parquet"
    paths = [path]
    with pq.ParquetWriter(path, empty.schema, compression="zstd", write_statistics=True) as writer:
        text = pcsv.CSVWriter(directory / f"{block}.csv", empty.schema) if csv else None
        wrote = False
        for table in chunks:
            writer.write_table(table, row_group_size=max(1, table.num_rows))
            if text is not None:
                text.write_table(table)
            wrote = True
        if not wrote:
            writer.write_table(empty)
        if text is not None:
            text.close()
            paths.append(directory / f"{block}.csv")
    return paths
