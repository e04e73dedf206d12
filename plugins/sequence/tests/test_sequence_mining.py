"""The ledger's counting and accidental miner (mining.py) against plain-Python twins."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sequence_reference as ref
from test_sequence_kernels import to_csr

from medmgen_sequence import mining
from medmgen_sequence.io import SequenceData
from medmgen_sequence.kinds import SequentialPattern
from medmgen_sequence.threads import numba_threads


def random_data(rng: np.random.Generator, n: int, n_items: int) -> tuple[list, SequenceData]:
    """Short and long (past 64 itemsets) sequences, some empty itemsets, items again later."""
    db = []
    for _ in range(n):
        length = int(rng.integers(1, 80 if rng.random() < 0.1 else 9))
        db.append([sorted(set(rng.integers(1, n_items + 1, size=int(rng.integers(0 if rng.random() < 0.05 else 1,
                                                                                     4))).tolist()))
                   for _ in range(length)])
    seq_off, set_off, items = to_csr(db)
    times = np.cumsum(rng.integers(0, 4, size=len(set_off) - 1)).astype(np.int64)
    return db, SequenceData(seq_off=seq_off, set_off=set_off, items=items, times=times)


def planted(rng: np.random.Generator, n_items: int, count: int) -> list[SequentialPattern]:
    out = []
    for j in range(count):
        seq = [sorted(set(rng.integers(1, n_items + 1, size=int(rng.integers(1, 3))).tolist()))
               for _ in range(int(rng.integers(1, 4)))]
        max_gap = None if rng.random() < 0.5 else 1 + int(rng.integers(0, 3))
        window = None if rng.random() < 0.6 else int(rng.integers(0, 9))
        target = None if j == 0 else float(rng.uniform(0.05, 0.4))
        out.append(SequentialPattern(id=f"b/{j}", block="b", sequence=seq, min_gap=1 + int(rng.random() < 0.3),
                                     max_gap=max_gap, max_window=window, target_support=target))
    return out


def accidental_twin(db: list, plan: list[SequentialPattern], n_items: int) -> tuple[list, int]:
    """Unplanted frequent <{a}, {b}> by the reference pair counter, most frequent first."""
    need = max(1, math.ceil(min(p.target_support for p in plan if p.target_support is not None) * len(db) - 1e-9))
    implied = {(a, b) for p in plan for i, first in enumerate(p.sequence) for later in p.sequence[i + 1:]
               for a in first for b in later}
    found = sorted((-c, a, b) for (a, b), c in ref.pair_counts(db).items() if c >= need and (a, b) not in implied)
    frequent = sum(sum(any(i in s for s in seq) for seq in db) >= need for i in range(1, n_items + 1))
    return [((a, b), -neg / len(db)) for neg, a, b in found], frequent


@pytest.mark.parametrize(("seed", "tile_cells"), [(0, 1 << 22), (1, 1 << 22), (2, 5), (3, 17)])
def test_accidental_matches_the_reference_pair_counter(seed, tile_cells):
    rng = np.random.default_rng(seed)
    n_items = 9
    db, data = random_data(rng, 150, n_items)
    plan = planted(rng, n_items, 4)
    got, search = mining.accidental(data, plan, n_items, "b", tile_cells=tile_cells)
    want, want_frequent = accidental_twin(db, plan, n_items)
    assert [(tuple(x[0] for x in p.sequence), p.realized_support) for p in got] == want
    assert [p.id for p in got] == [f"b/accidental/{n}" for n in range(len(got))]
    assert search == mining.Search(frequent_items=want_frequent, found=len(want))
    assert len(got) > 3  # the test has pairs to find


@pytest.mark.parametrize("seed", range(3))
def test_ledger_is_supports_and_accidental_in_one_pass(seed):
    rng = np.random.default_rng(10 + seed)
    n_items = 8
    db, data = random_data(rng, 120, n_items)
    plan = planted(rng, n_items, 6)
    bins = [(int(a), int(a) + int(rng.integers(0, 120 - a + 1))) for a in rng.integers(0, 121, size=len(plan))]
    starts = np.cumsum([0] + [len(seq) for seq in db])
    times = [data.times[a:b].tolist() for a, b in itertools.pairwise(starts)]
    runs = []
    for threads in (1, 2):
        with numba_threads(threads):
            runs.append(mining.ledger(data, plan, n_items, bins, "b", tile_cells=[1 << 22, 11, 30][seed]))
            separate = (mining.supports(data, plan, n_items, bins), *mining.accidental(data, plan, n_items, "b"))
        assert runs[-1][0].tolist() == separate[0].tolist()
        assert runs[-1][1:] == separate[1:]
    assert runs[0][0].tolist() == runs[1][0].tolist() and runs[0][1:] == runs[1][1:]
    for j, p in enumerate(plan):
        cuts = [0, *bins[j], len(db)]
        want = [ref.support_count(db[a:b], p.sequence, p.min_gap, p.max_gap, p.max_window, times[a:b])
                for a, b in itertools.pairwise(cuts)]
        assert runs[0][0][j].tolist() == want
    assert [(tuple(x[0] for x in p.sequence), p.realized_support) for p in runs[0][1]] == \
        accidental_twin(db, plan, n_items)[0]
    assert mining.ledger(data, plan, n_items, bins, "b", count=False)[0].shape == (0, 3)


def test_ledger_without_targets_or_records_counts_only():
    rng = np.random.default_rng(4)
    db, data = random_data(rng, 40, 5)
    plan = [SequentialPattern(id="b/0", block="b", sequence=[[1], [2]])]
    counts, found, frequent = mining.ledger(data, plan, 5, None, "b")
    assert counts[:, 0].tolist() == [ref.support_count(db, [[1], [2]])] and (found, frequent) == ([], mining.Search())
    empty = SequenceData(seq_off=np.zeros(1, np.int64), set_off=np.zeros(1, np.int64), items=np.zeros(0, np.int32))
    targeted = [SequentialPattern(id="b/0", block="b", sequence=[[1], [2]], target_support=0.1)]
    counts, found, frequent = mining.ledger(empty, targeted, 5, None, "b")
    assert counts.tolist() == [[0, 0, 0]] and (found, frequent) == ([], mining.Search())
