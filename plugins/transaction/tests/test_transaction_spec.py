"""Bad input: every problem reported with its key path, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from medmgen.cli import main
from medmgen.errors import InputError
from medmgen.plugins import load_registry
from medmgen.spec import load_spec


def block(**keys: Any) -> dict[str, Any]:
    return {"dataset": {"seed": 1},
            "blocks": {"baskets": {"modality": "transaction", "records": 1_000, "items": 100} | keys}}


def problems(spec: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InputError) as err:
        load_spec(spec, load_registry())
    return {p.path: p.message for p in err.value.problems}


def test_defaults_are_valid() -> None:
    spec = load_spec(block(), load_registry())
    resolved = spec.to_dict()["blocks"]["baskets"]
    assert resolved["length"] == {"distribution": "poisson", "mean": 10.0, "values": [], "weights": []}
    assert resolved["chunk"] == 65_536 and resolved["random_itemsets"]["count"] == 0


@pytest.mark.parametrize("support", [0, -0.1, 1.5])
def test_support_outside_unit_interval(support: float) -> None:
    got = problems(block(itemsets=[{"items": [1, 2], "support": 0.1}, {"items": [3], "support": support}]))
    assert got == {"blocks.baskets.itemsets[1].support": "out of range"}


def test_ids_outside_the_alphabet_and_repeated() -> None:
    got = problems(block(itemsets=[{"items": [1, 101], "support": 0.1}, {"items": [4, 4], "support": 0.1}],
                         rules=[{"antecedent": [0], "consequent": [5], "support": 0.1, "confidence": 0.5}]))
    assert got["blocks.baskets.itemsets[0].items"] == "id outside 1..items"
    assert got["blocks.baskets.itemsets[1].items"] == "repeated item id"
    assert got["blocks.baskets.rules[0].antecedent[0]"] == "out of range"  # reported once, at the element
    assert "blocks.baskets.rules[0].antecedent" not in got


def test_disjoint_itemsets_that_cannot_fit_in_short_transactions() -> None:
    spec = block(length={"distribution": "poisson", "mean": 3.0},
                 itemsets=[{"items": [1, 2, 3], "support": 0.7}, {"items": [4, 5, 6], "support": 0.7}])
    assert list(problems(spec)) == ["blocks.baskets"]
    spec["blocks"]["baskets"]["length"]["mean"] = 10.0
    load_spec(spec, load_registry())


def test_random_itemset_ranges_reversed_and_too_many() -> None:
    got = problems(block(random_itemsets={"count": 3, "size": [5, 2], "support": [0.03, 0.01]}))
    assert got == {"blocks.baskets.random_itemsets.size": "range reversed",
                   "blocks.baskets.random_itemsets.support": "range reversed"}
    got = problems(block(random_itemsets={"count": 40, "size": [3, 3], "support": [0.001, 0.002]}))
    assert got == {"blocks.baskets.random_itemsets.count": "not enough item ids for the random itemsets"}


def test_nested_itemsets_and_rules_need_consistent_supports() -> None:
    got = problems(block(itemsets=[{"items": [1, 2, 3], "support": 0.2}, {"items": [1, 2], "support": 0.1},
                                   {"items": [1, 2], "support": 0.3}],
                         rules=[{"antecedent": [7], "consequent": [7, 8], "support": 0.3, "confidence": 0.2}]))
    assert got["blocks.baskets.itemsets[1].support"].startswith("support below that of itemsets[0]")
    assert got["blocks.baskets.itemsets[2]"] == "same items as itemsets[1]"
    assert got["blocks.baskets.rules[0].consequent"] == "shares ids with the antecedent"
    assert got["blocks.baskets.rules[0].confidence"].startswith("below the rule's support")


def test_distribution_keys_must_match_the_distribution() -> None:
    got = problems(block(length={"distribution": "empirical", "values": [1, 2], "weights": [1.0]},
                         popularity={"distribution": "empirical", "weights": [1.0] * 99}))
    assert got == {"blocks.baskets.length.weights": "one weight per value",
                   "blocks.baskets.popularity.weights": "one weight per item id 1..items"}
    got = problems(block(popularity={"distribution": "uniform", "exponent": 2.0}, chunk=0))
    assert set(got) == {"blocks.baskets.popularity.exponent", "blocks.baskets.chunk"}


def test_cli_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text('[blocks.b]\nmodality = "transaction"\nitems = 10\n'
                    '[[blocks.b.itemsets]]\nitems = [3, 11]\nsupport = 1.2\n')
    out = tmp_path / "out"
    assert main(["validate", str(spec)]) == 2
    assert main(["generate", str(spec), "-o", str(out)]) == 2
    assert not out.exists()


@pytest.mark.parametrize(("content", "where", "named"), [(None, "blocks.b.source", "s.toml"),
                                                       ("1 2 3\n4 x 5\n", "line 2", "real.dat")])
def test_bad_source_file_is_an_input_error(tmp_path: Path, content: str | None, where: str, named: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "real.dat"
    if content is not None:
        data.write_text(content)
    spec = tmp_path / "s.toml"
    spec.write_text('[blocks.b]\nmodality = "transaction"\nsource = "real.dat"\n')
    out = tmp_path / "out"
    assert main(["generate", str(spec), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert where in err and named in err
    assert not out.exists()


def test_keys_learned_from_a_source_are_refused_not_ignored() -> None:
    got = problems(block(source="real.dat", length={"distribution": "poisson", "mean": 30.0},
                         popularity={"distribution": "zipf"}))
    assert got == {"blocks.baskets.length": "learned from source; leave it out",
                   "blocks.baskets.popularity": "learned from source; leave it out"}
