"""The evaluators through the real core: `medmgen generate`, `evaluate`, `reproduce`, `validate`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from medmgen.cli import main

pytestmark = pytest.mark.usefixtures("rows_plugin")


def spec(d: Path, emit: str, extra: str = "") -> Path:
    """A spec whose tabular block emits the rows of ``emit`` and is compared with train.csv.

    The files are named relative to the spec's directory, as users write them.
    """
    text = f"""
[dataset]
name = "metrics-test"
seed = 3

[blocks.people]
modality = "tabular"
generator = "metrics_test_rows"
source = "train.csv"
emit = "{emit}"
target = "income>50K"

[evaluation]
holdout = "holdout.csv"
attacks = 200
{extra}
"""
    path = d / f"{emit}.{abs(hash(extra))}.toml"
    path.write_text(text)
    return path


def cli(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def fresh(adult_parts: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A package whose rows are fresh real rows: an ideal generator."""
    out = tmp_path_factory.mktemp("fresh") / "pkg"
    assert main(["--quiet", "generate", str(spec(adult_parts, "fresh.csv")), "-o", str(out)]) == 0
    return out


def test_copying_generator_fails_privacy_thresholds(adult_parts, tmp_path, capsys):
    code, out, err = cli(capsys, "generate", str(spec(adult_parts, "train.csv")), "-o", str(tmp_path / "copy"),
                         "--set", "thresholds.max_mean_2way_tvd=0.0001")
    assert code == 1, out + err
    report = json.loads((tmp_path / "copy" / "report.json").read_text())
    priv = report["metrics"]["privacy_risk"]
    assert priv["exact_copy_rate"] == 1 and priv["mia_auc"] > 0.9 and priv["dcr_train_share"] > 0.9
    checks = {c["name"]: c for c in report["thresholds"]}
    assert not any(checks[n]["held"] for n in ("max_exact_copy_excess", "max_mia_auc", "max_dcr_train_share"))
    assert checks["max_mean_2way_tvd"]["limit"] == 0.0001 and checks["max_mean_2way_tvd"]["held"]
    assert report["metrics"]["fidelity"]["tvd_2way_mean"] == 0
    html = (tmp_path / "copy" / "report.html").read_text()
    for title in ("marginals, real vs synthetic", "column associations", "distance to closest real record",
                  "membership-inference attack", "predicting"):
        assert title in html
    assert html.count("<svg") >= 5
    records = pq.read_table(tmp_path / "copy" / "evaluation" / "privacy_risk" / "records.parquet").to_pandas()
    assert len(records) == 2 * priv["blocks"]["people"]["rows"]["mia_members"]
    train = records[records["set"] == "train"]
    assert len(train) == len(records) / 2 and train["exact_copy"].all() and train["exposed"].all()
    assert (train["dcr"] == 0).all() and (train["membership_score"] > 0.9).all()
    assert records["row"].between(0, 999).all() and (records["block"] == "people").all()
    manifest = json.loads((tmp_path / "copy" / "manifest.json").read_text())
    assert "evaluation/privacy_risk/records.parquet" in manifest["files"]


def test_fresh_real_rows_pass_and_reproduce(fresh, tmp_path, capsys):
    report = json.loads((fresh / "report.json").read_text())
    assert report["passed"]
    m = report["metrics"]
    assert abs(m["privacy_risk"]["mia_auc"] - 0.5) < 0.1 and m["privacy_risk"]["exact_copy_excess"] < 0.05
    assert m["fidelity"]["tvd_2way_mean"] < 0.15 and m["fidelity"]["category_coverage"] > 0.6
    assert m["utility"]["tstr_f1_ratio"] > 0.85
    block = m["fidelity"]["blocks"]["people"]
    assert block["tvd_2way_pairs"] == 91 and block["columns"] == 14
    records = pq.read_table(fresh / "evaluation" / "privacy_risk" / "records.parquet").to_pandas()
    q = m["privacy_risk"]["blocks"]["people"]["rows"]["mia_members"]
    assert records["exposed"].mean() < 0.1 and records["set"].value_counts().to_dict() == {"train": q, "holdout": q}
    code, out, err = cli(capsys, "reproduce", str(fresh), "-o", str(tmp_path / "b"))
    assert code == 0, out + err
    saved = Path("evaluation", "privacy_risk", "records.parquet")
    assert (tmp_path / "b" / saved).read_bytes() == (fresh / saved).read_bytes()


def test_evaluate_from_another_directory_finds_relative_sources(adult_parts, fresh, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "evaluate", str(fresh), "--json")
    assert code == 0, err
    metrics = json.loads(out)["metrics"]
    assert metrics["fidelity"]["blocks"]["people"]["real_file"] == str(adult_parts / "train.csv")
    assert metrics["privacy_risk"]["blocks"]["people"]["holdout"] == str(adult_parts / "holdout.csv")
    assert metrics == json.loads((fresh / "report.json").read_text())["metrics"]


def test_plugin_import_is_light():
    code = ("import medmgen_metrics.plugin, sys; "
            "print([m for m in ('sklearn', 'scipy.stats', 'pandas') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_evaluate_against_a_real_file(adult_parts, fresh, capsys):
    code, out, _ = cli(capsys, "evaluate", str(fresh), "--against", str(adult_parts / "fresh.csv"), "--json")
    metrics = json.loads(out)["metrics"]
    assert code == 0 and metrics["fidelity"]["blocks"]["people"]["real_file"] == str(adult_parts / "fresh.csv")
    assert metrics["fidelity"]["tvd_mean"] == 0 and metrics["privacy_risk"]["exact_copy_rate"] == 1


def test_bad_real_file_names_file_and_line(fresh, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("age,workclass\n1,2\n3,4\n5,6,7,8\n")
    code, _, err = cli(capsys, "evaluate", str(fresh), "--against", str(bad))
    assert code == 2 and f"{bad}:line 4: not valid CSV" in err and "Traceback" not in err
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    code, _, err = cli(capsys, "evaluate", str(fresh), "--against", str(other))
    assert code == 2 and "no column in common with block 'people'" in err


def test_bad_evaluation_section_reports_every_problem(adult_parts, capsys):
    path = spec(adult_parts, "fresh.csv", 'max_rows = 5\nholdout_fraction = 1.5\ncategorical = ["age", "age"]')
    code, _, err = cli(capsys, "validate", str(path))
    assert code == 2
    assert f"{path}:evaluation.max_rows: out of range" in err
    assert f"{path}:evaluation.holdout_fraction: out of range" in err
    assert f"{path}:evaluation.categorical: a column is listed twice" in err


def test_block_max_levels_and_datetimes_reach_the_evaluators(tmp_path, capsys):
    """Through `generate`: the block's max_levels makes a wide text column an identifier; CSV datetimes are binned."""
    rng = np.random.default_rng(5)
    start = pd.Timestamp("2024-01-01").value // 10**9

    def rows(n: int) -> pd.DataFrame:
        when = pd.to_datetime(rng.integers(start, start + 200 * 86_400, n), unit="s")
        return pd.DataFrame({"zip": [f"z{v}" for v in rng.integers(0, 5000, n)],
                             "when": when.strftime("%Y-%m-%d %H:%M:%S"), "c": rng.choice(["a", "b"], n)})

    for name in ("train", "holdout", "fresh"):
        rows(600).to_csv(tmp_path / f"{name}.csv", index=False)
    path = tmp_path / "s.toml"
    path.write_text(spec(tmp_path, "fresh.csv").read_text().replace('target = "income>50K"', "max_levels = 300"))
    code, _, _ = cli(capsys, "--quiet", "generate", str(path), "-o", str(tmp_path / "pkg"))
    assert code in (0, 1)
    report = json.loads((tmp_path / "pkg" / "report.json").read_text())["metrics"]
    fid, pri = report["fidelity"]["blocks"]["people"], report["privacy_risk"]["blocks"]["people"]
    assert fid["identifiers"] == ["zip"] == pri["identifiers"]
    assert set(fid["per_column"]) == {"when", "c"}
    assert fid["per_column"]["when"]["kind"] == "datetime" and fid["per_column"]["when"]["binned"]
    assert fid["tvd_2way_mean"] < 0.3 and "mia_auc" in pri  # value by value, `when` x c scored about 1
