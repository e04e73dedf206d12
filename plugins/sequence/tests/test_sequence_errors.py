"""Bad input: every spec problem at once with its key path; malformed SPMF names the line."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import tomli_w

import medmgen
from medmgen.cli import main
from medmgen.errors import InputError
from medmgen.interfaces import BlockContext
from medmgen.spec import load_spec
from medmgen_sequence.io import read_spmf


def bad_spec() -> dict:
    return {"dataset": {"seed": 1}, "blocks": {"c": {
        "modality": "sequence", "records": 100, "items": 50,
        "itemsets": {"distribution": "poisson", "mean": 4.0, "max": 10},
        "sequential_patterns": [
            {"sequence": [[1], [2]], "support": 0.1, "min_gap": 3, "max_gap": 2},
            {"sequence": [[0, 51], [7, 7], []], "support": 0.1},
            {"sequence": [[1], [2], [3], [4]], "support": 0.1, "min_gap": 4},
            {"sequence": [[1]], "support": 1.5},
            {"sequence": [[1], [2]], "support": 0.1, "max_window": 5,
             "drift": {"at": 90, "support": 0.2, "kind": "gradual", "width": 20}},
            {"sequence": [[1], [2]], "support": 0.1, "drift": {"at": 10, "support": 0.2, "kind": "gradual"}},
        ],
        "random_sequential_patterns": {"count": 2, "length": [3, 2], "support": [0.1, 0.01]},
    }}}


def test_every_spec_problem_is_reported_with_its_path(registry):
    with pytest.raises(InputError) as err:
        load_spec(bad_spec(), registry, source="bad.toml")
    got = {p.path: p for p in err.value.problems}
    base = "blocks.c.sequential_patterns"
    assert got[f"{base}[0].min_gap"].message == "min_gap larger than max_gap"
    assert got[f"{base}[1].sequence[0][0]"].got == 0
    assert got[f"{base}[1].sequence[0][1]"].got == 51
    assert got[f"{base}[1].sequence[1]"].message == "repeated item in an itemset"
    assert got[f"{base}[1].sequence[2]"].message == "empty itemset"
    assert got[f"{base}[2].sequence"].got == 13  # 1 + 3 * 4 itemset positions > itemsets.max = 10
    assert got[f"{base}[3].support"].message == "out of range"
    assert got[f"{base}[4].max_window"].message == "max_window needs timestamps"
    assert got[f"{base}[4].drift.at"].got == 110
    assert got[f"{base}[5].drift.width"].message == "a gradual drift needs a ramp"
    assert got["blocks.c.random_sequential_patterns.length"].message == "not an inclusive range"
    assert got["blocks.c.random_sequential_patterns.support"].message == "not an inclusive range"


def test_window_too_small_for_regular_times(registry):
    s = bad_spec()
    s["blocks"]["c"] = {"modality": "sequence", "timestamps": {"kind": "regular", "interval": 10},
                        "sequential_patterns": [{"sequence": [[1], [2], [3]], "support": 0.1, "max_window": 15}]}
    with pytest.raises(InputError) as err:
        load_spec(s, registry)
    (problem,) = err.value.problems
    assert (problem.path, problem.expected, problem.got) == ("blocks.c.sequential_patterns[0].max_window", ">= 20",
                                                             15)


def test_a_flat_sequence_is_one_problem_showing_the_itemsets(registry):
    s = bad_spec()
    s["blocks"]["c"] = {"modality": "sequence", "sequential_patterns": [{"sequence": [5, 8, 2], "support": 0.1}]}
    with pytest.raises(InputError) as err:
        load_spec(s, registry)
    (problem,) = err.value.problems
    assert (problem.path, problem.got) == ("blocks.c.sequential_patterns[0].sequence", [5, 8, 2])
    assert problem.expected == "an array of arrays (e.g. [[5], [8], [2]])"


def test_drift_needs_one_start_and_times_for_at_time(registry):
    s = bad_spec()
    s["blocks"]["c"] = {"modality": "sequence", "records": 100, "sequential_patterns": [
        {"sequence": [[1], [2]], "support": 0.1, "drift": {"at": 5, "at_time": 9, "support": 0.2}},
        {"sequence": [[1], [2]], "support": 0.1, "drift": {"at_time": 9, "support": 0.2}},
    ]}
    with pytest.raises(InputError) as err:
        load_spec(s, registry)
    got = {p.path: p.message for p in err.value.problems}
    assert got == {"blocks.c.sequential_patterns[0].drift": "give exactly one of at (record index) and at_time",
                   "blocks.c.sequential_patterns[1].drift.at_time": "at_time needs sequences with start times"}


def test_drift_time_after_the_last_start_is_refused(tmp_path):
    s = bad_spec()
    s["blocks"]["c"] = {"modality": "sequence", "records": 100,
                        "timestamps": {"kind": "poisson", "arrival": 5},
                        "sequential_patterns": [{"sequence": [[1], [2]], "support": 0.1,
                                                 "drift": {"at_time": 10**9, "support": 0.2}}]}
    spec = tmp_path / "late.toml"
    spec.write_text(tomli_w.dumps(s))
    assert main(["generate", str(spec), "-o", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


def test_unknown_key_and_bad_distribution(registry):
    s = bad_spec()
    s["blocks"]["c"] = {"modality": "sequence", "lenght": 3, "popularity": {"distribution": "pareto"},
                        "itemsets": {"distribution": "empirical"}}
    with pytest.raises(InputError) as err:
        load_spec(s, registry)
    paths = {p.path for p in err.value.problems}
    assert {"blocks.c.lenght", "blocks.c.popularity.distribution", "blocks.c.itemsets.weights"} <= paths


def test_cli_exits_2_and_writes_nothing(tmp_path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text(tomli_w.dumps(bad_spec()))
    out = tmp_path / "out"
    assert main(["generate", str(spec), "-o", str(out)]) == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert "bad.toml:blocks.c.sequential_patterns[0].min_gap: min_gap larger than max_gap" in err


def test_malformed_spmf_names_file_and_line(tmp_path, capsys):
    src = tmp_path / "bad.txt"
    src.write_text("1 2 -1 3 -1 -2\n4 -1 -2\n5 -1 6 -2\n")
    with pytest.raises(InputError) as err:
        read_spmf(src)
    assert err.value.problems[0].path == "line 3"
    assert err.value.problems[0].got == "5 -1 6 -2"  # the offending line, beside what was expected
    assert "-2 at the end" in err.value.problems[0].expected
    out = tmp_path / "fitted.toml"
    assert main(["fit", "sequence", str(src), "-o", str(out)]) == 2
    assert not out.exists()
    assert f"{src}:line 3:" in capsys.readouterr().err


def test_ids_past_the_alphabet_cap_are_one_error_in_fit_source_and_evaluate(tmp_path, capsys):
    src = tmp_path / "wide.txt"  # ids past MAX_ITEMS: id-indexed tables would not fit (2e9 took 24 GB)
    src.write_text("1 -1 2 -1 -2\n3 -1 10000001 -1 -2\n")
    fitted = tmp_path / "fitted.toml"
    assert main(["fit", "sequence", str(src), "-o", str(fitted)]) == 2
    assert not fitted.exists()
    spec = tmp_path / "s.toml"
    spec.write_text(tomli_w.dumps({"dataset": {"seed": 1}, "blocks": {"c": {"modality": "sequence",
                                                                           "source": "wide.txt"}}}))
    assert main(["generate", str(spec), "-o", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()
    spec.write_text(tomli_w.dumps({"dataset": {"seed": 1}, "blocks": {"c": {"modality": "sequence",
                                                                           "records": 50, "items": 20}}}))
    assert main(["generate", str(spec), "-o", str(tmp_path / "pkg"), "-q"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "pkg"), "--against", str(src)]) == 2
    err = capsys.readouterr().err
    assert f"{src}:sequence 2: item id too large" in err and "ids up to 10,000,000" in err and "10000001" in err


def test_empty_spmf_file_is_an_error(tmp_path):
    src = Path(tmp_path / "empty.txt")
    src.write_text("# nothing here\n")
    with pytest.raises(InputError):
        read_spmf(src)


def test_a_contained_pattern_cannot_be_asked_below_its_container(registry):
    """Every sequence holding <{1, 4}, {2}, {3}> holds <{1}, {3}> (no gaps asked): 0.05 < 0.1 is impossible.
    With a max_gap on the smaller pattern, or a pattern not contained, any support is allowed."""
    block = {"modality": "sequence", "records": 1000, "items": 50, "sequential_patterns": [
        {"sequence": [[1], [3]], "support": 0.05},
        {"sequence": [[1, 4], [2], [3]], "support": 0.1},
        {"sequence": [[1], [3]], "support": 0.05, "max_gap": 1},
        {"sequence": [[3], [1]], "support": 0.05}]}
    with pytest.raises(InputError) as err:
        load_spec({"blocks": {"c": block}}, registry, source="nested.toml")
    assert [(p.path, p.expected, p.got) for p in err.value.problems] == [
        ("blocks.c.sequential_patterns[0].support", ">= 0.1", 0.05)]


def test_background_laws_beside_source_are_refused(tmp_path, registry):
    src = tmp_path / "real.seq"
    src.write_text("1 -1 2 -1 -2\n3 -1 -2\n")
    block = {"modality": "sequence", "source": str(src), "itemset_size": {"distribution": "poisson", "mean": 3.0}}
    with pytest.raises(InputError) as err:
        load_spec({"blocks": {"c": block}}, registry, source="s.toml")
    assert [(p.path, p.message) for p in err.value.problems] == [
        ("blocks.c.itemset_size", "learned from source; leave it out")]


def test_a_window_the_times_rarely_allow_is_refused_with_the_reachable_share(registry):
    """Poisson gaps of mean 10: few sequences have three itemsets within 2 time units. The
    plan counts them (same seeded times as generation) and refuses a larger target."""
    block = {"modality": "sequence", "records": 3000, "items": 100,
             "itemsets": {"distribution": "poisson", "mean": 2.0, "max": 7},
             "timestamps": {"kind": "poisson", "interval": 10},
             "sequential_patterns": [{"sequence": [[5], [6], [7]], "support": 0.3, "max_window": 2}]}
    spec = load_spec({"dataset": {"seed": 1}, "blocks": {"a": block}}, registry, source="w.toml")
    gen = registry.generator("sequence", "planted")()
    with pytest.raises(InputError) as err:
        gen.plan(spec.blocks["a"], BlockContext(block="a", root_seed=1, spec_dir=Path("."), source="w.toml"))
    (problem,) = err.value.problems
    assert problem.path == "blocks.a.sequential_patterns[0].max_window"
    reachable = float(problem.expected.split("<= ")[1].split(" ")[0])
    assert 0 < reachable < 0.3
    block["sequential_patterns"][0]["support"] = round(reachable * 0.9, 4)
    ok = load_spec({"dataset": {"seed": 1}, "blocks": {"a": block}}, registry, source="w.toml")
    ds = medmgen.generate(ok.to_dict())
    (p,) = ds.ledger.patterns
    assert abs(p.realized_support - p.target_support) <= 0.001


def test_gzip_spmf_is_read(tmp_path):
    text = "1 -1 2 3 -1 -2\n4 -1 -2\n"
    (tmp_path / "a.seq").write_text(text)
    (tmp_path / "a.seq.gz").write_bytes(gzip.compress(text.encode()))
    plain, packed = read_spmf(tmp_path / "a.seq"), read_spmf(tmp_path / "a.seq.gz")
    for name in ("seq_off", "set_off", "items"):
        assert np.array_equal(getattr(plain, name), getattr(packed, name))


def test_a_drift_segment_no_record_can_carry_is_warned_of(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(tomli_w.dumps({"dataset": {"seed": 1}, "blocks": {"c": {
        "modality": "sequence", "records": 20_000,
        "sequential_patterns": [{"sequence": [[1], [2]], "support": 0.00001, "drift": {"at": 15_000,
                                                                                       "support": 0.03}}]}}}))
    assert main(["validate", str(spec)]) == 0
    assert (f"warning: {spec}:blocks.c.sequential_patterns[0].drift: the segment before the change (records "
            "0..14,999) has support x records = 0.15") in capsys.readouterr().err
    spec.write_text(spec.read_text().replace("1e-05", "0.001"))  # 15 records: plantable, no warning
    assert main(["validate", str(spec)]) == 0
    assert "warning" not in capsys.readouterr().err
