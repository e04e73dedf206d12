"""``sequence_fit`` counts frequent 2-sequences only at levels with at most ``MAX_FREQUENT_ITEMS``
frequent items: the levels it counts are exact, the others are ``None`` and said so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_sequence_fit_report import chunks_of, random_db, reference, write

from medmgen import cli
from medmgen_sequence.comparison import RealFit, compare, profile
from medmgen_sequence.mining import MAX_FREQUENT_ITEMS

SUPPORTS = (0.2, 0.1, 0.05, 0.02)


def test_levels_over_the_bound_are_not_counted_and_the_others_are_exact() -> None:
    real, synthetic = random_db(3, n=300, items=14), random_db(4, n=250, items=14)
    want = reference(real, synthetic, SUPPORTS)
    free = profile(chunks_of(real, 41), SUPPORTS)
    assert free.frequent_pairs == tuple(want[f"frequent_2sequences@{s:g}.real"] for s in SUPPORTS)
    items = free.frequent_items
    assert items == tuple(sorted(items)) and items[0] < items[-1]  # more items are frequent at lower levels
    for bound in sorted(set(items)):
        got = profile(chunks_of(real, 41), SUPPORTS, max_items=bound)
        assert got.frequent_items == items
        assert got.frequent_pairs == tuple(p if f <= bound else None for p, f in zip(free.frequent_pairs, items))
    none = profile(chunks_of(real, 41), SUPPORTS, max_items=items[0] - 1)
    assert none.frequent_pairs == (None,) * len(SUPPORTS)


def test_compare_and_the_figure_say_which_levels_were_not_counted() -> None:
    real, synthetic = random_db(5, n=300, items=14), random_db(6, n=250, items=14)
    full = compare(profile(chunks_of(real, 50), SUPPORTS), profile(chunks_of(synthetic, 50), SUPPORTS))
    assert full["frequent_2sequences_complete"] is True and "frequent_2sequences_note" not in full
    items = profile(chunks_of(real, 50), SUPPORTS).frequent_items
    bound = max(f for f in items if f < items[-1])  # the lowest level (at least) is cut
    cut = compare(profile(chunks_of(real, 50), SUPPORTS, max_items=bound),
                  profile(chunks_of(synthetic, 50), SUPPORTS, max_items=bound))
    assert cut["frequent_2sequences_complete"] is False
    assert cut["frequent_2sequences@0.02.real"] is None
    for s, f in zip(SUPPORTS, items):
        key = f"frequent_2sequences@{s:g}.real"
        assert cut[key] == (None if f > bound else full[key])
    assert cut["frequent_2sequences@0.2.real"] == full["frequent_2sequences@0.2.real"] > 0
    real_cut = [(s, f) for s, f in zip(SUPPORTS, items) if f > bound]
    assert cut["frequent_2sequences_note"].startswith(
        f"not counted where more than {bound:,} items are frequent: real at "
        f"{', '.join(f'{s * 100:g}%' for s, _ in real_cut)} ({', '.join(str(f) for _, f in real_cut)} frequent items)")
    figures = RealFit().figures(None, {f"b.{key}": value for key, value in cut.items()})
    assert "n/c" in figures[0][1] and "<figcaption>not counted where more than" in figures[0][1]
    assert "<figcaption>" not in RealFit().figures(None, {f"b.{key}": v for key, v in full.items()})[0][1]


def crowded(path: Path, records: int = 2000, items: int = MAX_FREQUENT_ITEMS + 104, each: int = 12) -> Path:
    """An SPMF file where each of ``items`` ids is in exactly ``each`` sequences (one itemset each)."""
    db = [[] for _ in range(records)]
    for item in range(1, items + 1):
        for r in range(each):
            db[(item * 7 + r * 167) % records].append([item])
    write(path, [seq for seq in db if seq])
    return path


def test_evaluate_reports_a_crowded_real_file_without_counting_its_pairs(tmp_path: Path, capsys) -> None:
    crowded(tmp_path / "real.seq")
    (tmp_path / "s.toml").write_text('[dataset]\nseed = 3\n[blocks.b]\nmodality = "sequence"\n'
                                     'source = "real.seq"\n')
    assert cli.main(["-q", "generate", str(tmp_path / "s.toml"), "-o", str(tmp_path / "pkg")]) == 0
    report = json.loads((tmp_path / "pkg" / "report.json").read_text())["metrics"]["sequence_fit"]
    assert report["b.frequent_2sequences@0.005.real"] is None  # 4,200 items in 12 of 2,000 sequences each
    assert report["b.frequent_2sequences@0.01.real"] == 0  # none is in 20
    assert report["b.frequent_2sequences_complete"] is False
    assert report["b.frequent_2sequences_note"].startswith(
        f"not counted where more than 4,096 items are frequent: real at 0.5% ({MAX_FREQUENT_ITEMS + 104:,} frequent")
    html = (tmp_path / "pkg" / "report.html").read_text()
    assert "<figcaption>not counted where more than 4,096 items are frequent" in html
    capsys.readouterr()
    assert cli.main(["-q", "evaluate", str(tmp_path / "pkg"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["sequence_fit"] == report


@pytest.mark.parametrize("bound", [0, 1])
def test_a_database_with_no_level_counted_still_profiles(bound: int) -> None:
    got = profile(chunks_of([[[1], [2]], [[1], [2]]], 1), (0.5,), max_items=bound)
    assert got.frequent_items == (2,) and got.frequent_pairs == (None,)
