"""Class rebalancing: ``class_targets`` steered by the core's feedback controller."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import f1_score

import medmgen
import medmgen.builtins
from medmgen.errors import InputError


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A real-looking table whose class ``y`` (about 20% positive) depends on ``x`` and ``g``."""
    rng = np.random.default_rng(11)
    n = 3000
    x = rng.normal(size=n)
    g = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    y = (x + (g == "c") + 0.5 * rng.normal(size=n) > 1.2).astype(int)
    df = pd.DataFrame({"x": np.round(x, 2), "g": g, "y": y})
    path = tmp_path_factory.mktemp("src") / "classes.csv"
    df.to_csv(path, index=False)
    return path, df


def spec(path, targets, generator="copula", **extra) -> dict:
    block = {"modality": "tabular", "generator": generator, "source": str(path), "target": "y",
             "class_targets": targets, **extra}
    return {"dataset": {"seed": 5}, "blocks": {"t": block}}


@pytest.mark.parametrize("generator", ["copula", "bayesnet"])
def test_the_loop_takes_more_than_one_pass_and_converges(source, registry, generator):
    path, real = source
    tight = spec(path, [{"value": 1, "share": 0.45}], generator)
    tight |= {"thresholds": {"max_class_share_deviation": 0.002}, "feedback": {"gain": 0.5, "max_iterations": 12}}
    ds = medmgen.generate(tight, registry=registry)
    iterations = ds.report["iterations"]
    assert len(iterations) > 1
    assert not iterations[0]["held"] and iterations[-1]["held"]
    limit = ds.spec.thresholds["max_class_share_deviation"]
    out = ds.to_pandas("t")
    share = float((out["y"] == 1).mean())  # counted here with pandas, independently of the plugin
    assert abs(share - 0.45) <= limit
    assert abs(float((real["y"] == 1).mean()) - 0.45) > 0.1  # the source was far from the target
    (p,) = [p for p in ds.ledger.patterns if p.kind == "class_share"]
    assert p.realized_share == pytest.approx(share) and p.rows == int((out["y"] == 1).sum())
    assert p.status == "kept"
    assert ds.report["metrics"]["spec_error"]["max_class_share_deviation"] <= limit


def test_rebalanced_data_keeps_the_class_relation(source, registry):
    """A classifier trained on the rebalanced synthetic rows still predicts the real class (TSTR)."""
    path, real = source
    ds = medmgen.generate(spec(path, [{"value": 0, "share": 0.5}, {"value": 1, "share": 0.5}]), registry=registry)
    out = ds.to_pandas("t")
    assert abs(float((out["y"] == 1).mean()) - 0.5) <= ds.spec.thresholds["max_class_share_deviation"]
    features = lambda df: pd.get_dummies(df[["x", "g"]], columns=["g"]).astype(float)  # noqa: E731
    model = HistGradientBoostingClassifier(random_state=0).fit(features(out), out["y"])
    assert f1_score(real["y"], model.predict(features(real))) > 0.5


def test_same_seed_same_bytes(source, registry, tmp_path):
    path, _ = source
    digests = []
    for k in (1, 2):
        medmgen.generate(spec(path, [{"value": 1, "share": 0.3}], records=5000, chunk_rows=1024),
                         out=tmp_path / str(k), registry=registry, workers=k)
        digests.append(hashlib.sha256((tmp_path / str(k) / "data" / "t.parquet").read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_class_shares_after_constraint_repair_are_counted_again(source, registry):
    path, _ = source
    with pytest.warns(UserWarning, match="source rows violate"):
        ds = medmgen.generate(spec(path, [{"value": 1, "share": 0.4}],
                                   constraints=[{"kind": "range", "column": "x", "low": -1.5, "action": "reject"}]),
                              registry=registry)
    out = ds.to_pandas("t")
    assert (out["x"] >= -1.5).all()
    (p,) = [p for p in ds.ledger.patterns if p.kind == "class_share"]
    assert p.realized_share == pytest.approx(float((out["y"] == 1).mean()))
    assert abs(p.realized_share - 0.4) <= ds.spec.thresholds["max_class_share_deviation"]


def test_bad_class_targets_are_all_reported(source, registry, tmp_path):
    path, _ = source
    with pytest.raises(InputError) as err:
        medmgen.generate(spec(path, [{"value": 1, "share": 0.7}, {"value": 1, "share": 0.6}]), registry=registry)
    assert {p.path for p in err.value.problems} == {"blocks.t.class_targets[1].value", "blocks.t.class_targets"}
    with pytest.raises(InputError) as err:
        medmgen.generate(spec(path, [{"value": 7, "share": 0.2}]), registry=registry, out=tmp_path / "o")
    assert [p.path for p in err.value.problems] == ["blocks.t.class_targets[0].value"]
    assert not (tmp_path / "o").exists()
    no_target = spec(path, [{"value": 1, "share": 0.2}])
    del no_target["blocks"]["t"]["target"]
    with pytest.raises(InputError) as err:
        medmgen.generate(no_target, registry=registry)
    assert [p.path for p in err.value.problems] == ["blocks.t.target"]


def test_errors_found_while_generating_name_the_spec_file(source, tmp_path, capsys, monkeypatch):
    from medmgen.cli import main as cli

    monkeypatch.setenv("MEDMGEN_PLUGINS", "tabular")
    path, _ = source
    spec_file = tmp_path / "balance.toml"
    spec_file.write_text(f'[blocks.t]\nmodality = "tabular"\nsource = "{path}"\ntarget = "y"\n'
                         '[[blocks.t.class_targets]]\nvalue = "yes"\nshare = 0.5\n')
    assert cli(["generate", str(spec_file), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "balance.toml:blocks.t.class_targets[0].value" in err and "not a value of the target" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["copula", "tree"])
def test_level_weights_set_the_sampled_class_frequencies(kind):
    """Reweighting a column (also one whose levels the copula re-ranked) draws it with those probabilities."""
    import pyarrow as pa

    from medmgen_tabular import model
    from medmgen_tabular.io import encode

    rng = np.random.default_rng(2)
    n = 4000
    x = rng.normal(size=n)
    g = np.where(x > 0.8, 1, np.where(x < -0.5, 2, 0))  # by x the levels run 2, 0, 1: the copula re-ranks them
    cols = encode(pa.table({"x": np.round(x, 1), "g": g, "h": rng.integers(0, 3, n)}), 100_000, "t")
    j = 1
    fitted = model.fit_copula(cols, reorder_levels=20) if kind == "copula" else model.fit_tree(cols, 100, target=j)
    if kind == "copula":
        assert fitted.perms[j].tolist() in ([2, 0, 1], [1, 0, 2])
    weights = np.array([0.2, 0.1, 0.7])
    state = np.array([12345], dtype=np.uint64)
    codes = model.with_level_weights(fitted, j, weights).sample(state, 20_000)
    freq = np.bincount(codes[:, j], minlength=3) / len(codes)
    assert freq == pytest.approx(weights, abs=0.015)
