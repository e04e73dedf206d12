"""Spec checks of a sequence block: keys a `source` or a distribution does not use, no cascading
second errors, and the nesting check with gaps, windows and drift segments."""

from __future__ import annotations

import random
import tomllib

import pytest
import sequence_reference as ref
import tomli_w

import medmgen
from medmgen.errors import InputError
from medmgen.spec import load_spec
from medmgen_sequence.spec import SequentialPatternSpec, _contains


def problems(registry, block: dict) -> list[tuple[str, str]]:
    """``(key path, message)`` of every problem of one block named ``c``, or [] when it loads."""
    try:
        load_spec({"blocks": {"c": block}}, registry, source="s.toml")
    except InputError as err:
        return [(p.path.removeprefix("blocks.c."), p.message) for p in err.problems]
    return []


def base(**keys) -> dict:
    return {"modality": "sequence", "records": 2000, "items": 50} | keys


def pattern(sequence, support, **keys) -> dict:
    return {"sequence": sequence, "support": support} | keys


# ---------------------------------------------------------------- source
def test_a_source_block_leaves_the_laws_it_does_not_use_out_of_spec_toml(tmp_path, registry):
    src = tmp_path / "real.txt"
    src.write_text("1 -1 2 3 -1 -2\n4 -1 -2\n2 -1 -2\n")
    (tmp_path / "s.toml").write_text(tomli_w.dumps({"dataset": {"seed": 3}, "blocks": {"r": {
        "modality": "sequence", "source": "real.txt", "sequential_patterns": [pattern([[1], [2]], 0.3)]}}}))
    spec = load_spec(tmp_path / "s.toml", registry)
    block = spec.blocks["r"]
    assert (block.itemsets, block.itemset_size, block.popularity) == (None, None, None)
    text = spec.to_toml()
    table = tomllib.loads(text)["blocks"]["r"]
    assert not {"itemsets", "itemset_size", "popularity", "records", "items"} & set(table)
    again = load_spec(tomllib.loads(text), registry, source=str(tmp_path / "again.toml"))
    assert again.to_toml() == text  # spec.toml reads back to the same bytes
    ds = medmgen.generate(tmp_path / "s.toml", out=tmp_path / "pkg")
    assert (tmp_path / "pkg" / "spec.toml").read_text() == text
    assert ds.table("r").num_rows == 3


def test_every_law_given_beside_source_is_refused_whatever_its_value(tmp_path, registry):
    src = tmp_path / "real.txt"
    src.write_text("1 -1 2 -1 -2\n")
    defaults = {"itemsets": {"distribution": "poisson", "mean": 8.0}, "popularity": {"distribution": "uniform"},
                "itemset_size": {"distribution": "poisson", "mean": 2.5, "max": 64}}
    got = problems(registry, {"modality": "sequence", "source": str(src)} | defaults)
    assert got == [(key, "learned from source; leave it out") for key in ("itemsets", "itemset_size", "popularity")]
    assert problems(registry, {"modality": "sequence", "source": str(src)}) == []
    wrong = {"itemsets": {"distribution": "poisson", "mean": -1.0}, "popularity": {"distribution": "zipf",
                                                                                  "exponent": -3.0}}
    got = problems(registry, {"modality": "sequence", "source": str(src)} | wrong)  # one mistake, one problem
    assert got == [(key, "learned from source; leave it out") for key in ("itemsets", "popularity")]
    assert ("itemsets.mean", "out of range") in problems(registry, {"modality": "sequence"} | wrong)
    # other whole-field problems keep the range problems inside the field: two mistakes, two problems
    drift = {"sequential_patterns": [{"sequence": [[1], [2]], "support": 0.1, "drift": {"support": 1.5}}]}
    got = problems(registry, {"modality": "sequence"} | drift)
    assert [path for path, _ in got] == ["sequential_patterns[0].drift.support", "sequential_patterns[0].drift"]


# ---------------------------------------------------------------- keys a distribution does not use
def test_empirical_counts_take_no_other_max_or_mean(registry):
    empirical = {"distribution": "empirical", "weights": [0, 0, 1]}
    assert problems(registry, base(itemsets=empirical | {"max": 2, "mean": 1.0})) == [
        ("itemsets.max", "empirical counts end at the last weight (leave max out)"),
        ("itemsets.mean", "empirical counts have the weights' mean (leave mean out)")]
    assert problems(registry, base(itemsets=empirical | {"max": 3, "mean": 3.0})) == []  # what the weights say
    spec = load_spec({"blocks": {"c": base(itemsets=empirical)}}, registry)
    assert tomllib.loads(spec.to_toml())["blocks"]["c"]["itemsets"] == {"distribution": "empirical",
                                                                          "weights": [0.0, 0.0, 1.0]}
    # the fit check uses the weights' longest count: a pattern of 4 itemsets cannot fit in 3
    assert problems(registry, base(itemsets=empirical, sequential_patterns=[
        pattern([[1], [2], [3], [4]], 0.1)])) == [
        ("sequential_patterns[0].sequence", "the pattern cannot fit: with min_gap it spans more itemsets than "
         "the longest sequence allowed (itemsets.max)")]


def test_weights_beside_another_distribution_are_refused(registry):
    assert problems(registry, base(itemsets={"distribution": "poisson", "mean": 3.0, "weights": [1, 2]},
                                   popularity={"distribution": "zipf", "weights": [1.0] * 50})) == [
        ("itemsets.weights", "weights belong to distribution = 'empirical'"),
        ("popularity.weights", "weights belong to distribution = 'empirical'")]


# ---------------------------------------------------------------- one problem, one message
@pytest.mark.parametrize(("keys", "path"), [
    ({"sequential_patterns": [pattern([[3], [4]], 0.1, max_gap=0)]}, "sequential_patterns[0].max_gap"),
    ({"timestamps": {"kind": "regular", "interval": 2},
      "sequential_patterns": [pattern([[3], [4]], 0.1, max_window=-1)]}, "sequential_patterns[0].max_window"),
    ({"itemset_size": {"distribution": "poisson", "mean": 2.0, "max": 0}}, "itemset_size.max"),
    ({"itemsets": {"distribution": "poisson", "max": 0}, "sequential_patterns": [pattern([[3], [4]], 0.1)]},
     "itemsets.max"),
])
def test_an_out_of_range_value_is_one_problem_not_a_cascade(registry, keys, path):
    assert problems(registry, base(**keys)) == [(path, "out of range")]


def test_an_abrupt_drift_at_the_first_record_is_refused(registry):
    drifts = [{"at": 0, "support": 0.05}, {"at": 0, "support": 0.05, "kind": "gradual", "width": 100},
              {"at": 1, "support": 0.05}]
    got = problems(registry, base(sequential_patterns=[pattern([[3 + 2 * i], [4 + 2 * i]], 0.1, drift=d)
                                                       for i, d in enumerate(drifts)]))
    assert got == [("sequential_patterns[0].drift.at",
                    "an abrupt change at the first record leaves the pattern's own support unused")]
    timed = base(timestamps={"kind": "regular", "arrival": 3},
                 sequential_patterns=[pattern([[3], [4]], 0.1, drift={"at_time": 0, "support": 0.05})])
    assert [p for p, _ in problems(registry, timed)] == ["sequential_patterns[0].drift.at_time"]


# ---------------------------------------------------------------- nesting
def nesting(registry, *patterns, records: int = 20000) -> list[tuple[str, str]]:
    with pytest.raises(InputError) as err:
        load_spec({"blocks": {"c": base(records=records, items=500, sequential_patterns=list(patterns))}}, registry)
    return [(p.path.removeprefix("blocks.c."), p.expected) for p in err.value.problems]


def loads(registry, *patterns, records: int = 20000) -> bool:
    load_spec({"blocks": {"c": base(records=records, items=500, sequential_patterns=list(patterns))}}, registry)
    return True


def test_a_contained_pattern_below_a_drifting_container_is_refused(registry):
    """<{3},{4}> is in every sequence holding <{3},{4},{5}>, planted at 0.05 in records 0..9999 and 0.01 after:
    0.03 over the block."""
    big = pattern([[3], [4], [5]], 0.05, drift={"at": 10000, "support": 0.01})
    assert nesting(registry, pattern([[3], [4]], 0.02), big) == [("sequential_patterns[0].support", ">= 0.03")]
    assert loads(registry, pattern([[3], [4]], 0.03), big)
    # a drifting contained pattern is judged per segment: 0.04 before is below 0.05, 0.01 after is enough
    small = pattern([[3], [4]], 0.04, drift={"at": 10000, "support": 0.01})
    assert nesting(registry, small, big) == [("sequential_patterns[0].support", ">= 0.05")]
    # its change earlier than the container's: records 5000..19999 carry 0.05 on 5000 of them, 0.01 on 10000
    early = pattern([[3], [4]], 0.05, drift={"at": 5000, "support": 0.02})
    assert nesting(registry, early, big) == [("sequential_patterns[0].drift.support", ">= 0.0233333")]
    # a gradual ramp counts at its lower end: only certain shortfalls are refused
    ramp = pattern([[3], [4], [5]], 0.05, drift={"at": 5000, "support": 0.01, "kind": "gradual", "width": 10000})
    assert loads(registry, pattern([[3], [4]], 0.02), ramp)  # (0.05 * 5000 + 0.01 * 15000) / 20000 at least
    assert nesting(registry, pattern([[3], [4]], 0.019), ramp) == [("sequential_patterns[0].support", ">= 0.02")]


def test_gaps_and_windows_of_a_contained_pattern(registry):
    big = pattern([[3], [4], [5]], 0.05, max_gap=1)
    assert nesting(registry, pattern([[3], [4]], 0.02, max_gap=1), big) == [
        ("sequential_patterns[0].support", ">= 0.05")]
    assert nesting(registry, pattern([[3], [5]], 0.02, max_gap=2), big) == [  # two steps of at most 1
        ("sequential_patterns[0].support", ">= 0.05")]
    assert loads(registry, pattern([[3], [5]], 0.02, max_gap=1), big)  # 3 and 5 are 2 apart in big
    assert loads(registry, pattern([[3], [4]], 0.02, max_gap=1), pattern([[3], [4], [5]], 0.05))  # big unbounded
    assert nesting(registry, pattern([[3], [5]], 0.02, min_gap=2), pattern([[3], [4], [5]], 0.05)) == [
        ("sequential_patterns[0].support", ">= 0.05")]
    assert loads(registry, pattern([[3], [4]], 0.02, min_gap=2), pattern([[3], [4], [5]], 0.05))
    times = {"kind": "regular", "interval": 1}
    held = [pattern([[3], [5]], 0.02, max_window=5), pattern([[3], [4], [5]], 0.05, max_window=3)]
    with pytest.raises(InputError):
        load_spec({"blocks": {"c": base(items=500, timestamps=times, sequential_patterns=held)}}, registry)
    free = [pattern([[3], [5]], 0.02, max_window=3), pattern([[3], [4], [5]], 0.05)]
    load_spec({"blocks": {"c": base(items=500, timestamps=times, sequential_patterns=free)}}, registry)


def _random_pattern(rng: random.Random) -> SequentialPatternSpec:
    length = rng.randint(1, 4)
    max_gap = rng.choice([None, 1, 2, 3])
    min_gap = rng.randint(1, max_gap or 2)
    return SequentialPatternSpec(sequence=[sorted(rng.sample(range(1, 5), rng.randint(1, 2))) for _ in range(length)],
                                 support=0.1, min_gap=min_gap, max_gap=max_gap,
                                 max_window=rng.choice([None, 2, 4, 6]))


def _inside(rng: random.Random, big: SequentialPatternSpec) -> SequentialPatternSpec:
    """A pattern made of some of ``big``'s itemsets, in order, with random gaps and window."""
    keep = sorted(rng.sample(range(len(big.sequence)), rng.randint(1, len(big.sequence))))
    other = _random_pattern(rng)
    return SequentialPatternSpec(sequence=[rng.sample(big.sequence[k], rng.randint(1, len(big.sequence[k])))
                                           for k in keep], support=0.1, min_gap=other.min_gap,
                                 max_gap=other.max_gap, max_window=other.max_window)


def test_containment_claims_hold_on_every_sequence():
    """Whenever the check says every sequence holding ``big`` holds ``small``, brute force agrees on
    random sequences with random times (the claims must be certain; it may miss some)."""
    rng = random.Random(11)
    db = [[sorted(rng.sample(range(1, 5), rng.randint(1, 3))) for _ in range(rng.randint(1, 9))]
          for _ in range(1500)]
    times = [[sum(rng.randint(1, 2) for _ in range(k)) for k in range(len(s))] for s in db]
    claims = 0
    for _ in range(400):
        big = _random_pattern(rng)
        small = _inside(rng, big) if rng.random() < 0.8 else _random_pattern(rng)
        if not _contains(big, small):
            continue
        claims += 1
        for seq, t in zip(db, times):
            if ref.supports(seq, big.sequence, big.min_gap, big.max_gap, big.max_window, t):
                assert ref.supports(seq, small.sequence, small.min_gap, small.max_gap, small.max_window, t), \
                    (big, small, seq, t)
    assert claims > 60


def test_a_law_set_to_none_without_source_is_one_problem():
    """Only a Python dict can say none (TOML has no null): one problem, not a crash in the generator."""
    spec = {"dataset": {"name": "n", "seed": 1},
            "blocks": {"b": {"modality": "sequence", "records": 100, "itemsets": None}}}
    with pytest.raises(InputError) as err:
        medmgen.generate(spec)
    assert [(p.path, p.message) for p in err.value.problems] == [("blocks.b.itemsets", "needed without source")]
