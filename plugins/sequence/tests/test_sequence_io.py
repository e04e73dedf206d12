"""The block's files and Arrow views: row groups, streamed batches, text in the same sweep."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import pytest
import sequence_reference as ref

from medmgen.block_tables import LazyTables
from medmgen.interfaces import Evaluation
from medmgen.pipeline import run
from medmgen.plugins import load_registry
from medmgen.spec import load_spec
from medmgen_sequence import io
from medmgen_sequence.intended import IntendedFit
from medmgen_sequence.io import SequenceData


def small_data(n: int = 50, workers: int = 1) -> tuple[SequenceData, list, list]:
    rng = np.random.default_rng(8)
    db = [[sorted(set(rng.integers(1, 3000, size=int(rng.integers(1, 4))).tolist()))
           for _ in range(int(rng.integers(1, 6)))] for _ in range(n)]
    times = [np.cumsum(rng.integers(0, 50, size=len(seq))).tolist() for seq in db]
    seq_off = np.concatenate([[0], np.cumsum([len(seq) for seq in db])]).astype(np.int64)
    sizes = [len(s) for seq in db for s in seq]
    set_off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    items = np.array([i for seq in db for s in seq for i in s], np.int32)
    flat = np.array([t for ts in times for t in ts], np.int64)
    return SequenceData(seq_off=seq_off, set_off=set_off, items=items, times=flat, workers=workers), db, times


def digests(directory) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_write_parquet_cuts_row_groups_and_writes_the_text_in_the_same_sweep(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "ROW_GROUP", 7)
    data, db, times = small_data()
    assert data.write_parquet(tmp_path, "b") == [tmp_path / "b.parquet"]
    meta = pq.ParquetFile(tmp_path / "b.parquet").metadata
    assert meta.num_row_groups == 8 and meta.num_rows == 50
    table = pq.read_table(tmp_path / "b.parquet")
    assert table.column("itemsets").to_pylist() == db
    assert table.column("timestamps").to_pylist() == times
    assert (tmp_path / "b.txt").read_text() == "".join(ref.spmf_line(seq) for seq in db)
    timed = "".join(ref.spmf_line(seq, t) for seq, t in zip(db, times))
    assert (tmp_path / "b.timestamped.txt").read_text() == timed
    before = digests(tmp_path)
    (tmp_path / "b.txt").write_text("kept")  # already written: write_extra leaves the files alone
    assert data.write_extra(tmp_path, "b") == [tmp_path / "b.txt", tmp_path / "b.timestamped.txt"]
    assert (tmp_path / "b.txt").read_text() == "kept"
    (tmp_path / "b.txt").unlink()
    again = tmp_path / "again"
    again.mkdir()
    small_data(workers=2)[0].write_parquet(again, "b")
    assert digests(again) == before


def test_text_does_not_depend_on_the_chunk(tmp_path, monkeypatch):
    data = small_data()[0]
    data.write_extra(tmp_path, "whole")
    monkeypatch.setattr(io, "ROW_GROUP", 3)
    data.write_extra(tmp_path, "cut")
    for suffix in (".txt", ".timestamped.txt"):
        assert (tmp_path / f"cut{suffix}").read_bytes() == (tmp_path / f"whole{suffix}").read_bytes()


def test_batches_cover_the_block_in_order(monkeypatch):
    monkeypatch.setattr(io, "ROW_GROUP", 6)
    data, db, times = small_data()
    batches = list(data.batches(""))
    assert [b.num_rows for b in batches] == [6] * 8 + [2]
    assert [row for b in batches for row in b.column(0).to_pylist()] == db
    table = data.tables()[""]
    assert table.column("itemsets").to_pylist() == db and table.column("timestamps").to_pylist() == times
    with pytest.raises(KeyError):
        next(data.batches("edges"))


def test_intended_fit_streams_to_the_same_numbers(monkeypatch):
    registry = load_registry()
    spec = load_spec({"dataset": {"name": "i", "seed": 3}, "blocks": {"s": {
        "modality": "sequence", "records": 3000, "items": 80, "popularity": {"distribution": "zipf"},
        "sequential_patterns": [{"sequence": [[4], [9, 10]], "support": 0.1}]}}}, registry)
    result = run(spec, registry)
    data = result.blocks["s"].data
    monkeypatch.setattr(io, "ROW_GROUP", 256)
    streamed = Evaluation(spec=result.spec, ledger=result.ledger, tables=LazyTables({"s": data}))
    assert streamed.tables["s"].streams
    whole = Evaluation(spec=result.spec, ledger=result.ledger, tables={"s": {"": data.tables()[""]}})
    got = IntendedFit().evaluate(streamed)
    assert got == IntendedFit().evaluate(whole)
    per_seq = np.diff(data.seq_off)
    assert got["blocks"]["s"]["mean_itemsets"] == per_seq.mean()


def test_a_parquet_draft_gives_the_same_file_once_and_leaves_nothing_else(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "ROW_GROUP", 7)  # the draft's one call cuts the same row groups as the sweep
    dirs = {name: tmp_path / name for name in ("direct", "ahead", "again", "cancelled", "elsewhere")}
    for d in dirs.values():
        d.mkdir()
    small_data()[0].write_parquet(dirs["direct"], "b")
    data = small_data()[0]
    draft, text = data.write_ahead(dirs["ahead"], "b", "pass0", [])
    assert all(p.parent == dirs["ahead"] and p.name.startswith(".") for d in (draft, text) for p in d._paths)
    data.write_parquet(dirs["ahead"], "b")
    assert sorted(p.name for p in dirs["ahead"].iterdir()) == ["b.parquet", "b.timestamped.txt", "b.txt"]  # renamed
    mode = (dirs["direct"] / "b.parquet").stat().st_mode
    assert (dirs["ahead"] / "b.parquet").stat().st_mode == mode  # the mode a direct write gets
    assert not draft.move_to([dirs["ahead"] / "twice.parquet"])  # used up: a second write encodes again
    data.write_parquet(dirs["again"], "b")
    other = small_data()[0]
    for d in other.write_ahead(dirs["cancelled"], "b", "pass0", []):
        d.cancel()  # stopped or finished, the files are the same
    other.write_parquet(dirs["cancelled"], "b")
    third = small_data()[0]
    third.write_ahead(dirs["ahead"], "b", "pass1", [])  # drafted for another directory: written there afresh
    third.write_parquet(dirs["elsewhere"], "b")
    third._files.draft._thread.join()
    third._files.text._thread.join()
    want = digests(dirs["direct"])
    # every directory holds the same files; drafts not used stay as .-files (the core removes them)
    assert all({k: v for k, v in digests(d).items() if not k.startswith(".")} == want for d in dirs.values())
    assert sorted(p.name for p in dirs["ahead"].iterdir() if p.name.startswith(".")) == [
        ".b.parquet.pass1", ".b.timestamped.txt.pass1", ".b.txt.pass1"]
    assert pq.ParquetFile(dirs["ahead"] / "b.parquet").metadata.num_row_groups == 8


def test_the_drafts_of_passes_not_kept_are_removed_by_the_kept_one(tmp_path):
    """Two passes draft into the same data/; writing the second (kept) one waits for the
    first's thread and removes its file, so only the final names are left."""
    drafts: list = []
    first, second = small_data()[0], small_data()[0]
    drafts += first.write_ahead(tmp_path, "b", "pass0", drafts)
    drafts += second.write_ahead(tmp_path, "b", "pass1", drafts)
    second.write_parquet(tmp_path, "b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.parquet", "b.timestamped.txt", "b.txt"]


def test_an_interrupt_while_files_are_written_ahead_leaves_nothing(tmp_path):
    """Ctrl-C while the background threads write the block's files into the package being
    built: exit 130, no package, no temporary directory left beside it."""
    spec = tmp_path / "s.toml"
    spec.write_text('[blocks.c]\nmodality = "sequence"\nrecords = 400000\nitems = 2000\n'
                    '[blocks.c.random_sequential_patterns]\ncount = 20\n')
    proc = subprocess.Popen([sys.executable, "-m", "medmgen.cli", "generate", str(spec), "-o", str(tmp_path / "p")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not list(tmp_path.glob(".p.tmp-*/data/.c.*")):
            time.sleep(0.01)
        assert list(tmp_path.glob(".p.tmp-*/data/.c.*")), "the run never started writing ahead"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]
