"""Fit-to-real generators (copula, bayesnet, independent) on real Adult rows and a mixed table."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

import medmgen
import medmgen.builtins
import medmgen.errors
from medmgen.cli import main

ADULT = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "adult" / "adult.csv.gz"
TARGET = "income>50K"


@pytest.fixture(scope="module")
def adult_parts(tmp_path_factory):
    df = pd.read_csv(ADULT)
    idx = np.random.default_rng(0).permutation(len(df))
    train, test = df.iloc[idx[:4000]], df.iloc[idx[4000:6000]]
    path = tmp_path_factory.mktemp("adult") / "train.csv"
    train.to_csv(path, index=False)
    return path, train.reset_index(drop=True), test.reset_index(drop=True)


def spec(source: Path, generator: str, **extra) -> dict:
    block = {"modality": "tabular", "generator": generator, "source": str(source), **extra}
    return {"dataset": {"name": "t", "seed": 3}, "blocks": {"people": block}}


def tvd2(real: pd.DataFrame, synth: pd.DataFrame) -> float:
    """Mean 2-way TVD, computed here with pandas (independent of the plugin's own metric)."""
    out = []
    cols = list(real.columns)
    for i, a in enumerate(cols):
        for b in cols[i + 1:]:
            pr = real.groupby([a, b]).size() / len(real)
            ps = synth.groupby([a, b]).size() / len(synth)
            both = pd.concat([pr, ps], axis=1).fillna(0.0)
            out.append(0.5 * float((both.iloc[:, 0] - both.iloc[:, 1]).abs().sum()))
    return float(np.mean(out))


def test_models_order_by_fidelity_and_bayesnet_has_utility(adult_parts, registry):
    path, train, test = adult_parts
    synth = {}
    for g in ("independent", "copula", "bayesnet"):
        ds = medmgen.generate(spec(path, g, target=TARGET), registry=registry)
        synth[g] = ds.to_pandas("people")
        assert len(synth[g]) == len(train)  # records defaults to the source's size
        assert list(synth[g].columns) == list(train.columns)
        reported = ds.report["metrics"]["blocks"]["people"]["tvd_2way_mean"]
        assert reported == pytest.approx(tvd2(train, synth[g]), abs=1e-6)
        assert ds.report["metrics"]["tabular_fidelity"]["people.tvd_2way_mean"] == reported
    scores = {g: tvd2(train, s) for g, s in synth.items()}
    assert scores["bayesnet"] < scores["copula"] < scores["independent"]
    clf = HistGradientBoostingClassifier(random_state=0)
    clf.fit(synth["bayesnet"].drop(columns=[TARGET]), synth["bayesnet"][TARGET])
    auc = roc_auc_score(test[TARGET], clf.predict_proba(test.drop(columns=[TARGET]))[:, 1])
    assert auc > 0.8


def test_records_and_determinism_independent_of_workers(adult_parts, registry, tmp_path):
    path, _, _ = adult_parts
    s = spec(path, "bayesnet", records=5000, chunk_rows=1024)
    a = medmgen.generate(s, out=tmp_path / "a", registry=registry, workers=1)
    medmgen.generate(s, out=tmp_path / "b", registry=registry, workers=2)
    medmgen.generate(s, out=tmp_path / "c", registry=registry, seed=4)
    assert a.table("people").num_rows == 5000
    digest = [hashlib.sha256((tmp_path / d / "data" / "people.parquet").read_bytes()).hexdigest() for d in "abc"]
    assert digest[0] == digest[1] != digest[2]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """Ids, text categories (one rare), datetimes and missing values that depend on another column."""
    rng = np.random.default_rng(5)
    n = 3000
    city = rng.choice(["berlin", "lyon", "oslo"], n, p=[0.5, 0.3, 0.2]).astype(object)
    city[:3] = "vaduz"  # a rare category
    income = np.round(rng.lognormal(10, 0.5, n), 2)
    income[(city == "oslo") & (rng.random(n) < 0.5)] = np.nan
    joined = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="D")
    df = pd.DataFrame({"customer": [f"C-{i:05d}" for i in range(n)], "city": city, "income": income,
                       "joined": joined, "row": np.arange(100, 100 + n)})
    path = tmp_path_factory.mktemp("mixed") / "mixed.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)
    return path, df


@pytest.mark.parametrize("generator", ["copula", "bayesnet"])
def test_keys_rare_categories_datetimes_and_missing_survive(mixed, registry, generator):
    path, df = mixed
    out = medmgen.generate(spec(path, generator, records=6000), registry=registry).table("people")
    assert pa.types.is_timestamp(out.schema.field("joined").type)
    syn = out.to_pandas()
    assert syn["customer"].is_unique and syn["row"].is_unique
    assert syn["customer"].str.startswith("C-").all()
    assert "vaduz" in set(syn["city"])
    assert set(syn["city"]) <= set(df["city"])
    assert syn["joined"].between(df["joined"].min(), df["joined"].max()).all()
    real_missing = df["income"].isna().mean()
    assert abs(syn["income"].isna().mean() - real_missing) < 0.03
    # missingness keeps its dependence on the city (the copula only its direction: it is rank-based)
    oslo = syn.loc[syn["city"] == "oslo", "income"].isna().mean()
    berlin = syn.loc[syn["city"] == "berlin", "income"].isna().mean()
    assert oslo > berlin + 0.05
    if generator == "bayesnet":
        assert oslo > 0.4 and berlin < 0.02


def test_fit_block_round_trips(mixed, registry):
    from medmgen_tabular.generator import CopulaGenerator

    path, df = mixed
    block = CopulaGenerator.fit_block(path)
    ds = medmgen.generate({"dataset": {"seed": 1}, "blocks": {"people": block}}, registry=registry)
    assert ds.table("people").num_rows == len(df)


def test_evaluate_against_a_real_file(adult_parts, registry, tmp_path, capsys, monkeypatch):
    import json

    from medmgen.cli import main as cli

    path, _, _ = adult_parts
    medmgen.generate(spec(path, "copula"), out=tmp_path / "pkg", registry=registry)
    monkeypatch.setenv("MEDMGEN_PLUGINS", "tabular")
    assert cli(["evaluate", str(tmp_path / "pkg"), "--against", str(path), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)["metrics"]["tabular_fidelity"]
    generated = json.loads((tmp_path / "pkg" / "report.json").read_text())["metrics"]["tabular_fidelity"]
    assert metrics == generated


def edge_tables() -> dict[str, pa.Table]:
    import datetime as dt

    n = 200
    return {
        "only_id": pa.table({"id": np.arange(n)}),
        "constant": pa.table({"c": np.zeros(n), "a": np.arange(n) % 4}),
        "types": pa.table({
            "b": pa.array([True, False, None, True] * 50),
            "d": pa.array([dt.date(2020, 1, 1 + i % 28) for i in range(n)]),
            "tz": pa.array(pd.date_range("2021-01-01", periods=n, freq="h", tz="UTC")),
            "i": pa.array([None if i % 7 == 0 else i % 5 for i in range(n)], pa.int64()),
        }),
    }


@pytest.mark.parametrize("generator", ["copula", "bayesnet", "independent"])
@pytest.mark.parametrize("case", ["only_id", "constant", "types"])
def test_column_types_and_degenerate_tables_keep_their_schema(tmp_path, registry, generator, case):
    table = edge_tables()[case]
    src = tmp_path / f"{case}.parquet"
    pq.write_table(table, src)
    out = medmgen.generate(spec(src, generator, records=50), registry=registry).table("people")
    assert out.schema == table.schema and out.num_rows == 50
    for name in table.column_names:
        real = set(table.column(name).to_pylist())
        if case != "only_id":
            assert set(out.column(name).to_pylist()) <= real


def test_a_one_row_source_is_one_input_error(tmp_path, registry):
    (tmp_path / "one.csv").write_text("a,b\n1,2\n")
    spec = {"blocks": {"t": {"modality": "tabular", "source": str(tmp_path / "one.csv")}}}
    with pytest.raises(medmgen.errors.InputError, match="too few rows to fit") as err:
        medmgen.generate(spec, registry=registry, out=tmp_path / "never")
    assert err.value.problems[0].got == "1 rows" and not (tmp_path / "never").exists()


def test_fit_writes_the_source_relative_to_the_spec_it_writes(tmp_path, monkeypatch):
    rows = "\n".join(f"{i % 7},{'xyz'[i % 3]}" for i in range(200))
    (tmp_path / "src.csv").write_text("a,b\n" + rows + "\n")
    (tmp_path / "specs").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["-q", "fit", "tabular", "src.csv", "-o", "specs/fitted.toml"]) == 0
    assert 'source = "../src.csv"' in (tmp_path / "specs" / "fitted.toml").read_text()
    assert main(["-q", "validate", "specs/fitted.toml"]) == 0


def test_evaluate_against_an_spmf_file_skips_the_tables_of_a_hybrid_package(tmp_path, capsys):
    """--against names a transaction database: the tabular block is judged against nothing (it
    has no source) instead of failing on an unknown table format, and the transaction block is."""
    spec = {"dataset": {"seed": 1}, "blocks": {
        "shop": {"modality": "transaction", "records": 2000, "items": 100,
                 "itemsets": [{"items": [2, 9], "support": 0.05}]},
        "people": {"modality": "tabular", "generator": "planted", "records": 300}}}
    medmgen.generate(spec, out=tmp_path / "pkg")
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "pkg"), "--against", str(tmp_path / "pkg" / "data" / "shop.txt"),
                 "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)["metrics"]
    assert metrics["transaction_fit"]["shop.item_tvd"] == 0.0
