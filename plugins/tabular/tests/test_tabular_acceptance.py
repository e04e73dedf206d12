"""Defects of issue 7's acceptance test: unmeetable constraints, rare combinations, metric names, identifier
shape and exact anomaly totals."""

from __future__ import annotations

import collections

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import medmgen
import medmgen.builtins
from medmgen.cli import main as cli
from medmgen.errors import InputError
from medmgen_tabular.constraints import redraw_combinations, violations
from medmgen_tabular.io import id_shape
from medmgen_tabular.planted import exact_counts
from medmgen_tabular.spec import Constraint


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """200 rows: integer ``a`` in 0..9, float ``b``, text ``c`` in x/y/z."""
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"a": rng.integers(0, 10, 200), "b": rng.normal(size=200),
                       "c": rng.choice(["x", "y", "z"], 200)})
    path = tmp_path_factory.mktemp("small") / "ok200.csv"
    df.to_csv(path, index=False)
    return path


def spec(path, constraints, generator="copula", **extra) -> dict:
    block = {"modality": "tabular", "generator": generator, "source": str(path), "constraints": constraints,
             **extra}
    return {"dataset": {"seed": 2}, "blocks": {"t": block}}


def run_cli(tmp_path, source, constraint: str) -> int:
    spec_file = tmp_path / "s.toml"
    spec_file.write_text(f'[blocks.t]\nmodality = "tabular"\nsource = "{source}"\n'
                         f"[[blocks.t.constraints]]\n{constraint}\n")
    return cli(["generate", str(spec_file), "-o", str(tmp_path / "out")])


@pytest.mark.parametrize(("constraint", "message"), [
    ('kind = "range"\ncolumn = "a"\nlow = 100\nhigh = 200\naction = "resample"',
     "range with action 'resample' can never be met: no source value of 'a' lies in [100, 200]"),
    ('kind = "range"\ncolumn = "a"\nlow = 100\naction = "reject"', "range with action 'reject' can never be met"),
    ('kind = "allowed_values"\ncolumn = "c"\nvalues = ["q"]',
     "allowed_values on 'c' can never be met: none of the allowed values occurs in the source"),
    ('kind = "inequality"\nleft = "a"\nright = "a2"', "inequality can never be met"),
    ('kind = "range"\ncolumn = "a"\nlow = 1.2\nhigh = 1.8', "integer column 'a' has no value in the range"),
    ('kind = "range"\ncolumn = "c"\nlow = 1', "range needs numeric or datetime columns"),  # was a ValueError
    ('kind = "formula"\ncolumn = "b"\nexpression = "a + c"', "formula needs numeric or datetime columns"),
])
def test_a_constraint_the_source_can_never_meet_is_one_error_and_nothing_on_disk(tmp_path, small, capsys,
                                                                                 constraint, message):
    df = pd.read_csv(small)
    df["a2"] = df["a"] - 10  # never above a
    source = tmp_path / "src.csv"
    df.to_csv(source, index=False)
    assert run_cli(tmp_path, source.name, constraint) == 2
    err = capsys.readouterr().err
    assert "s.toml:blocks.t.constraints[0]" in err and message in err and err.count("\n") == 1
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_resample_counts_what_it_did_and_draws_compliant_source_values(small, registry):
    # few source values lie in 8..9, so most chunks' rows get resampled values; never clipped
    c = {"kind": "range", "column": "a", "low": 8, "high": 9, "action": "resample"}
    ds = medmgen.generate(spec(small, [c], records=3000), registry=registry)
    a = ds.to_pandas("t")["a"]
    assert a.between(8, 9).all() and set(a) == {8, 9}
    (stats,) = ds.report["metrics"]["blocks"]["t"]["repairs"][0]["details"]["constraints"]
    assert stats["resampled"] == stats["repaired"] == stats["violations"] > 2000 and stats["clipped"] == 0


def test_resample_without_any_compliant_value_clips_and_says_so(registry):
    # a planted block has no source: x0 (standard normal) never reaches 100, so the range falls back to clip
    c = {"kind": "range", "column": "x0", "low": 100, "action": "resample"}
    block = {"modality": "tabular", "generator": "planted", "records": 500, "numeric": 2, "constraints": [c]}
    ds = medmgen.generate({"dataset": {"seed": 1}, "blocks": {"p": block}}, registry=registry)
    assert (ds.to_pandas("p")["x0"] == 100).all()
    (stats,) = ds.report["metrics"]["blocks"]["p"]["repairs"][0]["details"]["constraints"]
    assert stats["action"] == "resample" and stats["clipped"] == stats["repaired"] == 500
    assert stats["resampled"] == 0


def test_planted_allowed_values_it_never_draws_is_an_input_error(registry):
    c = {"kind": "allowed_values", "column": "c0", "values": [7]}
    block = {"modality": "tabular", "generator": "planted", "records": 500, "numeric": 1, "categorical": [3],
             "constraints": [c]}
    with pytest.raises(InputError, match="allowed_values on 'c0' can never be met") as err:
        medmgen.generate({"dataset": {"seed": 1}, "blocks": {"p": block}}, registry=registry)
    assert err.value.problems[0].path == "blocks.p.constraints[0]"


def _combo_source(n: int = 3000) -> pd.DataFrame:
    """Cities with one country each; Brest (16 rows) is the only city of FR-W."""
    rng = np.random.default_rng(5)
    city = rng.choice(["Paris", "Lyon", "Nice"], n, p=[0.5, 0.3, 0.2]).astype(object)
    city[rng.choice(n, 16, replace=False)] = "Brest"
    country = np.where(city == "Brest", "FR-W", np.where(city == "Nice", "FR-S", "FR"))
    return pd.DataFrame({"city": city, "country": country, "a": rng.integers(0, 100, n),
                         "x": rng.normal(size=n) + (city == "Paris")})


@pytest.mark.parametrize("generator", ["independent", "copula"])
def test_fixed_combinations_keep_a_rare_category(tmp_path, registry, generator):
    path = tmp_path / "shop.csv"
    _combo_source().to_csv(path, index=False)
    fixed = [{"kind": "fixed_combinations", "columns": ["country", "city"]}]
    model = medmgen.generate(spec(path, [], generator, records=6000), registry=registry).to_pandas("t")
    ds = medmgen.generate(spec(path, fixed, generator, records=6000), registry=registry)
    out = ds.to_pandas("t")
    brest = out[out["city"] == "Brest"]
    # the repair keeps every row's city (the most varied column) and redraws its country: no Brest row is lost
    assert len(brest) == (model["city"] == "Brest").sum() > 10
    assert set(brest["country"]) == {"FR-W"} and (out["country"] == "FR-W").sum() == len(brest)
    (stats,) = ds.report["metrics"]["blocks"]["t"]["repairs"][0]["details"]["constraints"]
    assert stats["action"] == "resample" and stats["resampled"] == stats["violations"] > 0
    assert stats["rejected"] == 0


def test_redraw_follows_the_source_combinations_in_proportion():
    ref = pa.table({"city": ["A"] * 300 + ["A"] * 100 + ["B"] * 50 + ["C"] * 50 + ["D"] * 1,
                    "country": ["X"] * 300 + ["Y"] * 100 + ["Z"] * 50 + ["Z"] * 50 + ["Y"] * 1})
    c = Constraint(kind="fixed_combinations", columns=["city", "country"])
    n = 4000
    table = pa.table({"city": ["A"] * n + ["E"] * n, "country": ["Z"] * (2 * n), "v": np.arange(2 * n)})
    bad = violations(table, c, ref)
    assert bad.all()
    out = redraw_combinations(table, c, bad, np.random.default_rng(0), ref).to_pandas()
    assert not violations(pa.Table.from_pandas(out), c, ref).any()
    assert out["v"].tolist() == list(range(2 * n))  # other columns untouched
    kept = out.iloc[:n]
    assert (kept["city"] == "A").all()  # city ties country on 4 levels: the first listed is kept
    assert (kept["country"] == "X").mean() == pytest.approx(0.75, abs=0.03)
    whole = out.iloc[n:]  # E never occurs in the source: whole combinations in source proportion
    shares = whole.value_counts(["city", "country"], normalize=True)
    assert shares[("A", "X")] == pytest.approx(300 / 501, abs=0.03)
    assert shares[("B", "Z")] == pytest.approx(50 / 501, abs=0.02)


def test_block_tvd_before_repair_is_named_so(small, registry):
    ds = medmgen.generate(spec(small, [{"kind": "range", "column": "a", "low": 2, "high": 5}]), registry=registry)
    block = ds.report["metrics"]["blocks"]["t"]
    assert "tvd_2way_mean" not in block and "model_tvd_2way_mean_before_repair" in block
    after = ds.report["metrics"]["tabular_fidelity"]["t.tvd_2way_mean"]
    assert after != block["model_tvd_2way_mean_before_repair"]  # clipping moved a's mass onto 2 and 5
    plain = medmgen.generate(spec(small, []), registry=registry).report["metrics"]
    assert plain["blocks"]["t"]["tvd_2way_mean"] == plain["tabular_fidelity"]["t.tvd_2way_mean"]


def test_identifiers_keep_the_source_prefix_width_and_first_number(tmp_path, registry):
    df = pd.DataFrame({"code": [f"ORD-{i:06d}" for i in range(300)], "v": np.arange(300) % 7})
    path = tmp_path / "ids.csv"
    df.to_csv(path, index=False)
    out = medmgen.generate(spec(path, [], records=500), registry=registry).to_pandas("t")
    assert out["code"].tolist() == [f"ORD-{i:06d}" for i in range(500)]


def test_id_shape():
    assert id_shape(pa.array(["ORD-000007", "ORD-000100"]), 5) == ("ORD-", 7, 6)
    assert id_shape(pa.array(["u1", "u2", "u10"]), 5) == ("u", 1, 1)  # not zero-padded
    assert id_shape(pa.array(["A1", "B2"]), 5000) == ("", 1, 4)  # no common prefix + digits: numbered from 1
    assert id_shape(pa.array(["key-a", "key-b"]), 50) == ("key-", 1, 2)


def test_anomaly_total_is_exact_with_collective_groups(registry):
    anomalies = {"rate": 0.02, "types": ["global", "contextual", "collective"], "group_size": 10}
    block = {"modality": "tabular", "generator": "planted", "records": 20000, "numeric": 4, "categorical": [3],
             "anomalies": anomalies}
    ds = medmgen.generate({"dataset": {"seed": 3}, "blocks": {"p": block}}, registry=registry)
    rows: collections.Counter[str] = collections.Counter()
    everyone: set[int] = set()
    groups = []
    for p in ds.ledger.patterns:
        if p.kind == "anomaly":
            rows[p.anomaly] += len(p.rows)
            everyone |= set(p.rows)
            if p.anomaly == "collective":
                groups.append(len(p.rows))
    assert len(everyone) == sum(rows.values()) == 400
    assert [rows[t] for t in anomalies["types"]] == exact_counts([1 / 3] * 3, 400).tolist() == [134, 133, 133]
    assert len(groups) == 13 and set(groups) == {10, 11}
