"""Every CLI command, through the real entry point in a subprocess: output, files, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pyarrow.parquet as pq
from coretest import TOY_SPEC, run_cli, write

from medmgen.plugins import load_registry
from medmgen.spec import load_spec


def test_validate_ok_and_invalid(tmp_path, toy_spec):
    ok = run_cli("validate", str(toy_spec))
    assert ok.returncode == 0 and "flags [toy/exact, " in ok.stdout
    bad = write(tmp_path / "bad.toml", TOY_SPEC.replace("records = 2000", "records = -3\ncolour = 1"))
    out = run_cli("validate", str(bad))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert lines == [
        f"{bad}:blocks.flags.colour: unknown key (expected one of the documented keys, got 'colour')",
        f"{bad}:blocks.flags.records: out of range (expected >= 1 and <= 10000000, got -3)",
    ]
    assert "Traceback" not in out.stderr


def test_validate_reads_sources_like_generate(tmp_path, toy_spec):
    spec = write(tmp_path / "s.toml", TOY_SPEC.replace("records = 2000", 'records = 2000\nsource = "rates.txt"'))
    out = run_cli("validate", str(spec))
    assert out.returncode == 2 and out.stderr.strip() == (
        f"{spec}:blocks.flags.source: file not found (expected a file, got 'rates.txt')")
    (tmp_path / "rates.txt").write_text("0.25\n0.5\n")
    ok = run_cli("validate", str(spec), "--seed", "9")
    assert ok.returncode == 0 and "2 planned" in ok.stdout, ok.stderr


def test_validate_warns_when_a_support_is_below_one_record(toy_spec):
    out = run_cli("validate", str(toy_spec), "--set", "blocks.flags.records=5")
    assert out.returncode == 0
    assert out.stderr.strip() == (f"warning: {toy_spec}:blocks.flags: 1 pattern(s) have support x records < 1, so no "
                                  "record can carry them (e.g. flags/rate/1); raise records or support")
    assert run_cli("validate", str(toy_spec)).stderr == ""


def test_generate_writes_the_contract_layout(tmp_path, toy_spec):
    out = run_cli("generate", str(toy_spec), "-o", str(tmp_path / "pkg"), "--set", "blocks.flags.records=500")
    assert out.returncode == 0, out.stderr
    pkg = tmp_path / "pkg"
    names = sorted(str(p.relative_to(pkg)) for p in pkg.rglob("*") if p.is_file())
    assert names == ["data/flags.parquet", "data/flags.txt", "evaluation/toy_counts/flags.parquet", "ledger.json",
                     "manifest.json", "report.html", "report.json", "spec.toml"]
    ones = pq.read_table(pkg / "evaluation" / "toy_counts" / "flags.parquet").column("ones").to_numpy()
    assert ones.sum() == json.loads((pkg / "report.json").read_text())["metrics"]["toy_counts"]["flags"]
    manifest = json.loads((pkg / "manifest.json").read_text())
    assert manifest["seed"] == 11 and manifest["plugins"]["medmgen-toy"] == "0.1"
    assert set(manifest["files"]) == set(names) - {"manifest.json"}
    assert "records = 500" in (pkg / "spec.toml").read_text()
    assert "ledger: 2 planted (kept 2" in out.stdout
    ledger = json.loads((pkg / "ledger.json").read_text())
    assert ledger["format"] == "medmgen.ledger/1" and ledger["patterns"][0]["kind"] == "rate"
    assert "<svg" in (pkg / "report.html").read_text()
    again = run_cli("generate", str(toy_spec), "-o", str(pkg))
    assert again.returncode == 2 and "exists and is not empty" in again.stderr


def test_seed_flag_and_exit_1_on_unmet_thresholds(tmp_path, toy_spec):
    out = run_cli("--verbose", "generate", str(toy_spec), "-o", str(tmp_path / "p"), "--seed", "4", "--set",
                  "blocks.flags.generator=noisy", "--set", "feedback.max_iterations=1")
    assert out.returncode == 1
    assert "NOT MET" in out.stdout
    assert "pass 1: max deviation support" in out.stdout and "generate:" in out.stdout
    assert json.loads((tmp_path / "p" / "manifest.json").read_text())["seed"] == 4


def test_reproduce_identical_then_differs(tmp_path, toy_spec):
    assert run_cli("generate", str(toy_spec), "-o", str(tmp_path / "a"), "--set", "blocks.flags.generator=noisy",
                   "--set", "blocks.flags.rates=[0.4, 0.02, 0.2]", "--seed", "3").returncode in (0, 1)
    same = run_cli("reproduce", str(tmp_path / "a"), "-o", str(tmp_path / "b"))
    assert same.returncode == 0, same.stdout + same.stderr
    assert "identical" in same.stdout
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    manifest["files"]["data/flags.parquet"]["sha256"] = "0" * 64
    (tmp_path / "a" / "manifest.json").write_text(json.dumps(manifest))
    differs = run_cli("reproduce", str(tmp_path / "a"), "-o", str(tmp_path / "c"))
    assert differs.returncode == 1 and "data/flags.parquet: sha256 differs" in differs.stdout


def test_reproduce_and_evaluate_check_the_package_against_its_manifest(tmp_path, toy_spec):
    assert run_cli("-q", "generate", str(toy_spec), "-o", str(tmp_path / "a")).returncode == 0
    with (tmp_path / "a" / "data" / "flags.txt").open("a") as f:
        f.write("1 2 3\n")  # a damaged copy: regenerating gives the manifest's bytes, not these
    damaged = run_cli("reproduce", str(tmp_path / "a"), "-o", str(tmp_path / "b"))
    assert damaged.returncode == 1
    assert "data/flags.txt: sha256 differs from manifest.json" in damaged.stdout
    (tmp_path / "a" / "data" / "flags.parquet").unlink()
    gone = run_cli("evaluate", str(tmp_path / "a"))
    assert gone.returncode == 2 and "data/flags.parquet: listed in manifest.json, missing" in gone.stderr


def test_evaluate_reruns_evaluators(tmp_path, toy_spec):
    run_cli("generate", str(toy_spec), "-o", str(tmp_path / "a"))
    out = run_cli("evaluate", str(tmp_path / "a"), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["metrics"]["spec_error"]["patterns"] == 2
    checks = {c["name"]: c for c in data["thresholds"]}
    assert checks["max_support_deviation"]["measured"] and checks["max_support_deviation"]["held"]
    missing = run_cli("evaluate", str(tmp_path / "nothing"))
    assert missing.returncode == 2 and "not found" in missing.stderr


def test_compare_runs_each_generator(tmp_path, toy_spec):
    out = run_cli("compare", str(toy_spec), "--generators", "exact,noisy", "-o", str(tmp_path / "cmp"))
    assert out.returncode == 0, out.stderr
    rows = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert [r["generator"] for r in rows] == ["exact", "noisy"]
    assert rows[0]["spec_error.max_support_deviation"] == 0.0
    for name in ("compare.md", "compare.csv", "compare.html", "exact/ledger.json", "noisy/manifest.json"):
        assert (tmp_path / "cmp" / name).exists()
    assert "<svg" in (tmp_path / "cmp" / "compare.html").read_text()
    assert "order given" in (tmp_path / "cmp" / "compare.md").read_text()  # what the timing columns mean
    bad = run_cli("compare", str(toy_spec), "--generators", "exact,quest", "-o", str(tmp_path / "bad"))
    assert bad.returncode == 2 and "'quest'" in bad.stderr and not (tmp_path / "bad").exists()


def test_schema_lists_core_and_plugin_sections():
    out = run_cli("schema")
    assert out.returncode == 0
    schema = json.loads(out.stdout)
    assert {"dataset", "feedback", "privacy", "blocks", "thresholds"} <= set(schema["properties"])
    variants = schema["properties"]["blocks"]["additionalProperties"]["anyOf"]
    toy = next(v for v in variants if v["title"] == "toy/exact")
    assert toy["properties"]["records"]["minimum"] == 1
    assert toy["properties"]["rates"]["items"]["exclusiveMinimum"] == 0


def test_fit_without_a_fitting_generator_is_bad_input(tmp_path):
    out = run_cli("fit", "toy", str(tmp_path / "x.csv"))
    assert out.returncode == 2 and "no installed generator of this modality can fit" in out.stderr


def test_plugin_failure_exit_2_without_traceback_unless_debug(tmp_path, toy_spec):
    out = run_cli("generate", str(toy_spec), "-o", str(tmp_path / "p"), "--set", "blocks.flags.fail=true")
    assert out.returncode == 2 and "toy failure" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "p").exists()
    debug = run_cli("--debug", "generate", str(toy_spec), "-o", str(tmp_path / "p"), "--set", "blocks.flags.fail=true")
    assert debug.returncode == 2 and "Traceback" in debug.stderr


def test_no_command_prints_help():
    out = run_cli()
    assert out.returncode == 2 and "generate" in out.stdout


def test_output_may_be_the_empty_cwd_and_force_replaces_only_packages(tmp_path, toy_spec):
    here = tmp_path / "here"
    here.mkdir()
    out = run_cli("-q", "generate", str(toy_spec), "-o", ".", cwd=here)
    assert out.returncode == 0, out.stderr
    assert (here / "manifest.json").is_file() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert run_cli("-q", "generate", str(toy_spec), "-o", str(here), "--force").returncode == 0  # a package: replaced
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    refused = run_cli("generate", str(toy_spec), "-o", str(mine), "--force")
    assert refused.returncode == 2 and "not made by medmgen" in refused.stderr
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"] and not list(tmp_path.glob(".mine*"))


def test_validate_reports_every_blocks_planning_problem_at_once(tmp_path):
    spec = tmp_path / "two.toml"
    spec.write_text('[blocks.a]\nmodality = "transaction"\nsource = "none.dat"\n'
                    '[blocks.b]\nmodality = "sequence"\nsource = "none.seq"\n')
    out = run_cli("validate", str(spec))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert [line.split(": ")[0] for line in lines] == [f"{spec}:blocks.a.source", f"{spec}:blocks.b.source"]


def test_compare_keeps_a_blocks_generator_when_the_named_one_does_not_fit_it(tmp_path):
    """``independent`` is the SPMF-style baseline for transactions but a fitting model for tables
    (it needs a source): the tabular block keeps ``planted``, the transaction block switches."""
    spec = tmp_path / "s.toml"
    spec.write_text('[dataset]\nseed = 1\n[blocks.shop]\nmodality = "transaction"\nrecords = 2000\nitems = 100\n'
                    '[[blocks.shop.itemsets]]\nitems = [2, 9]\nsupport = 0.05\n'
                    '[blocks.people]\nmodality = "tabular"\ngenerator = "planted"\nrecords = 300\nnumeric = 3\n')
    out = run_cli("-q", "compare", str(spec), "--generators", "planted,independent", "-o", str(tmp_path / "cmp"))
    assert out.returncode == 0, out.stderr
    written = (tmp_path / "cmp" / "independent" / "spec.toml").read_text()
    assert written.count('generator = "independent"') == 1 and written.count('generator = "planted"') == 1


def test_every_examples_resolved_spec_validates_against_the_schema():
    """`medmgen schema` checked by an independent validator on real resolved specs (defaults
    filled in: list fields with choices, such as graph `export = []`, included)."""
    schema = json.loads(run_cli("schema").stdout)
    validator = jsonschema.validators.validator_for(schema)(schema)
    registry = load_registry()
    examples = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.toml"))
    assert len(examples) >= 5
    for path in examples:
        resolved = load_spec(path, registry).to_dict()
        assert not [e.message for e in validator.iter_errors(resolved)], path.name
    graph = {"blocks": {"net": {"modality": "graph", "nodes": 100, "export": ["graphml"]}}}
    assert not list(validator.iter_errors(load_spec(graph, registry).to_dict()))
    assert list(validator.iter_errors({"blocks": {"net": {"modality": "graph", "nodes": 100, "export": ["pdf"]}}}))


def test_workers_below_one_is_bad_input(tmp_path, toy_spec):
    out = run_cli("generate", str(toy_spec), "-o", str(tmp_path / "p"), "--workers", "-3")
    assert out.returncode == 2 and "--workers: expected an integer >= 1, got '-3'" in out.stderr
    assert not (tmp_path / "p").exists()


def test_force_replaces_only_what_medmgen_wrote(tmp_path, toy_spec):
    """A folder whose manifest.json is someone else's is not a package; a comparison is ours."""
    web = tmp_path / "webapp"
    web.mkdir()
    (web / "manifest.json").write_text('{"name": "my-pwa"}')
    (web / "index.html").write_text("<html></html>")
    refused = run_cli("generate", str(toy_spec), "-o", str(web), "--force")
    assert refused.returncode == 2 and sorted(p.name for p in web.iterdir()) == ["index.html", "manifest.json"]
    for _ in range(2):  # the second run replaces the first comparison
        out = run_cli("-q", "compare", str(toy_spec), "--generators", "exact,noisy", "-o", str(tmp_path / "cmp"),
                      "--force")
        assert out.returncode == 0, out.stderr


def test_force_on_the_working_directory_keeps_it(tmp_path, toy_spec):
    here = tmp_path / "pkg"
    assert run_cli("-q", "generate", str(toy_spec), "-o", str(here)).returncode == 0
    again = run_cli("-q", "generate", str(toy_spec), "-o", ".", "--force", "--seed", "5", cwd=here)
    assert again.returncode == 0, again.stderr
    assert here.is_dir() and json.loads((here / "manifest.json").read_text())["seed"] == 5
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
