"""What evaluators read: each block's tables, whole on demand or in bounded batches.

``evaluation.tables[block]`` is a :class:`BlockTables`. Indexing it (``[part]``), and
so ``.get``, ``.items()`` or ``dict(...)``, materialises the block (every part, once);
``rows``, ``batches``, ``head`` and ``schema`` do not when the block streams: its data
offers ``rows()`` and ``batches(part)`` (and, to skip making a batch, ``schema(part)``),
as chunked generators and Parquet packages do. An evaluator written with them keeps
memory bounded by a chunk, whatever the number of rows.
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
        """Whether :meth:`batches` reads a chunk at a time (else it cuts the whole table).

        Needs the data's ``rows()`` too: without it, part names come from ``tables()``.
        """
        return (self._tables is None and callable(getattr(self._data, "batches", None))
                and callable(getattr(self._data, "rows", None)))

    def row_counts(self) -> dict[str, int]:
        """Rows per part, without materialising when the data knows them."""
        if self._rows is None:
            rows = getattr(self._data, "rows", None)
            self._rows = dict(rows()) if callable(rows) else {p: t.num_rows for p, t in self._whole().items()}
        return self._rows

    def rows(self, part: str = "") -> int:
        return self.row_counts()[part]

    def batches(self, part: str = "", columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        """The part's rows in order, a bounded batch at a time (``columns``: only these).

        A part the block does not have raises ``KeyError`` here, not at the first batch.
        """
        if isinstance(columns, str):
            raise TypeError("columns is a list of column names, not one string")
        if part not in self:
            raise KeyError(part)
        if not self.streams:
            table = self[part] if columns is None else self[part].select(list(columns))
            return iter(table.to_batches(max_chunksize=BATCH_ROWS))
        return self._streamed(part, columns)

    def _streamed(self, part: str, columns: Sequence[str] | None) -> Iterator[pa.RecordBatch]:
        source = self._data.batches
        try:  # a data object may read only the columns asked for (ParquetParts does)
            batches = source(part) if columns is None else source(part, columns=list(columns))
        except TypeError:
            batches = source(part)
        for batch in batches:
            yield batch if columns is None else batch.select(list(columns))

    def head(self, n: int, part: str = "", columns: Sequence[str] | None = None) -> pa.Table:
        """The first ``n`` rows of the part (reads only as many batches as that takes; a
        part's batches share one schema)."""
        taken: list[pa.RecordBatch] = []
        have = 0
        for batch in self.batches(part, columns) if n > 0 else ():
            taken.append(batch.slice(0, n - have))
            have += taken[-1].num_rows
            if have >= n:
                break
        if not taken:
            empty = self.schema(part).empty_table()
            return empty if columns is None else empty.select(list(columns))
        return pa.Table.from_batches(taken)

    def schema(self, part: str = "") -> pa.Schema:
        """The part's columns and types: from the data's ``schema(part)`` when it has one
        (no rows made), else from its first batch."""
        if self._tables is not None:
            return self._tables[part].schema
        own = getattr(self._data, "schema", None)
        if callable(own):
            return own(part)
        for batch in self.batches(part):
            return batch.schema
        return self[part].schema

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
    """Every block's :class:`BlockTables` (``data_by_block``: block -> data object, or a
    ready :class:`BlockTables`, kept with its cache)."""

    def __init__(self, data_by_block: Mapping[str, Any]) -> None:
        self._blocks = {name: data if isinstance(data, BlockTables) else BlockTables(data)
                        for name, data in data_by_block.items()}

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

    def schema(self, part: str) -> pa.Schema:
        import pyarrow.parquet as pq

        return pq.read_schema(self._files[part])

    def rows(self) -> dict[str, int]:
        import pyarrow.parquet as pq

        return {part: pq.ParquetFile(path).metadata.num_rows for part, path in self._files.items()}

    def tables(self) -> dict[str, pa.Table]:
        import pyarrow.parquet as pq

        return {part: pq.read_table(path) for part, path in self._files.items()}

    def batches(self, part: str, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq

        with pq.ParquetFile(self._files[part]) as f:
            for g in range(f.num_row_groups):
                yield from f.read_row_group(g, columns=columns).to_batches(max_chunksize=BATCH_ROWS)


def as_lazy_tables(value: Mapping[str, Mapping[str, Any]]) -> LazyTables:
    """``Evaluation.tables`` from a :class:`LazyTables` or plain ``{block: {part: table}}``."""
    if isinstance(value, LazyTables):
        return value
    return LazyTables({name: parts if isinstance(parts, BlockTables) else _Given(parts)
                       for name, parts in value.items()})
