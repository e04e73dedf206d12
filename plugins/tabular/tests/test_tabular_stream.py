"""Fitted blocks without f1 targets (or non-row-local constraints) are written chunk by chunk, byte-identical to the
in-memory path."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import medmgen
import medmgen.builtins
from medmgen_tabular import fidelity

ADULT = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "adult" / "adult.csv.gz"
TARGET = "income>50K"
RECORDS, CHUNK = 5000, 1024  # five sampling chunks, the last one short


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """3000 Adult rows plus a text key column (an identifier: numbered afresh across chunks)."""
    df = pd.read_csv(ADULT).iloc[:3000].copy()
    df.insert(0, "key", [f"P{i:05d}" for i in range(len(df))])
    path = tmp_path_factory.mktemp("adult") / "adult.csv"
    df.to_csv(path, index=False)
    return path


def spec(path: Path, **extra) -> dict:
    block = {"modality": "tabular", "generator": "copula", "source": str(path), "target": TARGET,
             "records": RECORDS, "chunk_rows": CHUNK, "csv": True, **extra}
    return {"dataset": {"name": "s", "seed": 5}, "blocks": {"people": block}}


def digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((directory / "data").iterdir())}


# `unique` on the identifier column (never violated) forces the in-memory path (the repairer needs the whole table)
NO_OP = [{"kind": "unique", "column": "key"}]


def test_streamed_files_equal_the_in_memory_path_and_tables(source, registry, tmp_path):
    share = [{"value": 1, "share": 0.4}]
    streamed = medmgen.generate(spec(source, class_targets=share), out=tmp_path / "s", registry=registry)
    held = medmgen.generate(spec(source, class_targets=share, constraints=NO_OP), out=tmp_path / "m",
                            registry=registry)
    two = medmgen.generate(spec(source, class_targets=share), out=tmp_path / "w", registry=registry, workers=2)
    assert digests(tmp_path / "s") == digests(tmp_path / "m") == digests(tmp_path / "w")
    meta = pq.ParquetFile(tmp_path / "s" / "data" / "people.parquet").metadata
    assert meta.num_rows == RECORDS and meta.num_row_groups == -(-RECORDS // CHUNK)
    in_memory = medmgen.generate(spec(source, class_targets=share), registry=registry).table("people")
    written = pq.read_table(tmp_path / "s" / "data" / "people.parquet")
    assert written.equals(in_memory)
    assert pd.read_csv(tmp_path / "s" / "data" / "people.csv").equals(written.to_pandas())
    keys = written.column("key").to_pylist()
    assert len(set(keys)) == RECORDS and keys[CHUNK] == f"P{CHUNK:05d}"  # the source's prefix, width and first number
    # class share counted chunk by chunk = counted here from the written file; same ledger either way
    (p,) = streamed.ledger.patterns
    (q,) = held.ledger.patterns
    rows = int((written.column(TARGET).to_numpy() == 1).sum())
    assert p.rows == q.rows == rows and p.realized_share == pytest.approx(rows / RECORDS)
    assert two.ledger.patterns == streamed.ledger.patterns
    ms, mm = (d.report["metrics"]["blocks"]["people"] for d in (streamed, held))
    # with a constraint (the no-op one) the block metric is the model's, named so: the same numbers
    assert {f"model_{k}_before_repair": v for k, v in ms.items() if k.startswith("tvd")} == {
        k: v for k, v in mm.items() if k.startswith("model_tvd")} != {}


def test_tally_matches_the_whole_array_summary():
    rng = np.random.default_rng(0)
    sizes = [3, 5, 4]
    real = [rng.integers(0, k, 500) for k in sizes]
    synth = [rng.integers(0, k, 700) for k in sizes]
    tally = fidelity.Tally(real, sizes)
    for start in range(0, 700, 128):
        tally.add([s[start:start + 128] for s in synth])
    assert tally.summary() == fidelity.summary(real, synth, sizes)

