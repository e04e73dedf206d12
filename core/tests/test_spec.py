"""Spec parsing: defaults, round trips, overrides and every problem with its key path."""

from __future__ import annotations

import pytest

from medmgen.errors import InputError
from medmgen.spec import load_spec


def problems(spec, registry, **kw):
    with pytest.raises(InputError) as info:
        load_spec(spec, registry, **kw)
    return {p.path: p for p in info.value.problems}


def test_defaults_are_filled_and_written_back(toy_spec, registry):
    spec = load_spec(toy_spec, registry)
    assert spec.dataset.seed == 11
    assert spec.blocks["flags"].generator == "exact"  # the modality's default, resolved
    assert spec.feedback.max_iterations >= 1
    assert spec.thresholds["max_support_deviation"] == 0.001
    resolved = spec.to_toml()
    assert 'generator = "exact"' in resolved and "max_support_deviation" in resolved


def test_resolved_spec_round_trips(toy_spec, registry, tmp_path):
    spec = load_spec(toy_spec, registry)
    again = tmp_path / "resolved.toml"
    again.write_text(spec.to_toml())
    spec2 = load_spec(again, registry)
    assert spec2.to_toml() == spec.to_toml()
    assert spec2.digest() == spec.digest()


def test_every_problem_is_reported_at_once(registry):
    bad = {
        "dataset": {"seed": "x", "colour": 1},
        "blocks": {
            "a": {"modality": "toy", "records": 0, "rates": [0.5, 1.5]},
            "b": {"modality": "nope"},
            "c": {"modality": "toy", "generator": "missing"},
        },
        "thresholds": {"max_support_deviation": -1, "unknown": 1},
        "extra": {},
    }
    found = problems(bad, registry, source="bad.toml")
    assert set(found) == {
        "dataset.seed", "dataset.colour", "blocks.a.records", "blocks.a.rates[1]", "blocks.b.modality",
        "blocks.c.generator", "thresholds.max_support_deviation", "thresholds.unknown", "extra",
    }
    assert found["blocks.a.rates[1]"].got == 1.5
    assert found["blocks.a.rates[1]"].expected == "> 0 and <= 1"
    text = found["blocks.a.records"].render("bad.toml")
    assert text == "bad.toml:blocks.a.records: out of range (expected >= 1 and <= 10000000, got 0)"


def test_types_are_strict(registry):
    found = problems({"blocks": {"a": {"modality": "toy", "records": 1.5, "fail": 1}}}, registry)
    assert found["blocks.a.records"].expected == "an integer"
    assert found["blocks.a.fail"].expected == "true or false"


def test_missing_blocks_and_bad_names(registry):
    assert "blocks" in problems({"dataset": {}}, registry)
    assert "blocks.9bad" in problems({"blocks": {"9bad": {"modality": "toy"}}}, registry)


def test_broken_toml_names_the_file(tmp_path, registry):
    path = tmp_path / "broken.toml"
    path.write_text("[dataset\nseed = 1")
    with pytest.raises(InputError) as info:
        load_spec(path, registry)
    assert str(info.value).startswith(f"{path}: not valid TOML")


def test_missing_file(tmp_path, registry):
    with pytest.raises(InputError, match="file not found"):
        load_spec(tmp_path / "nope.toml", registry)


def test_overrides_are_typed(toy_spec, registry):
    spec = load_spec(toy_spec, registry, overrides=["blocks.flags.records=500", "blocks.flags.rates[1]=0.2",
                                                    "dataset.name=renamed"])
    assert spec.blocks["flags"].records == 500
    assert spec.blocks["flags"].rates == [0.25, 0.2]
    assert spec.dataset.name == "renamed"
    found = problems(toy_spec, registry, overrides=["blocks.flags.records=many"])
    assert found["blocks.flags.records"].got == "many"
    assert "--set nokey" in problems(toy_spec, registry, overrides=["nokey"])
    assert "blocks.flags.rates[7]" in problems(toy_spec, registry, overrides=["blocks.flags.rates[7]=0.1"])


def test_seed_argument_overrides_spec(toy_spec, registry):
    assert load_spec(toy_spec, registry, seed=99).dataset.seed == 99
