"""A generated transaction block, kept as its recipe: files are written chunk by chunk.

When a package is being written (``BlockContext.data_dir``), the counting sweep writes
``<block>.parquet`` (one row group per chunk) and the SPMF texts straight into its
``data/`` as the chunks come (:class:`FilesAhead`), and ``write_parquet`` renames them into
place. Otherwise ``write_parquet`` takes the chunks the counting sweep kept (up to
``CACHE_BYTES``), regenerates the others and writes the files in one sweep, so peak
memory is a few chunks plus that cap, whatever the number of records. ``batches(part)``
streams a chunk at a time (evaluators); ``tables()`` materialises the whole block (the
Python API on small data).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from attrs import frozen

from medmgen_transaction import _kernels as K
from medmgen_transaction.chunks import Chunk, Recipe

T = TypeVar("T")

# Transaction columns in Parquet: every integer DELTA_BINARY_PACKED (ids ascend within a
# transaction, timestamps across them, quantities are small), no dictionary, no compression.
# At T10I4D1M this is 17 MB written in 0.19 CPU-s, where dictionary + zstd made 15 MB in 0.27 s
# (docs/benchmarks.md, Transaction).
PARQUET: dict[str, Any] = {"compression": "none", "use_dictionary": False, "write_statistics": True}
_COLUMN_PATHS = {"items": "items.list.element", "timestamp": "timestamp", "quantities": "quantities.list.element"}


@frozen(kw_only=True)
class TransactionData:
    """Transactions of one block, regenerated from ``recipe`` whenever they are needed.

    Columns: ``items`` (``list<int32>``, sorted ids), ``timestamp`` (int64) when asked,
    ``quantities`` (``list<int32>``, one per occurrence) with utilities; part
    ``profits``: ``item``, ``profit``.
    """

    recipe: Recipe
    # The first chunks, as the counting sweep made them (see ``chunks.CACHE_BYTES``).
    kept: tuple[Chunk, ...] = attrs.field(default=(), eq=False, repr=False)
    # The block's files as the counting sweep wrote them into the package's data/ (see FilesAhead).
    ahead: FilesAhead | None = attrs.field(default=None, eq=False, repr=False)
    # (directory, block) pairs whose text files the last write_parquet already wrote.
    _written: set[tuple[Path, str]] = attrs.field(factory=set, init=False, eq=False, repr=False)

    @property
    def records(self) -> int:
        return self.recipe.records

    def scan(self, fn: Callable[[Chunk], T]) -> Iterator[T]:
        """``fn(chunk)`` of every chunk, in order (kept chunks are not made again)."""
        return self.recipe.scan(fn, self.kept)

    def rows(self) -> Mapping[str, int]:
        out = {"": self.records}
        if self.recipe.quantities is not None:
            out["profits"] = self.recipe.background.items
        return out

    def schema(self, part: str = "") -> pa.Schema:
        """Columns of ``""`` (or of ``"profits"``), without making any chunk."""
        if part == "profits" and self.recipe.quantities is not None:
            return pa.schema([pa.field("item", pa.int32()), pa.field("profit", pa.int64())])
        if part:
            raise KeyError(part)
        return schema_of(self.recipe)

    def tables(self) -> Mapping[str, pa.Table]:
        """``""``: ``items`` (+ ``timestamp``, ``quantities``); ``"profits"``: ``item``, ``profit``.

        Materialises every chunk: ``list<int32>`` columns (``large_list`` past 2**31 values).
        """
        parts = list(self.scan(lambda ch: ch))
        lengths = np.concatenate([np.diff(ch.offsets) for ch in parts])
        offsets = np.zeros(lengths.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        columns = {"items": _list(offsets, np.concatenate([ch.items for ch in parts]))}
        if self.recipe.times is not None:
            columns["timestamp"] = pa.array(np.concatenate([ch.timestamps for ch in parts]), type=pa.int64())
        if self.recipe.quantities is None:
            return {"": pa.table(columns)}
        columns["quantities"] = _list(offsets, np.concatenate([ch.quantities for ch in parts]))
        return {"": pa.table(columns), "profits": self._profits()}

    def batches(self, part: str) -> Iterator[pa.RecordBatch]:
        """Part ``""``: one batch per chunk, in order (kept chunks are not made again, their
        arrays are shared, not copied); ``"profits"``: one batch."""
        if part == "profits" and self.recipe.quantities is not None:
            yield from self._profits().to_batches()
            return
        if part != "":
            raise KeyError(part)
        schema = self.schema()
        yield from self.scan(lambda ch: _chunk_batch(ch, schema))

    def _profits(self) -> pa.Table:
        assert self.recipe.quantities is not None
        profits = self.recipe.quantities.profits
        return pa.table({"item": np.arange(1, profits.size, dtype=np.int32), "profit": profits[1:].astype(np.int64)})

    def _text_paths(self, directory: Path, block: str) -> list[Path]:
        return [directory / name for name in text_names(self.recipe, block)]

    def _text(self, ch: Chunk) -> list[np.ndarray]:
        return chunk_text(self.recipe, ch)

    def write_parquet(self, directory: Path, block: str) -> Sequence[Path]:
        """``<block>.parquet`` (one row group per chunk, see :data:`PARQUET`), ``<block>.profits.parquet``
        with utilities, and in the same sweep the text files of :meth:`write_extra`."""
        directory = Path(directory)
        path = directory / f"{block}.parquet"
        if self.ahead is None or not self.ahead.move_to(directory, block):  # else: the sweep wrote them
            schema = self.schema()
            with ExitStack() as stack:
                writer = stack.enter_context(pq.ParquetWriter(path, schema, **_parquet_options(schema)))
                files = [stack.enter_context(p.open("wb")) for p in self._text_paths(directory, block)]
                for batch, text in self.scan(lambda ch: (_chunk_batch(ch, schema), self._text(ch))):
                    writer.write_batch(batch, row_group_size=max(1, batch.num_rows))
                    for f, buf in zip(files, text, strict=True):
                        f.write(buf)
        paths = [path]
        if self.recipe.quantities is not None:
            paths.append(directory / f"{block}.profits.parquet")
            pq.write_table(self._profits(), paths[-1], compression="zstd", write_statistics=True)
        self._written.add((directory, block))
        return paths

    def write_extra(self, directory: Path, block: str) -> Sequence[Path]:
        """``<block>.txt`` (SPMF/FIMI: sorted ids separated by spaces, one transaction a line),
        and with utilities ``<block>.utility.txt`` (SPMF utility format).

        Already written when :meth:`write_parquet` ran on the same directory and block.
        """
        directory = Path(directory)
        if (directory, block) in self._written:
            return self._text_paths(directory, block)
        return self._write_text(directory, block)

    def _write_text(self, directory: Path, block: str) -> list[Path]:
        paths = self._text_paths(directory, block)
        with ExitStack() as stack:
            files = [stack.enter_context(p.open("wb")) for p in paths]
            for text in self.scan(self._text):
                for f, buf in zip(files, text, strict=True):
                    f.write(buf)
        return paths


class FilesAhead:
    """A block's files written by its counting sweep, chunk by chunk, straight into the
    package's ``data/`` directory under ``.``-names; :meth:`move_to` renames them into place.

    The sweep hands each chunk and its text (:func:`chunk_text`, formatted on the sweep's
    workers) to :meth:`add`, in order: one thread encodes the Parquet row group, another
    writes the text, both outside the GIL, so neither waits for the sweep nor the sweep for
    them (at most ``WINDOW`` chunks queued). A pass that is not kept leaves its files, which
    the core removes before hashing the package.
    """

    WINDOW = 8

    def __init__(self, recipe: Recipe, directory: Path, block: str, tag: str) -> None:
        self.directory, self.block = directory, block
        self._final = [f"{block}.parquet", *text_names(recipe, block)]
        self._paths = [directory / f".{name}.{tag}" for name in self._final]
        self._schema = schema_of(recipe)
        self._writer = pq.ParquetWriter(self._paths[0], self._schema, **_parquet_options(self._schema))
        self._texts = [p.open("wb") for p in self._paths[1:]]
        self._encode = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet")
        self._save = ThreadPoolExecutor(max_workers=1, thread_name_prefix="text")
        self._pending: list[Future[None]] = []
        self._done: Future[None] | None = None

    def add(self, ch: Chunk, text: Sequence[np.ndarray]) -> None:
        self._pending += [self._encode.submit(self._write_batch, ch),
                          self._save.submit(self._write_text, text)]
        while len(self._pending) > 2 * self.WINDOW:
            self._pending.pop(0).result()

    def _write_batch(self, ch: Chunk) -> None:
        batch = _chunk_batch(ch, self._schema)
        self._writer.write_batch(batch, row_group_size=max(1, batch.num_rows))

    def _write_text(self, text: Sequence[np.ndarray]) -> None:
        for f, buf in zip(self._texts, text, strict=True):
            f.write(buf)

    def finish(self) -> None:
        """Close the files once every queued chunk is written (returns at once)."""
        pending = list(self._pending)

        def close() -> None:
            try:
                for write in pending:
                    write.result()
            finally:
                self._writer.close()
                for f in self._texts:
                    f.close()

        self._done = self._encode.submit(close)
        self._encode.shutdown(wait=False)
        self._save.shutdown(wait=False)

    def move_to(self, directory: Path, block: str) -> bool:
        """Rename the finished files to their final names when ``directory`` and ``block`` are
        theirs (once); False otherwise."""
        if self._done is None or Path(directory) != self.directory or block != self.block:
            return False
        self._done.result()  # raises what failed
        self._done = None
        for tmp, name in zip(self._paths, self._final, strict=True):
            os.replace(tmp, directory / name)
        return True


def text_names(recipe: Recipe, block: str) -> list[str]:
    """``<block>.txt`` and, with utilities, ``<block>.utility.txt``."""
    return [f"{block}.txt"] + ([f"{block}.utility.txt"] if recipe.quantities is not None else [])


def chunk_text(recipe: Recipe, ch: Chunk) -> list[np.ndarray]:
    """The chunk's SPMF text and, with utilities, its SPMF utility text."""
    out = [K.spmf_text(ch.offsets, ch.items, 0, ch.rows)]
    if recipe.quantities is not None:
        assert ch.quantities is not None
        out.append(K.spmf_utility_text(ch.offsets, ch.items, ch.quantities, recipe.quantities.profits, 0, ch.rows))
    return out


def schema_of(recipe: Recipe) -> pa.Schema:
    fields = [pa.field("items", pa.list_(pa.int32()))]
    if recipe.times is not None:
        fields.append(pa.field("timestamp", pa.int64()))
    if recipe.quantities is not None:
        fields.append(pa.field("quantities", pa.list_(pa.int32())))
    return pa.schema(fields)


def _parquet_options(schema: pa.Schema) -> dict[str, Any]:
    return PARQUET | {"column_encoding": {_COLUMN_PATHS[name]: "DELTA_BINARY_PACKED" for name in schema.names}}


def _chunk_batch(ch: Chunk, schema: pa.Schema) -> pa.RecordBatch:
    """One chunk as a record batch (the id and quantity arrays are shared, not copied)."""
    offsets = pa.array(ch.offsets.astype(np.int32), type=pa.int32())
    columns = [pa.ListArray.from_arrays(offsets, pa.array(ch.items, type=pa.int32()))]
    if ch.timestamps is not None:
        columns.append(pa.array(ch.timestamps, type=pa.int64()))
    if ch.quantities is not None:
        columns.append(pa.ListArray.from_arrays(offsets, pa.array(ch.quantities, type=pa.int32())))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _list(offsets: np.ndarray, values: np.ndarray) -> pa.Array:
    """``list<int32>`` on CSR offsets (``large_list`` past 2**31 values)."""
    flat = pa.array(values, type=pa.int32())
    if values.size < 2**31:
        return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32), type=pa.int32()), flat)
    return pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()), flat)
