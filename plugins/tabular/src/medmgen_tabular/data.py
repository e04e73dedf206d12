"""The data object a tabular generator returns: one Arrow table (or the recipe to sample it), optionally also CSV."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from attrs import frozen

from medmgen.block_tables import BATCH_ROWS
from medmgen.ledger import Pattern
from medmgen_tabular.stream import Recipe, write_chunks

Recount = Callable[[pa.Table, np.ndarray, Mapping[str, np.ndarray], list[Pattern]], list[Pattern]]


@frozen(kw_only=True)
class TabularData:
    """``<block>.parquet`` (and ``<block>.csv`` when ``csv``).

    Either ``table`` is held in memory (it wins when both are set), or only ``recipe`` is
    (a fitted block without ``f1`` class targets or non-row-local constraints; its
    ``repair``, if set, repairs each chunk as it is sampled). Then ``write_parquet``
    samples and writes chunk by chunk, ``batches`` hands evaluators one chunk at a time,
    and ``table`` is materialised only on first access (the Python API or a third-party
    repairer asks for it). Both write one Parquet row group per ``chunk_rows`` rows, so
    the same rows give the same bytes.

    ``regenerate(n, round)`` draws ``n`` fresh rows from the fitted model (seeded by
    the round), so a repairer can reject rows and regenerate them; ``reference`` is
    the source table constraints such as ``fixed_combinations`` are checked against;
    ``identifiers`` name the columns that keep their values when a row is replaced;
    ``recount(table, origin, tainted, patterns)`` recounts the ledger patterns after a
    repair, where output row ``i`` sat at ``origin[i]`` before it and
    ``tainted[column][i]`` says the row was replaced or had that column changed.
    """

    held: pa.Table | None = attrs.field(default=None, alias="table", repr=False)
    recipe: Recipe | None = attrs.field(default=None, repr=False)
    csv: bool = False
    # Fitted blocks: Parquet row groups of this many rows; None: the core's default layout.
    chunk_rows: int | None = None
    regenerate: Callable[[int, int], pa.Table] | None = attrs.field(default=None, eq=False, repr=False)
    reference: pa.Table | None = attrs.field(default=None, eq=False, repr=False)
    identifiers: tuple[str, ...] = ()
    recount: Recount | None = attrs.field(default=None, eq=False, repr=False)
    # The materialised table of a recipe, and the (directory, block) pairs whose CSV write_parquet wrote.
    _cache: dict[str, Any] = attrs.field(factory=dict, init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.held is None and self.recipe is None:
            raise ValueError("TabularData needs a table or a recipe")

    @property
    def table(self) -> pa.Table:
        """The whole block (sampled from ``recipe`` on first access, one Arrow chunk per sampling chunk)."""
        if self.held is not None:
            return self.held
        if "table" not in self._cache:
            parts = list(self.recipe.chunks())
            self._cache["table"] = pa.concat_tables(parts) if parts else self.recipe.empty()
        return self._cache["table"]

    def rows(self) -> Mapping[str, int]:
        return {"": self.held.num_rows if self.held is not None else self.recipe.rows_out}

    def tables(self) -> Mapping[str, pa.Table]:
        return {"": self.table}

    @property
    def materialised(self) -> bool:
        """Whether the whole block is in memory (held, or a recipe sampled whole by an earlier reader)."""
        return self.held is not None or "table" in self._cache

    def schema(self, part: str = "") -> pa.Schema:
        """The block's columns, without sampling a chunk (the writer uses the same schema)."""
        if part != "":
            raise KeyError(part)
        return self.table.schema if self.materialised else self.recipe.empty().schema

    def batches(self, part: str = "") -> Iterator[pa.RecordBatch]:
        """The rows in order, one sampling chunk at a time (never materialising a recipe)."""
        if part != "":
            raise KeyError(part)
        chunks = (self.table,) if self.materialised else self.recipe.chunks()
        for chunk in chunks:
            yield from chunk.to_batches(max_chunksize=BATCH_ROWS)

    def write_parquet(self, directory: Path, block: str) -> Sequence[Path]:
        """``<block>.parquet``: one row group per ``chunk_rows`` rows when set, else the core's default layout."""
        if not self.materialised:
            paths = write_chunks(self.recipe.chunks(), self.recipe.empty(), directory, block, self.csv)
            self._cache.setdefault("written", set()).add((directory, block))
            return paths
        path = directory / f"{block}.parquet"
        if self.chunk_rows is None:
            pq.write_table(self.table, path, compression="zstd", write_statistics=True)
            return (path,)
        size, table = self.chunk_rows, self.table
        parts = (table.slice(i, size) for i in range(0, table.num_rows, size))
        return write_chunks(parts, table.slice(0, 0), directory, block, False)

    def write_extra(self, directory: Path, block: str) -> Sequence[Path]:
        if not self.csv:
            return ()
        path = directory / f"{block}.csv"
        if (directory, block) not in self._cache.get("written", ()):
            pcsv.write_csv(self.table, path)
        return (path,)
