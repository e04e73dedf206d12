"""Streamed output (chunk by chunk from the recipe) equals the materialised tables."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from medmgen.package import atomic_dir, fill_package, write_package
from medmgen.pipeline import RunResult, run
from medmgen.plugins import load_registry
from medmgen.spec import load_spec
from medmgen_transaction import generator
from medmgen_transaction.data import TransactionData

RECORDS, CHUNK = 7_000, 1_000


def spec(**extra: Any) -> dict[str, Any]:
    block = {"modality": "transaction", "records": RECORDS, "items": 300, "chunk": CHUNK,
             "random_itemsets": {"count": 8, "size": [2, 4], "support": [0.01, 0.03]},
             "rules": [{"antecedent": [5, 6], "consequent": [9], "support": 0.01, "confidence": 0.6}]}
    return {"dataset": {"name": "s", "seed": 4}, "blocks": {"b": block | extra}}


def generate(tmp_path: Path, workers: int, *, ahead: bool = False, **extra: Any) -> tuple[RunResult, Path]:
    """Run and write a package: by default from the run's result (the block streams its files
    at the end); ``ahead`` as ``medmgen.generate(out=...)`` does, the counting sweep writing
    the files into the package's ``data/`` as it goes."""
    registry = load_registry()
    parsed = load_spec(spec(**extra), registry)
    if not ahead:
        result = run(parsed, registry, workers=workers)
        write_package(result, tmp_path / "p", registry)
        return result, tmp_path / "p" / "data"
    with atomic_dir(tmp_path / "p") as tmp:
        (tmp / "data").mkdir()
        result = run(parsed, registry, workers=workers, data_dir=tmp / "data")
        fill_package(result, tmp, registry)
    return result, tmp_path / "p" / "data"


def spmf(items: list[list[int]]) -> bytes:
    return "".join(" ".join(map(str, t)) + "\n" for t in items).encode()


def spmf_utility(items: list[list[int]], quantities: list[list[int]], profit: dict[int, int]) -> bytes:
    lines = []
    for ids, qs in zip(items, quantities, strict=True):
        utils = [q * profit[i] for i, q in zip(ids, qs, strict=True)]
        lines.append(f"{' '.join(map(str, ids))}:{sum(utils)}:{' '.join(map(str, utils))}\n")
    return "".join(lines).encode()


@pytest.mark.parametrize("workers", [1, 2])
def test_streamed_files_equal_the_materialised_tables(tmp_path: Path, workers: int) -> None:
    result, data_dir = generate(tmp_path, workers, timestamps={"start": 10, "mean_gap": 3.0},
                                utility={"profit": [1, 9], "quantity": [1, 4]},
                                high_utility=[{"items": [250, 251], "support": 0.02, "quantity": 6}])
    data = result.blocks["b"].data
    assert isinstance(data, TransactionData)
    tables = data.tables()
    assert dict(data.rows()) == {part: t.num_rows for part, t in tables.items()} == {"": RECORDS, "profits": 300}
    streamed = pq.ParquetFile(data_dir / "b.parquet")
    assert streamed.metadata.num_row_groups == math.ceil(RECORDS / CHUNK)
    assert streamed.schema_arrow == tables[""].schema
    assert streamed.read().equals(tables[""])
    assert pq.read_table(data_dir / "b.profits.parquet").equals(tables["profits"])
    items = tables[""].column("items").to_pylist()
    assert (data_dir / "b.txt").read_bytes() == spmf(items)
    profit = dict(zip(*(tables["profits"].column(c).to_pylist() for c in ("item", "profit")), strict=True))
    quantities = tables[""].column("quantities").to_pylist()
    assert (data_dir / "b.utility.txt").read_bytes() == spmf_utility(items, quantities, profit)
    ts = tables[""].column("timestamp").to_numpy()
    assert ts[0] >= 10 and (np.diff(ts) >= 0).all()


def test_text_written_alone_equals_text_written_with_the_parquet(tmp_path: Path) -> None:
    result, data_dir = generate(tmp_path, 1, utility={"profit": [1, 5], "quantity": [1, 3]})
    alone = tmp_path / "alone"
    alone.mkdir()
    paths = result.blocks["b"].data.write_extra(alone, "b")
    assert [p.name for p in paths] == ["b.txt", "b.utility.txt"]
    for p in paths:
        assert p.read_bytes() == (data_dir / p.name).read_bytes()


def test_ledger_counts_agree_with_the_written_text(tmp_path: Path) -> None:
    result, data_dir = generate(tmp_path, 2)
    db = [set(map(int, line.split())) for line in (data_dir / "b.txt").read_text().splitlines()]
    assert len(db) == RECORDS
    for p in result.ledger.patterns:
        items = set(getattr(p, "items", None) or p.antecedent + p.consequent)
        assert p.realized_support == sum(items <= t for t in db) / RECORDS


@pytest.mark.parametrize("workers", [1, 2])
def test_files_are_the_same_however_they_are_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     workers: int) -> None:
    """Written ahead by the counting sweep, or at the end from kept chunks (all, some, none:
    the others regenerated), the package's files are the same bytes."""
    extra = {"timestamps": {"start": 0, "mean_gap": 2.0}, "utility": {"profit": [1, 9], "quantity": [1, 4]}}
    files: dict[tuple[int, bool], dict[str, bytes]] = {}
    kept: dict[int, int] = {}
    default = generator.CACHE_BYTES
    for cap in (default, 100_000, 0):
        monkeypatch.setattr(generator, "CACHE_BYTES", cap)
        for ahead in (False, True):
            result, data_dir = generate(tmp_path / f"{cap}-{ahead}", workers, ahead=ahead, **extra)
            kept[cap] = len(result.blocks["b"].data.kept)
            assert (result.blocks["b"].data.ahead is not None) == ahead
            files[cap, ahead] = {p.name: p.read_bytes() for p in sorted(data_dir.iterdir())}
    assert kept[default] == math.ceil(RECORDS / CHUNK) > kept[100_000] > kept[0] == 0
    assert sorted(files[default, True]) == ["b.parquet", "b.profits.parquet", "b.txt", "b.utility.txt"]
    assert all(f == files[default, False] for f in files.values())


def test_files_written_ahead_are_the_streamed_files(tmp_path: Path) -> None:
    result, data_dir = generate(tmp_path, 2, ahead=True)
    data = result.blocks["b"].data
    streamed = attrs.evolve(data, ahead=None)
    streamed.write_parquet(tmp_path, "b")
    assert (tmp_path / "b.parquet").read_bytes() == (data_dir / "b.parquet").read_bytes()
    assert (tmp_path / "b.txt").read_bytes() == (data_dir / "b.txt").read_bytes()
    meta = pq.ParquetFile(data_dir / "b.parquet").metadata
    assert meta.num_row_groups == math.ceil(RECORDS / CHUNK)
    column = meta.row_group(0).column(0)
    assert "DELTA_BINARY_PACKED" in column.encodings and column.compression == "UNCOMPRESSED"
    assert not data.ahead.move_to(data_dir, "b")  # once only: a second write streams again


def test_a_pass_that_is_not_kept_leaves_no_file(tmp_path: Path) -> None:
    """Several feedback passes each write their files ahead; the package holds the chosen
    pass's files under their names and nothing else."""
    heavy = {"records": 1500, "random_itemsets": {"count": 12, "size": [3, 5], "support": [0.05, 0.1],
                                                  "overlap": 0.6}}
    result, data_dir = generate(tmp_path, 2, ahead=True, **heavy)
    assert len(result.report["iterations"]) > 1
    assert sorted(p.name for p in data_dir.iterdir()) == ["b.parquet", "b.txt"]
    db = [set(map(int, line.split())) for line in (data_dir / "b.txt").read_text().splitlines()]
    for p in result.ledger.patterns:
        items = set(getattr(p, "items", None) or p.antecedent + p.consequent)
        assert p.realized_support == sum(items <= t for t in db) / len(db)


def test_batches_stream_the_tables_and_share_kept_arrays(tmp_path: Path) -> None:
    result, _ = generate(tmp_path, 2, utility={"profit": [1, 9], "quantity": [1, 4]})
    data = result.blocks["b"].data
    batches = list(data.batches(""))
    assert len(batches) == math.ceil(RECORDS / CHUNK)
    assert pa.Table.from_batches(batches).equals(data.tables()[""])
    assert pa.Table.from_batches(list(data.batches("profits"))).equals(data.tables()["profits"])
    first = np.asarray(batches[0].column("items").values)
    assert np.shares_memory(first, data.kept[0].items)  # kept chunks are read in place


def test_intended_fit_streamed_equals_materialised(tmp_path: Path) -> None:
    from medmgen.block_tables import LazyTables
    from medmgen.interfaces import Evaluation
    from medmgen_transaction.intended import IntendedFit

    result, _ = generate(tmp_path, 2)
    streamed = LazyTables({"b": result.blocks["b"].data})
    assert streamed["b"].streams
    whole = {"b": dict(result.blocks["b"].data.tables())}
    metrics = [IntendedFit().evaluate(Evaluation(spec=result.spec, ledger=result.ledger, tables=t))
               for t in (streamed, whole)]
    assert metrics[0] == metrics[1] and metrics[0]["blocks"]["b"]["length_tvd"] < 0.05
