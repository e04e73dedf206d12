"""Fixtures of the evaluation-suite tests: adult samples and the test-only rows plugin."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

HERE = Path(__file__).parent
ADULT = Path(__file__).resolve().parents[4] / "shared" / "data" / "adult" / "adult.csv.gz"  # ../shared


@pytest.fixture(scope="module")
def rows_plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The test-only rows plugin, installed as pip would (dist-info + entry point) for one module.

    Only it and this suite are loaded (``MEDMGEN_PLUGINS``), so other plugins' evaluators
    do not judge its blocks.
    """
    site = tmp_path_factory.mktemp("site")
    info = site / "medmgen_metrics_rows-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: medmgen-metrics-rows\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[medmgen]\nmetrics_rows = metrics_rows_plugin\n")
    shutil.copy(HERE / "metrics_rows_plugin.py", site / "metrics_rows_plugin.py")
    sys.path.insert(0, str(site))
    before = os.environ.get("MEDMGEN_PLUGINS")
    os.environ["MEDMGEN_PLUGINS"] = "metrics,metrics_rows"
    yield
    if before is None:
        del os.environ["MEDMGEN_PLUGINS"]
    else:
        os.environ["MEDMGEN_PLUGINS"] = before
    sys.path.remove(str(site))
    sys.modules.pop("metrics_rows_plugin", None)


@pytest.fixture(scope="session")
def adult() -> pd.DataFrame:
    return pd.read_csv(ADULT)


@pytest.fixture(scope="session")
def adult_parts(adult: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three disjoint samples of adult rows: train.csv, holdout.csv and fresh.csv (1,000 rows each)."""
    d = tmp_path_factory.mktemp("adult")
    order = np.random.default_rng(7).permutation(len(adult))
    for k, name in enumerate(("train", "holdout", "fresh")):
        adult.iloc[np.sort(order[k * 1000:(k + 1) * 1000])].to_csv(d / f"{name}.csv", index=False)
    return d
