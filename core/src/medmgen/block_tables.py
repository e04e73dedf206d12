"""What evaluators read: each block's tables, whole on demand or in bounded batches.

``evaluation.tables[block]`` is a :class:`BlockTables`. Indexing it (``[part]``)
materialises the whole part, once; ``rows``, ``batches`` and ``head`` do not when the
block can stream (its data offers ``batches(part)``, as chunked generators and Parquet
packages do), so an evaluator written with them keeps memory bounded by a chunk,
whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

# Batches cut from a materialised table have at most this many rows.
BATCH_ROWS = 65_536


class BlockTables(Mapping[str, pa.Table]):
    """One block's parts (``""``, ``"edges"``, ...) over its data object."""

    def __init__(self, data: Any) -> None:
        self._data = data
        self._tables: dict[str, pa.Table] | None = None
        self._rows: dict[str, int] | None = None

    @property
    def streams(self) -> bool:
        """Whether :meth:`batches` reads a chunk at a time (else it cuts the whole table)."""
        return self._tables is None and callable(getattr(self._data, "batches", None))

    def row_counts(self) -> dict[str, int]:
        """Rows per part, without materialising when the data knows them."""
        if self._rows is None:
            rows = getattr(self._data, "rows", None)
            self._rows = dict(rows()) if callable(rows) else {p: t.num_rows for p, t in self._whole().items()}
        return self._rows

    def rows(self, part: str = "") -> int:
        return self.row_counts()[part]

    def batches(self, part: str = "", columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        """The part's rows in order, a bounded batch at a time (``columns``: only these)."""
        if part not in self:
            raise KeyError(part)
        if self.streams:
            for batch in self._data.batches(part):
                yield batch if columns is None else batch.select(list(columns))
            return
        table = self[part] if columns is None else self[part].select(list(columns))
        yield from table.to_batches(max_chunksize=BATCH_ROWS)

    def head(self, n: int, part: str = "", columns: Sequence[str] | None = None) -> pa.Table:
        """The first ``n`` rows of the part (reads only as many batches as that takes)."""
        taken: list[pa.RecordBatch] = []
        have = 0
        for batch in self.batches(part, columns):
            taken.append(batch.slice(0, max(0, n - have)))
            have += taken[-1].num_rows
            if have >= n:
                break
        if not taken:  # a part with no rows (and no batches): its table is empty anyway
            table = self[part]
            return table if columns is None else table.select(list(columns))
        return pa.Table.from_batches(taken)

    def schema(self, part: str = "") -> pa.Schema:
        """The part's columns and types (reads at most one batch)."""
        return self.head(0, part).schema

    def _whole(self) -> dict[str, pa.Table]:
        if self._tables is None:
            self._tables = dict(self._data.tables())
        return self._tables

    def __getitem__(self, part: str) -> pa.Table:
        return self._whole()[part]

    def __contains__(self, part: object) -> bool:
        return part in self.row_counts()

    def __iter__(self) -> Iterator[str]:
        return iter(self.row_counts())

    def __len__(self) -> int:
        return len(self.row_counts())


class LazyTables(Mapping[str, BlockTables]):
    """Every block's :class:`BlockTables` (``data_by_block``: block -> data object)."""

    def __init__(self, data_by_block: Mapping[str, Any]) -> None:
        self._blocks = {name: BlockTables(data) for name, data in data_by_block.items()}

    def __getitem__(self, block: str) -> BlockTables:
        return self._blocks[block]

    def __iter__(self) -> Iterator[str]:
        return iter(self._blocks)

    def __len__(self) -> int:
        return len(self._blocks)


class _Given:
    """Tables already in memory, as a data object."""

    def __init__(self, parts: Mapping[str, pa.Table]) -> None:
        self._parts = dict(parts)

    def tables(self) -> Mapping[str, pa.Table]:
        return self._parts


class ParquetParts:
    """A written block's Parquet files as a data object: rows from the footers, batches
    by row group."""

    def __init__(self, files: Mapping[str, Path]) -> None:
        self._files = dict(files)

    def rows(self) -> dict[str, int]:
        import pyarrow.parquet as pq

        return {part: pq.ParquetFile(path).metadata.num_rows for part, path in self._files.items()}

    def tables(self) -> dict[str, pa.Table]:
        import pyarrow.parquet as pq

        return {part: pq.read_table(path) for part, path in self._files.items()}

    def batches(self, part: str) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq

        with pq.ParquetFile(self._files[part]) as f:
            for g in range(f.num_row_groups):
                yield from f.read_row_group(g).to_batches(max_chunksize=BATCH_ROWS)


def as_lazy_tables(value: Mapping[str, Mapping[str, Any]]) -> LazyTables:
    """``Evaluation.tables`` from a :class:`LazyTables` or plain ``{block: {part: table}}``."""
    if isinstance(value, LazyTables):
        return value
    return LazyTables({name: _Given(parts) for name, parts in value.items()})
