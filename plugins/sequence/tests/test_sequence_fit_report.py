"""sequence_fit: real against synthetic, checked against plain-Python counts of both files."""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sequence_reference import pair_counts, spmf_line

import medmgen
from medmgen import cli
from medmgen_sequence import comparison
from medmgen_sequence.comparison import DEFAULT_SUPPORTS, Profile, compare, profile

Db = list[list[list[int]]]


# ------------------------------------------------------------ plain twins
def parse(path: Path) -> Db:
    """SPMF sequences as nested lists (timestamps skipped), written apart from the plugin's reader."""
    out = []
    for line in path.read_text().splitlines():
        if not line.strip() or line[0] in "#%@":
            continue
        seq, current = [], []
        for token in line.split():
            if token.startswith("<"):
                continue
            if token == "-1":
                seq.append(sorted(set(current)))
                current = []
            elif token == "-2":
                out.append(seq)
            else:
                current.append(int(token))
    return out


def tvd(a: Counter, b: Counter) -> float:
    na, nb = sum(a.values()), sum(b.values())
    return 0.5 * sum(abs(a[key] / na - b[key] / nb) for key in set(a) | set(b))


def reference(real: Db, synthetic: Db, supports=DEFAULT_SUPPORTS) -> dict[str, float]:
    """Every metric of one block, by plain counting."""
    def hists(db: Db) -> tuple[Counter, Counter, Counter]:
        return (Counter(len(s) for s in db), Counter(len(x) for s in db for x in s),
                Counter(i for s in db for x in s for i in x))

    r, y = hists(real), hists(synthetic)
    out = {"itemsets_tvd": tvd(y[0], r[0]), "itemset_size_tvd": tvd(y[1], r[1]), "item_tvd": tvd(y[2], r[2]),
           "mean_itemsets.real": sum(len(s) for s in real) / len(real),
           "mean_itemsets.synthetic": sum(len(s) for s in synthetic) / len(synthetic),
           "mean_itemset_size.real": sum(k * c for k, c in r[1].items()) / sum(r[1].values()),
           "mean_itemset_size.synthetic": sum(k * c for k, c in y[1].items()) / sum(y[1].values())}
    for name, db in (("real", real), ("synthetic", synthetic)):
        pairs = pair_counts(db)
        for s in supports:
            need = max(1, math.ceil(s * len(db) - 1e-9))
            out[f"frequent_2sequences@{s:g}.{name}"] = sum(c >= need for c in pairs.values())
    return out


def random_db(seed: int, n: int = 300, items: int = 12) -> Db:
    """Skewed random sequences with recurring items, so <{a},{a}> and many pairs occur."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, items + 1)
    db = []
    for _ in range(n):
        seq = []
        for _ in range(int(rng.integers(1, 6))):
            size = int(rng.integers(1, 4))
            seq.append(sorted({int(i) for i in rng.choice(np.arange(1, items + 1), size, p=weights / weights.sum())}))
        db.append(seq)
    return db


def chunks_of(db: Db, size: int):
    """``db`` as CSR chunks of ``size`` sequences each (a re-iterable, like batches)."""
    def make():
        for lo in range(0, len(db), size):
            part = db[lo:lo + size]
            seq_off = np.cumsum([0] + [len(s) for s in part]).astype(np.int64)
            set_off = np.cumsum([0] + [len(x) for s in part for x in s]).astype(np.int64)
            items = np.array([i for s in part for x in s for i in x], np.int32)
            yield seq_off, set_off, items
    return make


def assert_metrics(got: dict, want: dict, prefix: str = "") -> None:
    for key, value in want.items():
        assert got[prefix + key] == pytest.approx(value, abs=1e-12), key


def write(path: Path, db: Db) -> Path:
    path.write_text("".join(spmf_line(s) for s in db))
    return path


# ------------------------------------------------------- counting twins
@pytest.mark.parametrize("seed", range(3))
def test_profile_and_compare_match_plain_counts(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    real, synthetic = random_db(seed), random_db(seed + 10, n=250, items=14)
    supports = (0.2, 0.1, 0.05, 0.02)
    want = reference(real, synthetic, supports)
    assert want["frequent_2sequences@0.02.real"] > want["frequent_2sequences@0.1.real"] > 0
    results = []
    for size, tile in ((len(real), 1 << 22), (37, 1 << 22), (1, 5)):  # one chunk; many; many pair tiles
        monkeypatch.setattr(comparison, "TILE_CELLS", tile)
        a, b = profile(chunks_of(real, size), supports), profile(chunks_of(synthetic, size), supports)
        results.append(compare(a, b))
        assert a.records == len(real) and b.records == len(synthetic)
    for got in results:
        assert_metrics(got, want)
    same = compare(a, a)
    assert same["itemsets_tvd"] == same["itemset_size_tvd"] == same["item_tvd"] == 0.0


def test_recurring_item_and_order_count_as_2_sequences() -> None:
    db = [[[1], [2], [1]], [[1, 2]], [[1, 2], [2]]]  # <1,2>, <2,1>, <1,1> / nothing / <1,2>, <2,2>
    got = profile(chunks_of(db, 2), (0.6, 0.3))
    assert isinstance(got, Profile)
    assert got.frequent_pairs == (1, 4)  # <1,2> in 2 of 3; then <2,1>, <1,1>, <2,2> once each
    assert got.items.tolist() == [0, 4, 4] and got.itemsets.tolist() == [0, 1, 1, 1]


# ------------------------------------------------------ through the CLI
SPEC = """[dataset]
seed = 5
[blocks.f]
modality = "sequence"
source = "real/real.seq"
records = 600
[[blocks.f.sequential_patterns]]
sequence = [[2], [3]]
support = 0.2
[blocks.g]
modality = "sequence"
records = 300
items = 20
"""


@pytest.fixture
def package(tmp_path: Path) -> tuple[Path, Db]:
    (tmp_path / "spec" / "real").mkdir(parents=True)
    real = random_db(7, n=400, items=15)
    write(tmp_path / "spec" / "real" / "real.seq", real)
    (tmp_path / "spec" / "s.toml").write_text(SPEC)
    assert cli.main(["-q", "generate", str(tmp_path / "spec" / "s.toml"), "-o", str(tmp_path / "pkg")]) == 0
    return tmp_path / "pkg", real


def test_generate_and_evaluate_report_the_source_comparison(package, tmp_path, capsys, monkeypatch) -> None:
    pkg, real = package
    report = json.loads((pkg / "report.json").read_text())["metrics"]["sequence_fit"]
    want = reference(real, parse(pkg / "data" / "f.txt"))
    assert_metrics(report, want, "f.")
    assert want["frequent_2sequences@0.05.synthetic"] >= 1  # the planted <{2},{3}> at 20 %
    assert not any(key.startswith("g.") for key in report)  # no source, no --against: nothing to compare
    html = (pkg / "report.html").read_text()
    assert "f: frequent 2-sequences per support level" in html and "g: frequent 2-sequences" not in html
    monkeypatch.chdir(pkg / "data")  # the spec's directory, not the working one, locates the source
    capsys.readouterr()
    assert cli.main(["-q", "evaluate", str(pkg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["sequence_fit"] == report


def test_evaluate_against_reads_the_file_for_every_block(package, tmp_path, capsys) -> None:
    pkg, _ = package
    other = random_db(9, n=200, items=25)
    path = write(tmp_path / "other.seq", other)
    assert cli.main(["-q", "evaluate", str(pkg), "--against", str(path), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)["metrics"]["sequence_fit"]
    for block in ("f", "g"):
        assert_metrics(metrics, reference(other, parse(pkg / "data" / f"{block}.txt")), f"{block}.")
    # A table is the tabular evaluators' reference; this package has none, so nothing takes it:
    # an input error naming the file and the option, not metrics that silently ignore it.
    (tmp_path / "t.csv").write_text("a\n1\n")
    assert cli.main(["-q", "evaluate", str(pkg), "--against", str(tmp_path / "t.csv"), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"{tmp_path / 't.csv'}:--against: no evaluator compares")
    assert "got 'blocks of modality sequence'" in err


def test_evaluate_against_a_malformed_or_missing_file_is_an_input_error(package, tmp_path, capsys) -> None:
    pkg, _ = package
    bad = tmp_path / "bad.seq"
    bad.write_text("1 -1 2 -1 -2\n3 x -1 -2\n")
    assert cli.main(["-q", "evaluate", str(pkg), "--against", str(bad)]) == 2
    assert "bad.seq:line 2: not an integer token" in capsys.readouterr().err
    (tmp_path / "spec" / "real" / "real.seq").unlink()
    assert cli.main(["-q", "evaluate", str(pkg)]) == 2
    err = capsys.readouterr().err
    assert "real.seq" in err and "compare block 'f'" in err and "blocks.f.source" in err


def test_report_is_deterministic_across_workers(package, tmp_path) -> None:
    pkg, _ = package
    again = medmgen.generate(tmp_path / "spec" / "s.toml", out=tmp_path / "again", workers=2)
    first = json.loads((pkg / "report.json").read_text())
    assert again.report["metrics"]["sequence_fit"] == first["metrics"]["sequence_fit"]
    for name in ("manifest.json", "data/f.txt", "data/f.parquet"):  # the manifest hashes report.json too
        assert (pkg / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name


def test_sequence_text_sniffs_the_first_data_line(tmp_path: Path) -> None:
    from medmgen.sniff import sequence_text

    (tmp_path / "s.seq").write_text("# comment -1\n\n<3> 1 2 -1 -2\n")
    (tmp_path / "t.dat").write_text("% 1 -1 -2\n1 2 3\n4 -1\n")
    (tmp_path / "s.seq.gz").write_bytes(gzip.compress(b"@NAME\n5 -1 6 -1 -2\n"))
    assert sequence_text(tmp_path / "s.seq") and sequence_text(tmp_path / "s.seq.gz")
    assert not sequence_text(tmp_path / "t.dat") and not sequence_text(tmp_path / "missing.seq")


def test_a_hybrid_package_gives_against_to_the_modality_of_its_format(tmp_path: Path, capsys) -> None:
    spec = {"dataset": {"seed": 3}, "blocks": {
        "t": {"modality": "transaction", "records": 300, "items": 20},
        "q": {"modality": "sequence", "records": 200, "items": 15}}}
    medmgen.generate(spec, out=tmp_path / "pkg")
    seqs = random_db(4, n=150)
    (tmp_path / "real.seq.gz").write_bytes(gzip.compress("".join(spmf_line(s) for s in seqs).encode()))
    (tmp_path / "real.dat").write_text("1 2 3\n2 5\n1 4 7\n" * 40)
    capsys.readouterr()
    assert cli.main(["-q", "evaluate", str(tmp_path / "pkg"), "--against", str(tmp_path / "real.seq.gz"),
                     "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)["metrics"]
    assert "transaction_fit" not in metrics
    assert_metrics(metrics["sequence_fit"], reference(seqs, parse(tmp_path / "pkg" / "data" / "q.txt")), "q.")
    assert cli.main(["-q", "evaluate", str(tmp_path / "pkg"), "--against", str(tmp_path / "real.dat"),
                     "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)["metrics"]
    assert "sequence_fit" not in metrics and "t.item_tvd" in metrics["transaction_fit"]
