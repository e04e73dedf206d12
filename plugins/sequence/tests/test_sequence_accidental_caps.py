"""The accidental search's bounds: at most ``max_listed`` patterns listed (the most frequent, all
counted), no pair counting past ``max_items`` frequent items, and the report saying so."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_sequence_kernels import to_csr
from test_sequence_mining import accidental_twin, planted, random_data

import medmgen
from medmgen.cli import main
from medmgen.report import summary_lines
from medmgen_sequence import mining
from medmgen_sequence.io import SequenceData


@pytest.mark.parametrize(("seed", "tile_cells"), [(0, 1 << 22), (1, 5), (2, 17)])
def test_list_is_the_most_frequent_with_every_pattern_counted(seed, tile_cells):
    rng = np.random.default_rng(seed)
    n_items = 9
    db, data = random_data(rng, 150, n_items)
    plan = planted(rng, n_items, 4)
    want, frequent = accidental_twin(db, plan, n_items)
    assert len(want) > 6
    got, search = mining.accidental(data, plan, n_items, "b", tile_cells=tile_cells, max_listed=5)
    assert [(tuple(x[0] for x in p.sequence), p.realized_support) for p in got] == want[:5]
    assert [p.id for p in got] == [f"b/accidental/{n}" for n in range(5)]
    assert search.found == len(want) and search.frequent_items == frequent and not search.complete
    assert search.note == f"{len(want)} found; only the 5 most frequent are listed"
    full, search = mining.accidental(data, plan, n_items, "b", tile_cells=tile_cells, max_listed=len(want))
    assert len(full) == len(want) and search.complete and not search.note  # exactly at the cap: complete


def test_too_many_frequent_items_stops_the_search_and_keeps_the_counts():
    rng = np.random.default_rng(7)
    n_items = 10
    db, _ = random_data(rng, 150, n_items - 1)
    db.append([[n_items]] * 200)  # id 10 seen 200 times, in one sequence
    seq_off, set_off, items = to_csr(db)
    data = SequenceData(seq_off=seq_off, set_off=set_off, items=items, times=np.arange(set_off.size - 1))
    plan = planted(rng, n_items - 1, 4)
    want, frequent = accidental_twin(db, plan, n_items)
    counts, found, search = mining.ledger(data, plan, n_items, None, "b", max_items=frequent - 1)
    assert found == [] and not search.complete and search.frequent_items == frequent and search.found == 0
    assert f"{frequent} items are frequent (more than {frequent - 1})" in search.note
    assert counts.tolist() == mining.supports(data, plan, n_items).tolist()
    # items seen often enough but frequent in fewer sequences: narrowed to the frequent ones, exact
    need = int(np.ceil(min(p.target_support for p in plan if p.target_support) * len(db) - 1e-9))
    seen = np.bincount(data.items, minlength=n_items + 1)[1:]
    assert int((seen >= need).sum()) > frequent
    counts2, found2, search2 = mining.ledger(data, plan, n_items, None, "b", max_items=frequent)
    assert counts2.tolist() == counts.tolist() and search2 == mining.Search(frequent_items=frequent, found=len(want))
    assert [(tuple(x[0] for x in p.sequence), p.realized_support) for p in found2] == want


def test_generate_reports_a_cut_list(tmp_path, capsys):
    """150 items and a pattern of support 0.001: about 22,000 frequent pairs, 10,000 listed."""
    spec = {"dataset": {"name": "many", "seed": 26}, "blocks": {"m": {
        "modality": "sequence", "records": 2000, "items": 150,
        "itemsets": {"distribution": "poisson", "mean": 20.0},
        "itemset_size": {"distribution": "poisson", "mean": 3.0},
        "sequential_patterns": [{"sequence": [[1], [2]], "support": 0.001}]}}}
    result = medmgen.generate(spec, out=tmp_path / "pkg")
    metrics = json.loads((tmp_path / "pkg" / "report.json").read_text())["metrics"]["blocks"]["m"]
    ledger = json.loads((tmp_path / "pkg" / "ledger.json").read_text())
    assert len(ledger["accidental"]) == metrics["accidental"] == mining.MAX_ACCIDENTAL
    assert metrics["accidental_found"] > mining.MAX_ACCIDENTAL and metrics["accidental_search_complete"] is False
    assert metrics["accidental_search_note"].endswith("only the 10,000 most frequent are listed")
    supports = [p["realized_support"] for p in ledger["accidental"]]
    assert supports == sorted(supports, reverse=True)
    assert any("accidental search incomplete in m" in line for line in summary_lines(result, tmp_path / "pkg"))
    # precision counts every unplanned pattern found, not only those listed; evaluate agrees
    spec_error = json.loads((tmp_path / "pkg" / "report.json").read_text())["metrics"]["spec_error"]
    found = spec_error["recall"] * spec_error["patterns"]
    assert spec_error["precision"] == pytest.approx(found / (found + metrics["accidental_found"]), rel=1e-12)
    assert main(["-q", "evaluate", str(tmp_path / "pkg"), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)["metrics"]["spec_error"]
    assert again["precision"] == spec_error["precision"]
