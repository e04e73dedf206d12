"""``medmgen evaluate DIR --against FILE`` through the real entry point: a file no evaluator
compares a block with is an input error (exit 2, nothing printed), never silently ignored."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from coretest import run_cli

DOCS = Path(__file__).parents[2] / "docs"
BLOCKS = {
    "graph": '[blocks.net]\nmodality = "graph"\nnodes = 200\navg_degree = 4\n',
    "transaction": '[blocks.shop]\nmodality = "transaction"\nrecords = 300\nitems = 20\n',
    "tabular": '[blocks.people]\nmodality = "tabular"\ngenerator = "planted"\nrecords = 300\n',
}


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small package per modality, made by ``medmgen generate``."""
    root = tmp_path_factory.mktemp("against")
    out = {}
    for modality, block in BLOCKS.items():
        spec = root / f"{modality}.toml"
        spec.write_text(f"[dataset]\nseed = 1\n{block}")
        done = run_cli("-q", "generate", str(spec), "-o", str(root / modality))
        assert done.returncode in (0, 1) and (root / modality / "manifest.json").is_file(), done.stderr
        out[modality] = root / modality  # (exit 1: a threshold of the tiny graph missed; still a package)
    return out


def refused(pkg: Path, real: Path, held: str) -> str:
    """Run ``evaluate --against``, with and without ``--json``; check the error; return its line."""
    for extra in ((), ("--json",)):
        done = run_cli("evaluate", str(pkg), "--against", str(real), *extra)
        assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1
        line = lines[0]
        assert line.startswith(f"{real}:--against: no evaluator compares this package's blocks with this file")
        assert line.endswith(f"got 'blocks of modality {held}')")
    return line


def test_a_graph_package_refuses_an_edge_list(packages, tmp_path):
    """The graph plugin has no fit-to-real evaluator: the edge list would be ignored."""
    edges = tmp_path / "edges.txt"
    edges.write_text("1 2\n2 3\n3 1\n")
    line = refused(packages["graph"], edges, "graph")
    for form in ("FIMI/SPMF transaction text for transaction blocks [transaction_fit]",
                 "SPMF sequence text (-1/-2 separators) for sequence blocks [sequence_fit]",
                 "a table (.parquet, .csv, .csv.gz, .csv.bz2, .csv.zst) for tabular blocks "
                 "[fidelity, privacy_risk, tabular_fidelity, utility]"):
        assert form in line
    # docs/cli.md shows the line as a user in the file's directory sees it
    here = run_cli("evaluate", str(packages["graph"]), "--against", "edges.txt", cwd=tmp_path)
    assert here.returncode == 2 and f"\n{here.stderr}" in (DOCS / "cli.md").read_text()


def test_a_transaction_package_refuses_a_table_and_takes_spmf_text(packages):
    pkg = packages["transaction"]
    table = pkg.parent / "shop.csv"
    table.write_text("a,b\n1,2\n")
    refused(pkg, table, "transaction")
    done = run_cli("evaluate", str(pkg), "--against", str(pkg / "data" / "shop.txt"), "--json")
    assert done.returncode == 0, done.stderr
    fit = json.loads(done.stdout)["metrics"]["transaction_fit"]
    assert fit["shop.item_tvd"] == 0.0 and fit["shop.length_tvd"] == 0.0  # the package against its own text
    assert fit["shop.frequent_itemsets@0.05.real"] == fit["shop.frequent_itemsets@0.05.synthetic"] > 0


def test_a_tabular_package_takes_a_table_and_refuses_spmf_text(packages, tmp_path):
    pkg = packages["tabular"]
    rows = pq.read_table(pkg / "data" / "people.parquet")
    pacsv.write_csv(rows, tmp_path / "real.csv")
    done = run_cli("evaluate", str(pkg), "--against", str(tmp_path / "real.csv"), "--json")
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout)["metrics"]
    assert metrics["fidelity"]["blocks"]["people"]["real_file"] == str(tmp_path / "real.csv")
    assert metrics["fidelity"]["tvd_mean"] == 0 and metrics["tabular_fidelity"]["people.tvd_2way_max"] == 0
    # Compressed CSV: both plugins' evaluators read the same kinds of table, so every one of
    # them compares with the file given (none falls back to the block's source).
    for codec in ("bz2", "zstd"):
        real = tmp_path / f"real.csv.{'zst' if codec == 'zstd' else codec}"
        with pa.CompressedOutputStream(real, codec) as fh:
            pacsv.write_csv(rows, fh)
        done = run_cli("evaluate", str(pkg), "--against", str(real), "--json")
        assert done.returncode == 0, done.stderr
        metrics = json.loads(done.stdout)["metrics"]
        assert metrics["fidelity"]["blocks"]["people"]["real_file"] == str(real)
        assert metrics["fidelity"]["tvd_mean"] == 0 and metrics["tabular_fidelity"]["people.tvd_1way_max"] == 0
    spmf = tmp_path / "real.txt"
    spmf.write_text("1 2\n2 3\n")
    refused(pkg, spmf, "tabular")


def test_a_missing_against_file_names_the_option(packages, tmp_path):
    done = run_cli("evaluate", str(packages["graph"]), "--against", str(tmp_path / "none.txt"))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == f"{tmp_path / 'none.txt'}:--against: file not found"


def test_evaluate_all_checks_what_the_evaluators_took(registry, tmp_path):
    """In process, with the toy plugin: the decision is the evaluators' ``use_against`` calls."""
    import medmgen
    from medmgen.errors import InputError
    from medmgen.interfaces import Evaluation, Evaluator
    from medmgen.pipeline import evaluate_all

    class TakesFiles(Evaluator):
        name = "takes_files"
        takes_against = "any file for blocks named in it"

        def applies(self, evaluation: Evaluation) -> bool:
            return evaluation.against is not None and evaluation.against.read_text() in evaluation.spec.blocks

        def evaluate(self, evaluation: Evaluation) -> dict:
            block = evaluation.against.read_text()
            return {"compared": str(evaluation.use_against(block)), "block": block}

    ds = medmgen.generate({"dataset": {"seed": 1}, "blocks": {"b": {"modality": "toy", "records": 50,
                                                                    "rates": [0.5]}}}, registry=registry)
    registry.evaluators["takes_files"] = TakesFiles
    real = tmp_path / "real.txt"

    def run(text: str, **kw: bool) -> tuple[dict, Evaluation]:
        real.write_text(text)
        ev = Evaluation(spec=ds.spec, ledger=ds.ledger, tables={"b": {"": ds.table("b")}}, against=real)
        return evaluate_all(registry, ev, **kw), ev

    metrics, ev = run("b")
    assert metrics["takes_files"] == {"compared": str(real), "block": "b"} and ev.against_used == {"b"}
    with pytest.raises(InputError) as err:
        run("other")
    assert str(err.value).startswith(f"{real}:--against: no evaluator compares")
    assert "any file for blocks named in it [takes_files]" in str(err.value)
    assert str(err.value).endswith("got 'blocks of modality toy')")
    assert "spec_error" in run("other", in_loop_only=True)[0]  # the feedback passes never see --against
