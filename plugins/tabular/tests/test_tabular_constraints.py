"""Constraints and repair: 100% compliance, per-constraint counts, third-party repairers, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import medmgen
import medmgen.builtins
import medmgen_tabular.plugin
from medmgen import hookimpl
from medmgen.cli import main as cli
from medmgen.errors import InputError
from medmgen.interfaces import Repairer, RepairReport
from medmgen.plugins import load_registry


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    rng = np.random.default_rng(8)
    n = 2000
    a = rng.integers(0, 50, n)
    b = a + rng.integers(1, 20, n)
    grp = rng.choice(["x", "y", "z"], n)
    kind = np.where(grp == "x", rng.choice(["p", "q"], n), "r")  # (x, r), (y, p), ... never occur
    flag = rng.choice(["on", "off"], n).astype(object)
    flag[rng.random(n) < 0.2] = None
    df = pd.DataFrame({"id": np.arange(1, n + 1), "a": a, "b": b, "total": a + b, "grp": grp, "kind": kind,
                       "code": rng.integers(0, 5000, n), "flag": flag})
    path = tmp_path_factory.mktemp("src") / "source.csv"
    df.to_csv(path, index=False)
    return path, df


CONSTRAINTS = [
    {"kind": "range", "column": "a", "low": 5, "high": 40},
    {"kind": "inequality", "left": "a", "right": "b"},
    {"kind": "formula", "column": "total", "expression": "a + b"},
    {"kind": "unique", "column": "code"},
    {"kind": "not_null", "column": "flag"},
    {"kind": "allowed_values", "column": "grp", "values": ["x", "y"]},
    {"kind": "fixed_combinations", "columns": ["grp", "kind"]},
]


def spec(path, constraints, generator="copula", **extra) -> dict:
    block = {"modality": "tabular", "generator": generator, "source": str(path), "constraints": constraints,
             **extra}
    return {"dataset": {"seed": 2}, "blocks": {"t": block}}


def compliant(df: pd.DataFrame, real: pd.DataFrame) -> dict[str, bool]:
    """Each constraint checked with pandas, independently of the plugin."""
    combos = set(zip(real["grp"], real["kind"]))
    return {
        "range": bool(df["a"].between(5, 40).all()),
        "inequality": bool((df["a"] < df["b"]).all()),
        "formula": bool((df["total"] == df["a"] + df["b"]).all()),
        "unique": bool(df["code"].is_unique),
        "not_null": bool(df["flag"].notna().all()),
        "allowed_values": bool(df["grp"].isin(["x", "y"]).all()),
        "fixed_combinations": all(c in combos for c in zip(df["grp"], df["kind"])),
    }


@pytest.mark.parametrize("generator", ["copula", "bayesnet", "independent"])
def test_every_row_complies_and_the_report_counts(source, registry, generator):
    path, real = source
    with pytest.warns(UserWarning, match="source rows violate"):
        ds = medmgen.generate(spec(path, CONSTRAINTS, generator, records=3000), registry=registry)
    out = ds.to_pandas("t")
    assert len(out) == 3000
    assert all(compliant(out, real).values()), compliant(out, real)
    assert out["id"].is_unique
    metrics = ds.report["metrics"]["blocks"]["t"]
    expected_source = [int((~real["a"].between(5, 40)).sum()), 0, 0, int(real["code"].duplicated().sum()),
                       int(real["flag"].isna().sum()), int((real["grp"] == "z").sum()), 0]
    assert metrics["source_violations"] == expected_source
    (report,) = metrics["repairs"]
    stats = report["details"]["constraints"]
    assert [s["kind"] for s in stats] == [c["kind"] for c in CONSTRAINTS]
    by_kind = {s["kind"]: s for s in stats}
    assert by_kind["formula"]["violations"] > 0 and by_kind["formula"]["repaired"] > 0
    assert by_kind["not_null"]["violations"] > 0 and by_kind["not_null"]["repaired"] > 0
    assert by_kind["allowed_values"]["violations"] > 0
    assert report["rejected"] >= by_kind["inequality"]["rejected"] >= 0
    assert report["violations"] > 0 and report["checked"] == 3000


def test_reject_regenerates_from_the_model(source, registry):
    path, real = source
    ds = medmgen.generate(spec(path, [CONSTRAINTS[1]], "independent"), registry=registry)
    out = ds.to_pandas("t")
    (report,) = ds.report["metrics"]["blocks"]["t"]["repairs"]
    assert report["rejected"] > 100  # independent a and b break a < b often
    assert (out["a"] < out["b"]).all()
    assert out["id"].is_unique and len(out) == len(real)


class EvenCodes(Repairer):
    """A third party's custom constraint: ``code`` must be even."""

    name = "even_codes"
    modalities = ("tabular",)

    def repair(self, block, result, ctx):
        import attrs
        import pyarrow as pa

        table = result.data.table
        code = table.column("code").to_numpy()
        odd = code % 2 == 1
        fixed = table.set_column(table.column_names.index("code"), "code", pa.array(code - odd))
        report = RepairReport(repairer=self.name, checked=len(code), violations=int(odd.sum()),
                              repaired=int(odd.sum()))
        return attrs.evolve(result, data=attrs.evolve(result.data, table=fixed)), report


class ThirdParty:
    @hookimpl
    def medmgen_repairers(self):
        return [EvenCodes]


def test_a_third_party_repairer_runs_on_tabular_blocks(source):
    path, _ = source
    reg = load_registry(entry_points=False, extra=[("core", medmgen.builtins), ("tabular", medmgen_tabular.plugin),
                                                   ("even", ThirdParty())])
    ds = medmgen.generate(spec(path, []), registry=reg)
    assert (ds.to_pandas("t")["code"] % 2 == 0).all()
    reports = {r["repairer"]: r for r in ds.report["metrics"]["blocks"]["t"]["repairs"]}
    assert reports["even_codes"]["violations"] > 0


def test_unknown_columns_are_all_reported_and_nothing_is_written(source, registry, tmp_path):
    path, _ = source
    bad = [{"kind": "range", "column": "nope", "low": 0}, {"kind": "inequality", "left": "a", "right": "zz"}]
    with pytest.raises(InputError) as err:
        medmgen.generate(spec(path, bad, target="missing"), out=tmp_path / "out", registry=registry)
    paths = {p.path for p in err.value.problems}
    assert paths == {"blocks.t.constraints[0].column", "blocks.t.constraints[1].right", "blocks.t.target"}
    assert not (tmp_path / "out").exists()


def test_impossible_constraints_are_spec_errors(source, registry):
    path, _ = source
    bad = [{"kind": "range", "column": "a", "low": 9, "high": 3}, {"kind": "inequality", "left": "a", "right": "a"},
           {"kind": "allowed_values", "column": "grp", "values": []},
           {"kind": "formula", "column": "total", "expression": "total + 1"},
           {"kind": "unique", "column": "a", "action": "clip"}, {"kind": "sorted", "column": "a"}]
    with pytest.raises(InputError) as err:
        medmgen.generate(spec(path, bad), registry=registry)
    paths = {p.path for p in err.value.problems}
    assert {"blocks.t.constraints[0].high", "blocks.t.constraints[1].right", "blocks.t.constraints[2].values",
            "blocks.t.constraints[3].expression", "blocks.t.constraints[4].action",
            "blocks.t.constraints[5].kind"} <= paths


def test_a_constraint_no_row_can_meet_is_an_input_error(tmp_path, registry):
    src = tmp_path / "s.csv"
    pd.DataFrame({"a": np.arange(100) % 7 + 10, "b": np.arange(100) % 5}).to_csv(src, index=False)
    with pytest.raises(InputError, match="can never be met"):
        medmgen.generate(spec(src, [{"kind": "inequality", "left": "a", "right": "b"}]), registry=registry,
                         out=tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_ragged_csv_names_the_line_and_the_cli_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MEDMGEN_PLUGINS", "tabular")
    src = tmp_path / "ragged.csv"
    src.write_text("a,b,c\n1,2,3\n4,5,6\n7,8\n")
    spec_file = tmp_path / "s.toml"
    spec_file.write_text(f'[blocks.t]\nmodality = "tabular"\nsource = "{src.name}"\n')
    assert cli(["generate", str(spec_file), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "ragged.csv:line 4" in err and "expected 3 fields" in err
    assert not (tmp_path / "out").exists()


def test_unreadable_source(tmp_path, registry):
    src = tmp_path / "bin.parquet"
    src.write_bytes(b"\x00not parquet")
    with pytest.raises(InputError, match="cannot read"):
        medmgen.generate(spec(src, []), registry=registry)


def test_huge_text_column_warns_and_becomes_an_identifier(tmp_path, registry):
    rng = np.random.default_rng(1)
    n = 4000
    src = tmp_path / "h.csv"
    pd.DataFrame({"session": [f"s{v}" for v in rng.integers(0, 3000, n)], "x": rng.integers(0, 3, n)}).to_csv(
        src, index=False)
    with pytest.warns(UserWarning, match="'session' has .* distinct values .* treated as an identifier") as seen:
        ds = medmgen.generate(spec(src, [], max_levels=1000), registry=registry)
    assert sum("'session' has" in str(w.message) for w in seen) == 1  # once, though the evaluator reads it again
    out = ds.to_pandas("t")
    assert out["session"].is_unique and ds.report["metrics"]["blocks"]["t"]["identifiers"] == ["session"]


@pytest.mark.parametrize(("text", "terms"), [
    ("a + b", [("a", 1.0), ("b", 1.0)]),
    ("capital-gain - capital-loss + 2.5", [("capital-gain", 1.0), ("capital-loss", -1.0), ("", 2.5)]),
    ("-x", [("x", -1.0)]),
])
def test_formula_expressions_parse(text, terms):
    from medmgen_tabular.expression import parse_expression

    assert parse_expression(text) == (terms, "")


@pytest.mark.parametrize("text", ["a b", "a + * b", "", "a +"])
def test_bad_formula_expressions_are_reported(text):
    from medmgen_tabular.expression import parse_expression

    got, error = parse_expression(text)
    assert got == [] and error


def test_csv_on_request_matches_the_parquet(source, registry, tmp_path):
    path, _ = source
    ds = medmgen.generate(spec(path, [], csv=True), out=tmp_path / "o", registry=registry)
    from_csv = pd.read_csv(tmp_path / "o" / "data" / "t.csv")
    pd.testing.assert_frame_equal(from_csv, ds.to_pandas("t"), check_dtype=False)


def test_missing_values_break_only_not_null():
    import pyarrow as pa

    from medmgen_tabular.constraints import violations
    from medmgen_tabular.spec import Constraint

    t = pa.table({"a": pa.array([1, None, None, 3]), "b": pa.array([2, 5, None, 1]), "g": ["x", None, "y", "x"]})
    ref = pa.table({"a": [1, 3], "g": ["x", "x"]})
    cases = [
        (Constraint(kind="range", column="a", low=2), [True, False, False, False]),
        (Constraint(kind="inequality", left="a", right="b"), [False, False, False, True]),
        (Constraint(kind="unique", column="a"), [False, False, False, False]),
        (Constraint(kind="allowed_values", column="g", values=["x"]), [False, False, True, False]),
        (Constraint(kind="fixed_combinations", columns=["a", "g"]), [False, False, False, False]),
        (Constraint(kind="formula", column="b", expression="a + 1"), [False, False, False, True]),
        (Constraint(kind="not_null", column="a"), [False, True, True, False]),
    ]
    for c, expected in cases:
        assert violations(t, c, ref).tolist() == expected, c.kind


def test_not_null_on_an_empty_column_is_an_input_error(tmp_path, registry):
    src = tmp_path / "n.csv"
    src.write_text("a,b\n" + "".join(f"{i % 3},\n" for i in range(60)))
    with pytest.raises(InputError, match="not_null on 'b' can never be met") as err:
        medmgen.generate(spec(src, [{"kind": "not_null", "column": "b"}]), registry=registry)
    assert err.value.problems[0].path == "blocks.t.constraints[0]"
