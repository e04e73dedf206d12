"""BlockTables: evaluators read blocks whole or in bounded batches, with the same rows."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from medmgen.block_tables import BlockTables, LazyTables, ParquetParts, as_lazy_tables
from medmgen.interfaces import Evaluation


class Streaming:
    """A block that streams 1,000-row batches and refuses to be materialised."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.batches_read = 0

    def rows(self) -> dict[str, int]:
        return {"": self.n}

    def batches(self, part: str) -> Iterator[pa.RecordBatch]:
        for start in range(0, self.n, 1000):
            self.batches_read += 1
            x = np.arange(start, min(start + 1000, self.n), dtype=np.int64)
            yield pa.record_batch({"x": x, "y": x * 2})

    def tables(self) -> dict[str, pa.Table]:
        raise AssertionError("materialised")


def test_streaming_block_is_read_in_batches_never_whole() -> None:
    data = Streaming(10_500)
    tables = BlockTables(data)
    assert tables.streams and tables.rows() == 10_500 and "" in tables and "edges" not in tables
    assert sum(b.num_rows for b in tables.batches()) == 10_500
    head = tables.head(2_500, columns=["y"])
    assert head.column_names == ["y"] and head.num_rows == 2_500
    assert head.column("y").to_pylist() == [2 * i for i in range(2_500)]
    data.batches_read = 0
    tables.head(1_500)
    assert data.batches_read == 2  # stops once it has enough rows
    assert tables.schema().names == ["x", "y"] and tables.head(0).num_rows == 0
    with pytest.raises(KeyError):
        next(tables.batches("edges"))


def test_plain_tables_convert_and_batch_in_order() -> None:
    table = pa.table({"a": np.arange(200_000), "b": np.arange(200_000) % 7})
    ev = Evaluation(spec=None, ledger=None, tables={"blk": {"": table}})
    assert isinstance(ev.tables, LazyTables)
    parts = ev.tables["blk"]
    assert not parts.streams and parts.rows() == 200_000 and list(parts) == [""]
    batches = list(parts.batches(columns=["b"]))
    assert max(b.num_rows for b in batches) <= 65_536 and len(batches) == 4
    assert pa.Table.from_batches(batches).equals(table.select(["b"]))
    assert parts.head(10).equals(table.slice(0, 10))
    assert parts[""] is table


def test_parquet_parts_read_row_groups_and_footers(tmp_path) -> None:
    table = pa.table({"v": np.arange(50_000, dtype=np.int32)})
    path = tmp_path / "b.parquet"
    pq.write_table(table, path, row_group_size=20_000)
    parts = BlockTables(ParquetParts({"": path}))
    assert parts.streams and parts.rows() == 50_000
    assert [b.num_rows for b in parts.batches()] == [20_000, 20_000, 10_000]
    assert parts.head(30_000).column("v").to_pylist() == list(range(30_000))
    assert parts[""].equals(table)
    assert not parts.streams  # once materialised, batches come from the table in memory


class BatchesOnly(Streaming):
    """Streams batches but cannot count rows without materialising."""

    rows = None  # type: ignore[assignment]

    def tables(self) -> dict[str, pa.Table]:
        return {"": pa.table({"x": np.arange(self.n), "y": 2 * np.arange(self.n)})}


def test_schema_and_empty_parts_never_materialise_and_bad_parts_fail_at_the_call(tmp_path) -> None:
    empty, full = tmp_path / "e.parquet", tmp_path / "f.parquet"
    pq.write_table(pa.table({"a": pa.array([], pa.int64())}), empty)
    pq.write_table(pa.table({"b": np.arange(10)}), full)
    parts = BlockTables(ParquetParts({"": empty, "edges": full}))
    assert parts.schema().names == ["a"] and parts.head(5).num_rows == 0 and parts.streams
    assert parts.head(3, "edges", columns=["b"]).column("b").to_pylist() == [0, 1, 2] and parts.streams
    with pytest.raises(KeyError):
        parts.batches("nodes")  # at the call, not at the first batch
    with pytest.raises(TypeError):
        parts.batches("edges", columns="b")
    lazy = LazyTables({"blk": Streaming(5)})
    assert as_lazy_tables({"blk": lazy["blk"]})["blk"] is lazy["blk"]  # ready BlockTables pass through


def test_batches_without_rows_fall_back_to_the_whole_table() -> None:
    tables = BlockTables(BatchesOnly(3_000))
    assert not tables.streams
    assert sum(b.num_rows for b in tables.batches()) == 3_000
