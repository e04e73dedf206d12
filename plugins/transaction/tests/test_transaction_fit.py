"""Fit statistics and the miner behind them: kernels against naive twins, pyfim as the referee."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import math
from collections import Counter
from pathlib import Path

import fim
import numpy as np
import pytest

import medmgen
from medmgen import cli
from medmgen.errors import InputError
from medmgen.interfaces import Evaluation
from medmgen_transaction import _fit_kernels as K
from medmgen_transaction.fit import (
    FIT_MIN_LIFT,
    FIT_MIN_SUPPORT,
    RealFit,
    Transactions,
    background_from_file,
    compare,
    fit_block,
    inclusion_weights,
    mine,
    strongest_itemsets,
    support_count,
)

FIMI = Path(__file__).resolve().parents[4] / "shared" / "data" / "fimi"  # ../shared


def random_db(seed: int, n: int = 400, items: int = 30) -> Transactions:
    """Skewed random baskets with a few correlated groups, so every itemset size occurs."""
    rng = np.random.default_rng(seed)
    groups = [rng.choice(np.arange(1, items + 1), size=4, replace=False) for _ in range(3)]
    weights = 1.0 / np.arange(1, items + 1)
    rows = []
    for _ in range(n):
        row = set(rng.choice(np.arange(1, items + 1), size=int(rng.integers(0, 8)), p=weights / weights.sum()))
        for g in groups:
            if rng.random() < 0.2:
                row.update(g[: int(rng.integers(2, 5))].tolist())
        rows.append(sorted(int(i) for i in row))
    return to_db(rows)


def to_db(rows: list[list[int]]) -> Transactions:
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(r) for r in rows])
    items = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int32, count=int(offsets[-1]))
    return Transactions(offsets=offsets, items=items)


def rows_of(db: Transactions) -> list[list[int]]:
    return [db.items[a:b].tolist() for a, b in itertools.pairwise(db.offsets)]


def fimi_slice(tmp_path: Path, name: str, lines: int) -> Path:
    with gzip.open(FIMI / f"{name}.dat.gz", "rt") as fh:
        text = "".join(itertools.islice(fh, lines))
    path = tmp_path / f"{name}.dat"
    path.write_text(text)
    return path


def pyfim(db: Transactions, min_count: int, target: str = "s") -> dict[tuple[int, ...], int]:
    found = fim.fpgrowth(rows_of(db), target=target, supp=-min_count, zmin=1, report="a")
    return {tuple(sorted(s)): c for s, c in found}


def ours(found) -> dict[tuple[int, ...], int]:
    return {tuple(r.tolist()): int(c) for level in found.levels for r, c in zip(level.rows, level.counts)}


# ------------------------------------------------------------ kernel twins
@pytest.mark.parametrize("seed", range(3))
def test_pair_counts_twin(seed: int) -> None:
    db = random_db(seed)
    local = np.full(db.max_id + 1, -1, dtype=np.int64)
    chosen = np.arange(1, db.max_id + 1, 2)
    local[chosen] = np.arange(chosen.size)
    got = K.pair_counts(db.offsets, db.items, local, chosen.size)
    want = np.zeros_like(got)
    for row in rows_of(db):
        loc = sorted(int(local[i]) for i in row if local[i] >= 0)
        for a, b in itertools.combinations(loc, 2):
            want[a, b] += 1
    assert np.array_equal(got, want)


@pytest.mark.parametrize("seed", range(3))
def test_bitsets_and_itemset_counts_twin(seed: int) -> None:
    db = random_db(seed, n=200)
    local = np.full(db.max_id + 1, -1, dtype=np.int64)
    local[1:] = np.arange(db.max_id)
    bits = K.item_bitsets(db.offsets, db.items, local, db.max_id)
    members = [{t for t, row in enumerate(rows_of(db)) if a + 1 in row} for a in range(db.max_id)]
    for a in range(db.max_id):
        decoded = {t for t in range(db.records) if int(bits[a, t // 64]) >> (t % 64) & 1}
        assert decoded == members[a]
    rows = np.array(list(itertools.combinations(range(6), 3)), dtype=np.int32)
    want = [len(members[r[0]] & members[r[1]] & members[r[2]]) for r in rows]
    assert K.itemset_counts(bits, rows).tolist() == want


def test_apriori_candidates_twin() -> None:
    rng = np.random.default_rng(3)
    for m in (1, 2, 3):
        pool = sorted({tuple(sorted(rng.choice(9, size=m, replace=False).tolist())) for _ in range(40)})
        rows = np.array(pool, dtype=np.int32).reshape(len(pool), m)
        got = {tuple(r) for r in K.apriori_candidates(rows).tolist()}
        frequent = set(pool)
        want = {c for c in itertools.combinations(range(9), m + 1)
                if all(s in frequent for s in itertools.combinations(c, m))}
        assert got == want


def test_mark_subsets_twin() -> None:
    db = random_db(5)
    found = mine(db, 10)
    for level, sup in itertools.pairwise(found.levels):
        supersets = [(set(s), c) for s, c in zip(sup.rows.tolist(), sup.counts)]
        closed = [not any(set(r) < s and c == sc for s, sc in supersets) for r, c in zip(level.rows.tolist(),
                                                                                          level.counts)]
        maximal = [not any(set(r) < s for s, _ in supersets) for r in level.rows.tolist()]
        assert level.closed.tolist() == closed
        assert level.maximal.tolist() == maximal


@pytest.mark.parametrize("seed", range(3))
def test_count_itemsets_csr_twin(seed: int) -> None:
    db = random_db(seed)
    rng = np.random.default_rng(seed)
    sets = [sorted(rng.choice(np.arange(1, 35), size=int(rng.integers(1, 4)), replace=False).tolist())
            for _ in range(60)]
    want = [sum(set(s) <= set(row) for row in rows_of(db)) for s in sets]
    assert support_count(db, sets).tolist() == want


# -------------------------------------------------------- miner vs pyfim
@pytest.mark.parametrize("seed", range(3))
def test_mine_matches_pyfim_on_random_data(seed: int) -> None:
    db = random_db(seed)
    for min_count in (8, 20, 60):
        found = mine(db, min_count)
        assert found.complete
        assert ours(found) == pyfim(db, min_count)


@pytest.mark.parametrize(("name", "support"), [("retail", 0.01), ("T10I4D100K", 0.005)])
def test_mine_and_closed_match_pyfim_on_real_slices(tmp_path: Path, name: str, support: float) -> None:
    db = Transactions.read(fimi_slice(tmp_path, name, 5000))
    min_count = math.ceil(support * db.records)
    found = mine(db, min_count)
    assert ours(found) == pyfim(db, min_count)
    for flag, target in (("closed", "c"), ("maximal", "m")):
        got = {tuple(items): c for items, c in found.itemsets(flag)}
        assert got == {s: c for s, c in pyfim(db, min_count, target).items() if len(s) >= 2}


def test_miner_limit_is_reported() -> None:
    db = random_db(1)
    found = mine(db, 2, limit=50)
    assert not found.complete and sum(len(level.rows) for level in found.levels) <= 50


# ---------------------------------------------------------------- fitting
def test_fit_refuses_sparse_huge_ids(tmp_path: Path) -> None:
    path = tmp_path / "sparse.dat"
    path.write_text("1 2\n5 2000000000\n")
    for fit in (background_from_file, fit_block):
        with pytest.raises(InputError, match="item ids too large") as err:
            fit(path)
        assert err.value.source == str(path) and err.value.problems[0].got == 2_000_000_000


def test_inclusion_weights() -> None:
    counts = np.array([0, 1, 5, 500, 900, 1000])
    got = inclusion_weights(counts, 1000)
    assert got[:3].tolist() == [0, 1, 5]
    assert got.tolist() == [round(-1000 * math.log(1 - min(c / 1000, 0.999))) for c in counts]
    assert np.all(np.diff(got) > 0)


def test_background_from_file_on_zero_based_slice(tmp_path: Path) -> None:
    path = fimi_slice(tmp_path, "retail", 2000)
    raw = [sorted({int(t) + 1 for t in line.split()}) for line in path.read_text().splitlines()]
    bg = background_from_file(path)
    assert bg["records"] == len(raw)
    assert bg["items"] == max(max(r) for r in raw if r)
    counts = np.bincount([i for r in raw for i in r], minlength=bg["items"] + 1)[1:]
    assert bg["popularity"]["weights"] == inclusion_weights(counts, len(raw)).tolist()
    lengths = dict(zip(bg["length"]["values"], bg["length"]["weights"]))
    assert lengths == dict(Counter(len(r) for r in raw if r))
    assert bg["length"]["distribution"] == bg["popularity"]["distribution"] == "empirical"


def naive_greedy(db: Transactions, patterns: int, min_support: float, min_lift: float) -> list[tuple[int, ...]]:
    """Plain greedy cover over pyfim's maximal itemsets, no laziness."""
    min_count = math.ceil(min_support * db.records - 1e-9)
    share = np.bincount(db.items) / db.records
    candidates = {s: c for s, c in pyfim(db, min_count, "m").items()
                  if len(s) >= 2 and c / db.records >= min_lift * np.prod(share[list(s)])}
    covered: set[tuple[int, ...]] = set()
    chosen = []
    subsets = {s: {c for k in range(2, len(s) + 1) for c in itertools.combinations(s, k)} for s in candidates}
    while candidates and len(chosen) < patterns:
        best = min(candidates, key=lambda s: (-len(subsets[s] - covered), -candidates[s], list(s)))
        chosen.append(best)
        covered |= subsets[best]
        del candidates[best]
    return chosen


@pytest.mark.parametrize("name", ["retail", "T10I4D100K"])
def test_fit_block_plants_covering_maximal_itemsets_at_real_support(tmp_path: Path, name: str) -> None:
    path = fimi_slice(tmp_path, name, 4000)
    db = Transactions.read(path)
    block = fit_block(path, patterns=12)
    assert block["modality"] == "transaction" and block["generator"] == "planted"
    planted = [(tuple(p["items"]), p["support"]) for p in block["itemsets"]]
    want = naive_greedy(db, 12, FIT_MIN_SUPPORT, FIT_MIN_LIFT)
    assert sorted(items for items, _ in planted) == sorted(want)
    maximal = pyfim(db, math.ceil(FIT_MIN_SUPPORT * db.records - 1e-9), "m")
    for items, sup in planted:
        assert sup == pytest.approx(maximal[items] / db.records, abs=1e-6)
    assert [sup for _, sup in planted] == sorted((sup for _, sup in planted), reverse=True)
    weights = block["popularity"]["weights"]
    assert len(weights) == block["items"] and min(weights) >= 0
    plain = background_from_file(path)["popularity"]["weights"]
    planted_ids = {i for items, _ in planted for i in items}
    assert all(w == p for i, (w, p) in enumerate(zip(weights, plain), 1) if i not in planted_ids)
    assert strongest_itemsets(db, 0) == []


def naive_tvd(a: list[int], b: list[int]) -> float:
    ca, cb = Counter(a), Counter(b)
    return 0.5 * sum(abs(ca[k] / len(a) - cb[k] / len(b)) for k in set(ca) | set(cb))


def test_compare_against_naive_statistics_and_pyfim() -> None:
    real = random_db(2, n=600)
    same = compare(real, real, supports=(0.1, 0.05))
    assert same["item_tvd"] == same["length_tvd"] == 0.0
    # Independent items with the same marginals: the correlated groups are gone.
    flat = np.random.default_rng(0).permutation(real.items)
    rows, start = [], 0
    for length in np.diff(real.offsets):
        rows.append(sorted(set(flat[start:start + length].tolist())))
        start += length
    synthetic = to_db(rows)
    result = compare(real, synthetic, supports=(0.1, 0.05, 0.03))
    assert result["item_tvd"] == pytest.approx(naive_tvd(real.items.tolist(), synthetic.items.tolist()))
    assert result["length_tvd"] == pytest.approx(naive_tvd([len(r) for r in rows_of(real)], [len(r) for r in rows]))
    assert result["records"] == {"real": 600, "synthetic": 600}
    for row in result["frequent_itemsets"]:
        min_count = math.ceil(row["support"] * 600)
        assert row["real"] == len(pyfim(real, min_count))
        assert row["synthetic"] == len(pyfim(synthetic, min_count))
    assert result["frequent_itemsets"][-1]["synthetic"] < result["frequent_itemsets"][-1]["real"]


# ------------------------------------------------ fitted spec, end to end
def test_fitted_copy_reproduces_shape_and_planted_supports(tmp_path: Path) -> None:
    path = fimi_slice(tmp_path, "T10I4D100K", 20_000)
    block = fit_block(path, patterns=10)
    copies = {}
    for generator in ("planted", "independent"):
        spec = {"dataset": {"name": "fit", "seed": 3}, "blocks": {"b": {**block, "generator": generator}}}
        ds = medmgen.generate(spec, out=tmp_path / generator)
        copies[generator] = (ds, Transactions.read(tmp_path / generator / "data" / "b.txt"))
    ds, synthetic = copies["planted"]
    assert ds.report["passed"]
    real = Transactions.read(path)
    # The ledger's realized supports are exact: pyfim counts the same on the written file.
    mined = pyfim(synthetic, min(round(p.realized_support * synthetic.records) for p in ds.ledger.patterns))
    for p in ds.ledger.patterns:
        assert mined[tuple(p.items)] / synthetic.records == pytest.approx(p.realized_support, abs=1e-12)
        assert abs(p.realized_support - p.target_support) <= 0.001
    supports = (0.0025,)  # the fit's mining level; at higher levels the background dominates
    fitted = compare(real, synthetic, supports)
    baseline = compare(real, copies["independent"][1], supports)
    # Same length distribution and item popularity, up to sampling noise between two real halves.
    half = real.records // 2
    first = Transactions(offsets=real.offsets[:half + 1], items=real.items[:real.offsets[half]])
    second = Transactions(offsets=real.offsets[half:] - real.offsets[half], items=real.items[real.offsets[half]:])
    noise = compare(first, second, ())
    assert fitted["length_tvd"] <= 2 * noise["length_tvd"] + 0.01
    assert fitted["item_tvd"] <= 2 * noise["item_tvd"]
    # Planting the co-occurrences brings the frequent itemsets far closer than independent items do.
    (ours_row,), (base_row,) = fitted["frequent_itemsets"], baseline["frequent_itemsets"]
    assert abs(ours_row["synthetic"] - ours_row["real"]) < 0.9 * abs(base_row["synthetic"] - base_row["real"])


@pytest.mark.parametrize(("text", "got"), [("", "an empty file"), ("\n\n\n", "3 empty transaction(s)")])
def test_fit_refuses_a_file_without_ids(tmp_path: Path, text: str, got: str) -> None:
    path = tmp_path / "empty.dat"
    path.write_text(text)
    for fit in (background_from_file, fit_block):
        with pytest.raises(InputError, match="no item ids") as err:
            fit(path)
        assert err.value.source == str(path) and err.value.problems[0].got == got
    spec = {"blocks": {"e": {"modality": "transaction", "source": str(path)}}}
    with pytest.raises(InputError, match="no item ids"):
        medmgen.generate(spec, out=tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_cli_fit_writes_a_valid_spec_and_rejects_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = fimi_slice(tmp_path, "retail", 3000)
    out = tmp_path / "fitted.toml"
    assert cli.main(["-q", "fit", "transaction", str(path), "-o", str(out)]) == 0
    assert cli.main(["-q", "validate", str(out)]) == 0
    again = tmp_path / "again.toml"
    assert cli.main(["-q", "fit", "transaction", str(path), "-o", str(again)]) == 0
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(out.read_bytes()).digest()
    bad = tmp_path / "bad.dat"
    bad.write_text("1 2 3\n4 five 6\n")
    assert cli.main(["-q", "fit", "transaction", str(bad), "-o", str(tmp_path / "never.toml")]) == 2
    assert "bad.dat:line 2: not a transaction line" in capsys.readouterr().err
    assert not (tmp_path / "never.toml").exists()


def test_real_fit_evaluator(tmp_path: Path) -> None:
    path = fimi_slice(tmp_path, "T10I4D100K", 5000)
    spec = {"dataset": {"name": "fit", "seed": 1}, "blocks": {"b": fit_block(path, patterns=5)}}
    ds = medmgen.generate(spec)
    tables = {"b": {"": ds.table("b")}}
    evaluation = Evaluation(spec=ds.spec, ledger=ds.ledger, tables=tables, against=path)
    assert RealFit().applies(evaluation)
    assert not RealFit().applies(Evaluation(spec=ds.spec, ledger=ds.ledger, tables=tables))
    assert not RealFit().applies(Evaluation(spec=ds.spec, ledger=ds.ledger, tables=tables,
                                            against=tmp_path / "adult.csv.gz"))
    metrics = RealFit().evaluate(evaluation)
    direct = compare(Transactions.read(path), Transactions.from_arrow(ds.table("b").column("items")))
    assert metrics["b.item_tvd"] == direct["item_tvd"]
    assert metrics["b.length_tvd"] == direct["length_tvd"]
    for row in direct["frequent_itemsets"]:
        assert metrics[f"b.frequent_itemsets@{row['support']:g}.synthetic"] == row["synthetic"]


def test_cli_evaluate_against_a_real_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = fimi_slice(tmp_path, "T10I4D100K", 3000)
    spec = {"dataset": {"name": "fit", "seed": 2}, "blocks": {"b": fit_block(path, patterns=3)}}
    ds = medmgen.generate(spec, out=tmp_path / "pkg")
    assert "transaction_fit" not in ds.report.get("metrics", {})  # no real file: the evaluator does not run
    assert cli.main(["-q", "evaluate", str(tmp_path / "pkg"), "--json"]) == 0
    assert "transaction_fit" not in json.loads(capsys.readouterr().out)["metrics"]
    assert cli.main(["-q", "evaluate", str(tmp_path / "pkg"), "--against", str(path), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)["metrics"]["transaction_fit"]
    direct = compare(Transactions.read(path), Transactions.from_arrow(ds.table("b").column("items")))
    assert metrics["b.item_tvd"] == pytest.approx(direct["item_tvd"], rel=1e-12)
    assert metrics["b.length_tvd"] == pytest.approx(direct["length_tvd"], rel=1e-12)
    for row in direct["frequent_itemsets"]:
        assert metrics[f"b.frequent_itemsets@{row['support']:g}.real"] == row["real"]
        assert metrics[f"b.frequent_itemsets@{row['support']:g}.synthetic"] == row["synthetic"]
    wide = tmp_path / "wide.dat"  # ids past spec.MAX_ITEMS: one error, not id-indexed tables (2e9 took 24 GB)
    wide.write_text("1 2\n3 10000001\n")
    capsys.readouterr()
    assert cli.main(["-q", "evaluate", str(tmp_path / "pkg"), "--against", str(wide)]) == 2
    err = capsys.readouterr().err
    assert f"{wide}: item ids too large" in err and "10000001" in err


def test_the_package_spec_reruns_with_a_relative_source(tmp_path: Path) -> None:
    """``source`` is relative to the spec; the package's spec.toml keeps it as written and
    resolves it where the original spec was, so generating from it gives the same data."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "real.dat").write_text("1 2 3\n2 3\n1 3 4\n4 5\n" * 50)
    (tmp_path / "in" / "spec.toml").write_text('[blocks.b]\nmodality = "transaction"\nsource = "real.dat"\n')
    medmgen.generate(tmp_path / "in" / "spec.toml", out=tmp_path / "a")
    assert 'source = "real.dat"' in (tmp_path / "a" / "spec.toml").read_text()  # as written: same bytes anywhere
    medmgen.generate(tmp_path / "a" / "spec.toml", out=tmp_path / "b")  # resolved where the original spec was
    for name in ("spec.toml", "data/b.txt", "data/b.parquet"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    (tmp_path / "elsewhere").mkdir()  # the same spec and file in another directory: the same package bytes
    for name in ("spec.toml", "real.dat"):
        (tmp_path / "elsewhere" / name).write_bytes((tmp_path / "in" / name).read_bytes())
    medmgen.generate(tmp_path / "elsewhere" / "spec.toml", out=tmp_path / "c")
    for name in ("spec.toml", "data/b.txt", "data/b.parquet", "ledger.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "c" / name).read_bytes()
