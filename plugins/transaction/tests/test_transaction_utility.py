"""Utilities: SPMF utility file, profits table and realized utility against independent sums."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

import medmgen
from medmgen.errors import InputError
from medmgen.plugins import load_registry
from medmgen.spec import load_spec
from medmgen_transaction.kinds import HighUtilityItemset


def spec(**extra: object) -> dict:
    block = {"modality": "transaction", "records": 4_000, "items": 300, "chunk": 1_024,
             "utility": {"profit": [1, 20], "quantity": [1, 4]},
             "high_utility": [{"items": [7, 8, 9], "support": 0.02, "quantity": 25},
                              {"items": [8, 40], "support": 0.03, "quantity": 12}],
             "itemsets": [{"items": [1, 2], "support": 0.05}]}
    return {"dataset": {"seed": 2}, "blocks": {"b": block | extra}}


def test_utility_file_profits_and_ledger_agree(tmp_path: Path) -> None:
    ds = medmgen.generate(spec(), out=tmp_path / "p")
    data = tmp_path / "p" / "data"
    plain = (data / "b.txt").read_text().splitlines()
    profit = dict(zip(*pq.read_table(data / "b.profits.parquet").to_pydict().values(), strict=True))
    rows = []
    for line, items_line in zip((data / "b.utility.txt").read_text().splitlines(), plain, strict=True):
        items, tu, utils = line.split(":")
        assert items == items_line
        ids, us = list(map(int, items.split())), list(map(int, utils.split()))
        assert int(tu) == sum(us)
        rows.append({i: u // profit[i] for i, u in zip(ids, us, strict=True)})
        assert all(u % profit[i] == 0 for i, u in zip(ids, us, strict=True))
    boosted = [p for p in ds.ledger.patterns if isinstance(p, HighUtilityItemset)]
    assert len(boosted) == 2 and ds.passed
    for p in boosted:
        holding = [r for r in rows if set(p.items) <= set(r)]
        assert p.realized_support == len(holding) / len(rows)
        assert p.realized_utility == sum(r[i] * profit[i] for r in holding for i in p.items)
    for r in rows:
        big = {i: 25 for i in (7, 8, 9) if {7, 8, 9} <= set(r)}
        for i, q in {i: 12 for i in (8, 40) if {8, 40} <= set(r)}.items():
            big[i] = max(big.get(i, 0), q)
        assert all(r[i] == big.get(i, r[i]) and (i in big or 1 <= r[i] <= 4) for i in r)
    quantities = ds.table("b").column("quantities").to_pylist()
    assert quantities == [list(r.values()) for r in rows]


def test_high_utility_needs_a_utility_table() -> None:
    bad = spec()
    del bad["blocks"]["b"]["utility"]
    bad["blocks"]["b"]["high_utility"][0]["items"] = [7, 999]
    with pytest.raises(InputError) as err:
        load_spec(bad, load_registry())
    paths = {p.path for p in err.value.problems}
    assert paths == {"blocks.b.high_utility", "blocks.b.high_utility[0].items"}
