"""Fitted blocks with row-local constraints are repaired chunk by chunk and never held whole."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import medmgen
import medmgen.builtins
from medmgen.package import write_package
from medmgen.pipeline import run
from medmgen.spec import load_spec

ADULT = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "adult" / "adult.csv.gz"
TARGET = "income>50K"
RECORDS, CHUNK = 5000, 1024

CONSTRAINTS = [
    {"kind": "range", "column": "age", "low": 10, "high": 60},  # clip
    {"kind": "allowed_values", "column": "race", "values": [0, 1, 4]},  # resample
    {"kind": "inequality", "left": "education-num", "right": "hours-per-week"},  # reject and regenerate
    {"kind": "formula", "column": "net", "expression": "capital-gain - capital-loss"},  # recompute
    {"kind": "not_null", "column": "flag"},  # resample
    {"kind": "fixed_combinations", "columns": ["relationship", "sex"]},  # resample
]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """3000 Adult rows, a text key (identifier), a formula column and a column with missing values."""
    df = pd.read_csv(ADULT).iloc[:3000].copy()
    df.insert(0, "key", [f"P{i:05d}" for i in range(len(df))])
    df["net"] = df["capital-gain"] - df["capital-loss"]
    flag = np.random.default_rng(3).choice(["on", "off"], len(df)).astype(object)
    flag[np.random.default_rng(4).random(len(df)) < 0.1] = None
    df["flag"] = flag
    path = tmp_path_factory.mktemp("adult") / "adult.csv"
    df.to_csv(path, index=False)
    return path, df


def spec(path: Path, constraints: list, **extra) -> dict:
    block = {"modality": "tabular", "generator": "copula", "source": str(path), "target": TARGET,
             "records": RECORDS, "chunk_rows": CHUNK, "constraints": constraints,
             "class_targets": [{"value": 1, "share": 0.4}], **extra}
    return {"dataset": {"name": "s", "seed": 5}, "blocks": {"people": block}}


def violations(df: pd.DataFrame, real: pd.DataFrame) -> list[int]:
    """Rows breaking each of CONSTRAINTS, counted with pandas."""
    combos = set(zip(real["relationship"], real["sex"]))
    return [int((~df["age"].between(10, 60)).sum()),
            int((~df["race"].isin([0, 1, 4])).sum()),
            int((df["education-num"] >= df["hours-per-week"]).sum()),
            int((df["net"] != df["capital-gain"] - df["capital-loss"]).sum()),
            int(df["flag"].isna().sum()),
            sum(c not in combos for c in zip(df["relationship"], df["sex"]))]


def digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((directory / "data").iterdir())}


def run_spec(data: dict, registry, workers: int = 1):
    return run(load_spec(data, registry), registry, workers=workers)


def test_chunked_repair_complies_counts_like_pandas_and_never_materialises(source, registry, tmp_path):
    path, real = source
    with pytest.warns(UserWarning, match="source rows violate"):
        result = run_spec(spec(path, CONSTRAINTS), registry)
    data = result.blocks["people"].data
    assert data.recipe is not None and data.recipe.repair is not None
    assert not data.materialised  # generation, the counting sweeps and tabular_fidelity read chunks only
    write_package(result, tmp_path / "one", registry)
    assert not data.materialised  # nor does writing
    written = pq.read_table(tmp_path / "one" / "data" / "people.parquet")
    meta = pq.ParquetFile(tmp_path / "one" / "data" / "people.parquet").metadata
    assert meta.num_row_groups == -(-RECORDS // CHUNK)
    out = written.to_pandas()
    assert violations(out, real) == [0] * len(CONSTRAINTS)

    # the sampled rows before repair are those of the same block without constraints (same seeds)
    raw = medmgen.generate(spec(path, []), registry=registry).to_pandas("people")
    (report,) = result.report["metrics"]["blocks"]["people"]["repairs"]
    stats = report["details"]["constraints"]
    assert [s["violations"] for s in stats] == violations(raw, real)
    assert all(s["violations"] > 0 for s in stats)  # every constraint had work to do
    assert report["checked"] == RECORDS and report["details"]["rows_out"] == len(out) == data.rows()[""]
    assert all(s["repaired"] > 0 for s in stats if s["action"] != "reject" and s["violations"])
    assert report["rejected"] > 0
    keys = out["key"].tolist()
    assert len(set(keys)) == len(keys) and keys[:3] == ["P00000", "P00001", "P00002"]
    # the class share in the ledger is counted on the repaired rows
    (share,) = result.ledger.patterns
    assert share.rows == int((out[TARGET] == 1).sum())
    assert any(e.stage == "repair" for e in share.history) == (share.rows != int((raw[TARGET] == 1).sum()))
    # the block read whole (the Python API) holds the same rows; other worker counts write the same bytes
    assert data.table.equals(written)
    with pytest.warns(UserWarning):
        two = medmgen.generate(spec(path, CONSTRAINTS), registry=registry, out=tmp_path / "two", workers=2)
    assert digests(tmp_path / "one") == digests(tmp_path / "two")
    assert two.report["metrics"]["blocks"]["people"]["repairs"] == [report]


def test_one_chunk_streams_exactly_like_the_in_memory_path(source, registry, tmp_path):
    """With every row in one chunk, the chunked repair and the whole-table repair agree byte for byte."""
    path, _ = source
    one_chunk = {"chunk_rows": RECORDS}
    # `unique` on the key (never violated) keeps the block in memory
    in_memory = [*CONSTRAINTS, {"kind": "unique", "column": "key"}]
    with pytest.warns(UserWarning):
        streamed = run_spec(spec(path, CONSTRAINTS, **one_chunk), registry)
        held = run_spec(spec(path, in_memory, **one_chunk), registry)
    assert streamed.blocks["people"].data.recipe is not None and held.blocks["people"].data.held is not None
    write_package(streamed, tmp_path / "s", registry)
    write_package(held, tmp_path / "m", registry)
    assert digests(tmp_path / "s") == digests(tmp_path / "m")
    (rs,) = streamed.report["metrics"]["blocks"]["people"]["repairs"]
    (rm,) = held.report["metrics"]["blocks"]["people"]["repairs"]
    assert rm["details"]["constraints"][:-1] == rs["details"]["constraints"]
    assert {k: v for k, v in rm.items() if k != "details"} == {k: v for k, v in rs.items() if k != "details"}
    assert streamed.ledger.patterns == held.ledger.patterns


def test_a_unique_constraint_keeps_the_in_memory_path(source, registry):
    path, _ = source
    with pytest.warns(UserWarning, match="unique"):
        result = run_spec(spec(path, [{"kind": "unique", "column": "fnlwgt"}], class_targets=[]), registry)
    data = result.blocks["people"].data
    assert data.held is not None
    assert pd.Series(data.table.column("fnlwgt").to_numpy()).is_unique
