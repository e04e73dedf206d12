"""Fitting to a real SPMF file: the learnt distributions are the file's, and data made from them looks alike."""

from __future__ import annotations

import tomllib
from collections import Counter

import numpy as np
import pytest
import sequence_reference as ref
import tomli_w

import medmgen
from medmgen.cli import main
from medmgen.errors import InputError
from medmgen_sequence.generator import PlantedSequences


def write_source(path, rng: np.random.Generator, n: int = 4000) -> list[list[list[int]]]:
    db = []
    for _ in range(n):
        length = int(rng.choice([1, 2, 3, 7, 12], p=[0.1, 0.3, 0.3, 0.2, 0.1]))
        db.append([sorted(set((rng.zipf(1.6, size=int(rng.choice([1, 2, 4]))) % 300 + 1).tolist()))
                   for _ in range(length)])
    path.write_text("# a comment line, as SPMF files may have\n" + "".join(ref.spmf_line(s) for s in db))
    return db


def test_fit_learns_the_file_histograms(tmp_path):
    src = tmp_path / "real.txt"
    db = write_source(src, np.random.default_rng(5))
    block = PlantedSequences.fit_block(src)
    lengths = Counter(len(s) for s in db)
    sizes = Counter(len(x) for s in db for x in s)
    items = Counter(i for s in db for x in s for i in x)
    assert block["records"] == len(db)
    assert block["items"] == max(items)
    assert block["itemsets"]["weights"] == [float(lengths.get(k, 0)) for k in range(1, max(lengths) + 1)]
    assert block["itemset_size"]["weights"] == [float(sizes.get(k, 0)) for k in range(1, max(sizes) + 1)]
    assert block["popularity"]["weights"] == [float(items.get(i, 0)) for i in range(1, max(items) + 1)]


def test_fitted_spec_generates_lookalike_data(tmp_path):
    src = tmp_path / "real.txt"
    db = write_source(src, np.random.default_rng(6))
    spec = tmp_path / "fitted.toml"
    assert main(["-q", "fit", "sequence", str(src), "-o", str(spec), "--name", "real"]) == 0
    assert tomllib.loads(spec.read_text())["blocks"]["real"]["modality"] == "sequence"
    out = tmp_path / "pkg"
    assert main(["-q", "generate", str(spec), "-o", str(out)]) == 0
    syn = (out / "data" / "real.txt").read_text().splitlines()
    assert len(syn) == len(db)
    syn_lengths = [line.count(" -1") for line in syn]
    assert abs(np.mean(syn_lengths) - np.mean([len(s) for s in db])) < 0.1
    real_sizes = np.mean([len(x) for s in db for x in s])
    syn_items = sum(len(line.split()) - line.count(" -1") - 1 for line in syn)
    assert abs(syn_items / sum(syn_lengths) - real_sizes) < 0.05
    real_top = [i for i, _ in Counter(i for s in db for x in s for i in x).most_common(5)]
    syn_top = [int(i) for i, _ in Counter(t for line in syn for t in line.split() if not t.startswith("-"))
               .most_common(5)]
    assert set(real_top[:3]) <= set(syn_top)


def test_source_key_fits_inside_the_spec(tmp_path):
    src = tmp_path / "real.txt"
    db = write_source(src, np.random.default_rng(7), n=3000)
    spec = {"dataset": {"seed": 2}, "blocks": {"real": {
        "modality": "sequence", "source": "real.txt",
        "sequential_patterns": [{"sequence": [[40], [41]], "support": 0.02, "max_gap": 2}]}}}
    (tmp_path / "spec.toml").write_text(tomli_w.dumps(spec))
    ds = medmgen.generate(tmp_path / "spec.toml", out=tmp_path / "pkg")
    assert ds.table("real").num_rows == len(db)
    (p,) = ds.ledger.patterns
    rows = ds.table("real").column("itemsets").to_pylist()
    assert p.realized_support == ref.support_count(rows, p.sequence, 1, 2) / len(rows)
    assert abs(p.realized_support - 0.02) <= 0.001
    assert tomllib.loads((tmp_path / "pkg" / "spec.toml").read_text())["blocks"]["real"]["source"] == "real.txt"


def test_source_problems_are_input_errors(tmp_path):
    src = tmp_path / "real.txt"
    write_source(src, np.random.default_rng(8), n=200)
    spec = {"dataset": {"seed": 2}, "blocks": {"real": {"modality": "sequence", "source": str(src), "items": 5}}}
    with pytest.raises(InputError) as err:
        medmgen.generate(spec, out=tmp_path / "pkg")
    assert err.value.problems[0].path == "blocks.real.items"
    assert not (tmp_path / "pkg").exists()
    spec["blocks"]["real"] = {"modality": "sequence", "source": "missing.txt"}
    with pytest.raises(InputError, match="file not found"):
        medmgen.generate(spec, out=tmp_path / "pkg")
