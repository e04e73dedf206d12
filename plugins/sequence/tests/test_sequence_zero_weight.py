"""Ids whose empirical popularity weight is 0 are never drawn by the background."""

from __future__ import annotations

from collections import Counter

from test_sequence_generate import sequences

import medmgen


def test_weight_zero_ids_appear_only_where_planted(tmp_path):
    """Two ids with a positive weight, itemsets of about four: the itemsets are cut at those two."""
    spec = {"dataset": {"name": "zw", "seed": 1}, "blocks": {"clicks": {
        "modality": "sequence", "records": 2000, "items": 10,
        "popularity": {"distribution": "empirical", "weights": [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]},
        "itemset_size": {"distribution": "poisson", "mean": 4.0},
        "sequential_patterns": [{"sequence": [[5], [6]], "support": 0.1}]}}}
    result = medmgen.generate(spec, out=tmp_path / "pkg")
    db = sequences(tmp_path / "pkg")
    ids = Counter(i for seq in db for itemset in seq for i in itemset)
    assert set(ids) == {1, 5, 6, 10}
    assert ids[5] == ids[6] == 200  # planted once in each of round(0.1 * 2000) hosts, never drawn
    assert max(len(set(itemset) - {5, 6}) for seq in db for itemset in seq) == 2
    assert result.report["passed"] and result.ledger.patterns[0].realized_support == 0.1
