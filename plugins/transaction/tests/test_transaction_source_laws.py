"""A block with ``source``: the laws the file replaces default to none (so spec.toml shows no law
that was not used) and any value given for them is refused, a default one included."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

import medmgen
from medmgen.cli import main
from medmgen.errors import InputError
from medmgen.plugins import load_registry
from medmgen.spec import load_spec

DEFAULT_LAWS = {"length": {"distribution": "poisson", "mean": 10.0}, "popularity": {"distribution": "uniform"}}


def problems(block: dict[str, Any]) -> list[tuple[str, str]]:
    """``(key path, message)`` of every problem of one block named ``b``, or [] when it loads."""
    try:
        load_spec({"blocks": {"b": {"modality": "transaction"} | block}}, load_registry(), source="s.toml")
    except InputError as err:
        return [(p.path.removeprefix("blocks.b."), p.message) for p in err.problems]
    return []


@pytest.fixture
def real(tmp_path: Path) -> Path:
    path = tmp_path / "real.dat"
    path.write_text("1 2 3\n2 4\n1 5 6 7\n3\n2 3 4 5\n" * 40)
    return path


def test_a_source_block_shows_no_unused_law_and_reproduces(tmp_path: Path, real: Path) -> None:
    (tmp_path / "s.toml").write_text(tomli_w.dumps({"dataset": {"seed": 3}, "blocks": {
        "r": {"modality": "transaction", "source": real.name, "itemsets": [{"items": [1, 4], "support": 0.1}]},
        "p": {"modality": "transaction", "records": 300, "items": 20}}}))
    spec = load_spec(tmp_path / "s.toml", load_registry())
    assert (spec.blocks["r"].length, spec.blocks["r"].popularity) == (None, None)
    text = spec.to_toml()
    tables = tomllib.loads(text)["blocks"]
    assert not {"length", "popularity", "records", "items"} & set(tables["r"])
    # a block without source still shows (and uses) its default laws
    assert tables["p"]["length"] == {"distribution": "poisson", "mean": 10.0, "values": [], "weights": []}
    assert tables["p"]["popularity"] == {"distribution": "uniform", "weights": []}
    again = load_spec(tomllib.loads(text), load_registry(), source=str(tmp_path / "again.toml"))
    assert again.to_toml() == text  # spec.toml reads back to the same bytes
    ds = medmgen.generate(tmp_path / "s.toml", out=tmp_path / "pkg")
    assert (tmp_path / "pkg" / "spec.toml").read_text() == text
    assert ds.table("r").num_rows == 200  # the file's count: its laws were used
    assert main(["reproduce", str(tmp_path / "pkg"), "-o", str(tmp_path / "again")]) == 0
    for name in ("spec.toml", "ledger.json", "manifest.json", "data/r.parquet", "data/r.txt", "data/p.txt"):
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "pkg" / name).read_bytes()


@pytest.mark.parametrize("given", [DEFAULT_LAWS, {"length": {"distribution": "geometric", "mean": 4.0},
                                                  "popularity": {"distribution": "zipf", "exponent": 2.0}}])
def test_every_law_given_beside_source_is_refused_whatever_its_value(real: Path, given: dict[str, Any]) -> None:
    assert problems({"source": str(real)} | given) == [("length", "learned from source; leave it out"),
                                                       ("popularity", "learned from source; leave it out")]
    for key, law in given.items():  # each alone: only it is reported
        assert problems({"source": str(real), key: law}) == [(key, "learned from source; leave it out")]
    assert problems({"source": str(real)}) == []


def test_a_default_law_beside_source_stops_generate_with_exit_2(tmp_path: Path, real: Path,
                                                                capsys: pytest.CaptureFixture) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text(tomli_w.dumps({"blocks": {"b": {"modality": "transaction", "source": real.name}
                                              | {"popularity": DEFAULT_LAWS["popularity"]}}}))
    out = tmp_path / "out"
    assert main(["generate", str(spec), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "blocks.b.popularity" in err and "learned from source" in err and "blocks.b.length" not in err
    assert not out.exists()


def test_empirical_popularity_beside_source_is_one_problem_not_two(real: Path) -> None:
    got = problems({"source": str(real), "items": 10, "popularity": {"distribution": "empirical",
                                                                      "weights": [1.0, 2.0]}})
    assert got == [("popularity", "learned from source; leave it out")]


def test_a_law_set_to_none_without_source_is_refused() -> None:
    assert problems({"records": 10, "length": None}) == [("length", "needed without source")]
