"""The evaluators read synthetic tables in batches: same numbers as whole tables, whatever the batch size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import medmgen.builtins
import medmgen_metrics.plugin
from medmgen.interfaces import Evaluation
from medmgen.pipeline import evaluate_all, run
from medmgen.plugins import load_registry
from medmgen.spec import load_spec
from medmgen_metrics import fidelity, privacy, utility
from medmgen_metrics.spec import EvaluationSection
from medmgen_metrics.synthetic import Synthetic
from medmgen_metrics.tables import make_pair, sample, sample_plan

CFG = EvaluationSection(max_rows=600, mmd_rows=200, attacks=100)
ADULT = Path(__file__).resolve().parents[4] / "shared" / "data" / "adult" / "adult.csv.gz"


def mixed(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, n)
    c = rng.choice(["a", "b", "c"], n).astype(object)
    c[rng.random(n) < 0.05] = None
    return pd.DataFrame({"x": x, "y": 2 * x + rng.normal(0, 0.5, n), "c": c, "k": rng.integers(0, 4, n),
                         "t": rng.integers(0, 2, n)})


def batched(frame: pd.DataFrame, size: int) -> Synthetic:
    """``frame`` read ``size`` rows at a time (index reset per batch, as Arrow batches arrive)."""
    return Synthetic(len(frame), lambda cols: (frame.iloc[i:i + size].reset_index(drop=True)
                                          for i in range(0, len(frame), size)), list(frame.columns))


@pytest.fixture(scope="module")
def tables():
    real = mixed(3000, 1)
    synth = pd.concat([mixed(4000, 2), real.iloc[:150]], ignore_index=True)  # 150 exact copies of real rows
    return real, synth


def test_scan_keeps_the_rows_whole_table_sampling_picks(tables):
    _, synth = tables
    pair = make_pair(tables[0], batched(synth, 333), None, CFG)
    for n, stream in sample_plan(CFG):
        want = sample(synth, n, pair.rng(stream))
        got = pair.sample(n, stream)
        assert got.index.tolist() == want.index.tolist() and got.equals(want)


def test_batched_tally_matches_whole_array_twins(tables):
    real, synth = tables
    pair = make_pair(real, batched(synth, 700), None, CFG)
    whole = make_pair(real, synth, None, CFG)
    assert [(c.name, c.categorical, c.text, len(c.values)) for c in pair.columns] == \
        [(c.name, c.categorical, c.text, len(c.values)) for c in whole.columns]
    tally = pair.tally()
    codes = pair.codes(synth)
    levels = [c.levels for c in pair.columns]
    for i, k in enumerate(levels):
        assert np.array_equal(tally.ones[i], np.bincount(codes[:, i], minlength=k))
    twin = fidelity.tvd_2way(pair.codes(real), codes, levels)
    rt = pair.tally(real)
    assert {p: fidelity.tvd_pair(rt, tally, *p) for p in twin} == pytest.approx(twin, abs=1e-12)
    np.testing.assert_allclose(tally.association(), fidelity.association_matrix(pair, synth), atol=1e-9)
    hashes = pair.row_hashes(synth)
    train = pair.row_hashes(pair.train)
    assert tally.copy_count(train) == int(np.isin(hashes, train).sum()) >= 100
    probe = pair.row_hashes(real.iloc[140:160])
    assert tally.copied(probe).tolist() == np.isin(probe, hashes).tolist() == [True] * 10 + [False] * 10


@pytest.mark.parametrize("n", [3_000, 30_000])
def test_ks_from_counts_equals_scipy(n):
    rng = np.random.default_rng(n)
    real = rng.integers(0, 40, 5_000).astype(float)
    synth = np.round(rng.normal(20, 8, n))
    values, counts = np.unique(synth, return_counts=True)
    ks = stats.ks_2samp(real, synth)
    assert fidelity.ks_counts(real, values, counts) == (float(ks.statistic), float(ks.pvalue))


def test_block_metrics_do_not_depend_on_the_batch_size(tables):
    real, synth = tables
    cfg = EvaluationSection(max_rows=600, mmd_rows=200, attacks=100, holdout_fraction=0.3)
    results = []
    for source in (synth, batched(synth, 1000), batched(synth, 97)):
        pair = make_pair(real, source, None, cfg, target="t")
        fid, _ = fidelity.block_metrics(pair)
        priv, extra = privacy.block_metrics(pair)
        results.append((fid, priv, utility.block_metrics(pair), extra["records"]["exact_copy"].tolist()))
    assert results[0] == results[1] == results[2]
    assert results[0][1]["exact_copy_rate"] > 0


def test_a_streamed_block_is_evaluated_without_being_materialised(tmp_path):
    """Generation with a fitted, constrained block and every tabular evaluator keeps the block's cache empty;
    the metrics equal those of the same rows handed over whole."""
    tabular = pytest.importorskip("medmgen_tabular.plugin")
    df = pd.read_csv(ADULT).iloc[:4000]
    path = tmp_path / "adult.csv"
    df.to_csv(path, index=False)
    registry = load_registry(entry_points=False, extra=[("core", medmgen.builtins), ("tabular", tabular),
                                                        ("metrics", medmgen_metrics.plugin)])
    block = {"modality": "tabular", "generator": "bayesnet", "source": str(path), "target": "income>50K",
             "records": 6000, "chunk_rows": 1024,
             "constraints": [{"kind": "range", "column": "age", "low": 5, "high": 60}]}
    spec = load_spec({"dataset": {"name": "m", "seed": 3}, "blocks": {"p": block},
                      "evaluation": {"max_rows": 1000, "mmd_rows": 300, "attacks": 100}}, registry)
    with pytest.warns(UserWarning, match="source rows violate"):
        result = run(spec, registry)
    data = result.blocks["p"].data
    assert data.recipe is not None and not data.materialised
    streamed = {k: v for k, v in result.report["metrics"].items() if k != "blocks"}
    assert {"fidelity", "utility", "privacy_risk", "tabular_fidelity"} <= set(streamed)
    whole = evaluate_all(registry, Evaluation(spec=spec, ledger=result.ledger, tables={"p": {"": data.table}}))
    assert data.materialised  # only now, for the comparison
    assert streamed == whole
