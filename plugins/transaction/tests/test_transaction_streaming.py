"""Streamed output (chunk by chunk from the recipe) equals the materialised tables."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from medmgen.package import write_package
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


def generate(tmp_path: Path, workers: int, **extra: Any) -> tuple[RunResult, Path]:
    registry = load_registry()
    result = run(load_spec(spec(**extra), registry), registry, workers=workers)
    write_package(result, tmp_path / "p", registry)
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
def test_kept_chunks_do_not_change_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    """Chunks the counting sweep keeps for the writer give the bytes regenerated chunks give."""
    extra = {"timestamps": {"start": 0, "mean_gap": 2.0}, "utility": {"profit": [1, 9], "quantity": [1, 4]}}
    files: dict[int, dict[str, bytes]] = {}
    kept: dict[int, int] = {}
    default = generator.CACHE_BYTES
    for cap in (default, 100_000, 0):
        monkeypatch.setattr(generator, "CACHE_BYTES", cap)
        result, data_dir = generate(tmp_path / str(cap), workers, **extra)
        kept[cap] = len(result.blocks["b"].data.kept)
        files[cap] = {p.name: p.read_bytes() for p in sorted(data_dir.iterdir())}
    assert kept[default] == math.ceil(RECORDS / CHUNK) > kept[100_000] > kept[0] == 0
    assert files[default] == files[100_000] == files[0]
