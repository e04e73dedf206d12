"""Every kernel of ``_kernels.py`` against a plain Python/NumPy twin on small inputs."""

from __future__ import annotations

import numpy as np
import pytest

from medmgen_transaction import _kernels as K

MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15


# ------------------------------------------------------------------ twins
def mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def substream(seed: int, index: int) -> int:
    return mix64(seed ^ mix64((index * GAMMA + GAMMA) & MASK))


class Stream:
    def __init__(self, state: int) -> None:
        self.state = state

    def unit(self) -> float:
        self.state = (self.state + GAMMA) & MASK
        return float(mix64(self.state) >> 11) * (1.0 / 2**53)

    def below(self, n: int) -> int:
        return min(int(self.unit() * n), n - 1)


def alias_twin(weights: list[float]) -> tuple[list[float], list[int]]:
    n = len(weights)
    total = sum(weights)
    p = [w * (n / total) for w in weights]
    prob, alias = [0.0] * n, list(range(n))
    small = [i for i in range(n) if p[i] < 1.0]
    large = [i for i in range(n) if p[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s], alias[s] = p[s], g
        p[g] = (p[g] + p[s]) - 1.0
        (small if p[g] < 1.0 else large).append(g)
    for g in large:
        prob[g] = 1.0
    for s in small:
        if p[s] > 0.0:
            prob[s] = 1.0
    return prob, alias


def draw_twin(x: float, prob: list[float], alias: list[int]) -> int:
    n = len(prob)
    i = min(int(x * n), n - 1)
    return i if x * n - i < prob[i] else alias[i]


def split_twin(full: int, total: int, sizes: list[int], seed: int) -> tuple[list[int], list[int]]:
    left = list(sizes)
    cf, ct = [0] * len(sizes), [0] * len(sizes)
    rng = Stream(seed)
    for k in range(total):
        r = rng.below(sum(left))
        c = 0
        while r >= left[c]:
            r -= left[c]
            c += 1
        left[c] -= 1
        ct[c] += 1
        cf[c] += k < full
    return cf, ct


def plant_twin(rows: int, units: list[list[int]], head: list[int], full: list[int], total: list[int],
               seed: int) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in range(rows)]
    for u, members in enumerate(units):
        rng = Stream(substream(seed, u))
        taken: set[int] = set()
        for i in range(total[u]):
            r = rng.below(rows)
            while r in taken:
                r = rng.below(rows)
            taken.add(r)
            out[r] += members if i < full[u] else members[: head[u]]
    return out


def fill_twin(rows: int, seed: int, len_values: list[int], len_table: tuple, pop_table: tuple,
              positive: list[bool], planted: list[list[int]]) -> list[list[int]]:
    n_positive = sum(positive[1:])
    out = []
    for r in range(rows):
        rng = Stream(substream(seed, r))
        length = len_values[draw_twin(rng.unit(), *len_table)]
        mine = list(dict.fromkeys(planted[r]))
        room = n_positive - sum(positive[i] for i in mine)
        for _ in range(min(max(length - len(mine), 0), room)):
            while True:
                item = draw_twin(rng.unit(), *pop_table) + 1
                if item not in mine:
                    break
            mine.append(item)
        out.append(sorted(mine))
    return out


def as_csr(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(r) for r in rows])
    return offsets, np.array([i for r in rows for i in r], dtype=np.int32)


def as_rows(offsets: np.ndarray, items: np.ndarray) -> list[list[int]]:
    return [items[offsets[i]:offsets[i + 1]].tolist() for i in range(offsets.size - 1)]


def random_db(seed: int, rows: int = 300, n_items: int = 40) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return [sorted(rng.choice(np.arange(1, n_items + 1), size=rng.integers(0, 12), replace=False).tolist())
            for _ in range(rows)]


# ------------------------------------------------------------------ tests
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_uniforms_match_the_python_splitmix64(seed: int) -> None:
    state = np.uint64(substream(seed, 7))
    assert int(K.substream(np.uint64(seed), 7)) == int(state)
    twin = Stream(int(state))
    for _ in range(50):
        state, x = K.next_unit(np.uint64(state))
        assert x == twin.unit()


@pytest.mark.parametrize("weights", [[1.0, 1.0, 1.0], [0.0, 3.0, 1.0, 0.0, 6.0], list(1 / np.arange(1, 30) ** 1.2)])
def test_alias_table_matches_twin_and_its_distribution(weights: list[float]) -> None:
    prob, alias = K.build_alias(np.array(weights))
    tprob, talias = alias_twin(weights)
    assert prob.tolist() == tprob and alias.tolist() == talias
    n = len(weights)
    implied = np.zeros(n)
    for i in range(n):
        implied[i] += prob[i] / n
        implied[alias[i]] += (1 - prob[i]) / n
    np.testing.assert_allclose(implied, np.array(weights) / sum(weights), atol=1e-12)
    for x in np.linspace(0, 0.999999, 97):
        assert K.alias_draw(float(x), prob, alias) == draw_twin(float(x), tprob, talias)


@pytest.mark.parametrize(("full", "total", "sizes"), [(0, 0, [5]), (7, 10, [4, 4, 3]), (30, 45, [16, 16, 16, 9, 1]),
                                                      (3, 12, [12])])
def test_split_counts_matches_twin_and_is_nested(full: int, total: int, sizes: list[int]) -> None:
    cf, ct = K.split_counts(full, total, np.array(sizes, dtype=np.int64), np.uint64(99))
    assert (cf.tolist(), ct.tolist()) == split_twin(full, total, sizes, 99)
    assert ct.sum() == total and cf.sum() == full and (ct <= np.array(sizes)).all()
    if total:
        _, fewer = K.split_counts(0, total - 1, np.array(sizes, dtype=np.int64), np.uint64(99))
        assert (fewer <= ct).all() and fewer.sum() == total - 1


def test_plant_chunk_matches_twin() -> None:
    units = [[3, 5, 8], [1, 2], [5, 9, 11, 12]]
    head, full, total = [3, 2, 2], [6, 9, 4], [6, 9, 10]
    offsets = np.array([0, 3, 5, 9], dtype=np.int64)
    flat = np.array([i for u in units for i in u], dtype=np.int32)
    p_off, p_items = K.plant_chunk(25, offsets, flat, np.array(head), np.array(full), np.array(total), np.uint64(5))
    rows = as_rows(p_off, p_items)
    assert rows == plant_twin(25, units, head, full, total, 5)
    assert sum(set(units[0]) <= set(r) for r in rows) >= 6


@pytest.mark.parametrize(("pop", "lengths"), [([1.0] * 30, [1, 3, 6, 9]), ([0.0] * 25 + [1.0] * 5, [1, 3, 6, 9]),
                                             ([1.0] * 120, [2, 40, 60, 110])])  # past RANK_SORT_MAX
def test_fill_chunk_matches_twin(pop: list[float], lengths: list[int]) -> None:
    planted = [[4, 2, 2], [], [30, 1], [7], []] * 8
    p_off, p_items = as_csr(planted)
    len_values = np.array(lengths, dtype=np.int64)
    len_prob, len_alias = K.build_alias(np.array([0.1, 0.4, 0.3, 0.2]))
    pop_prob, pop_alias = K.build_alias(np.array(pop))
    positive = np.array([False] + [w > 0 for w in pop])
    offsets, items = K.fill_chunk(len(planted), np.uint64(11), len_prob, len_alias, len_values, pop_prob, pop_alias,
                                  positive, p_off, p_items)
    twin = fill_twin(len(planted), 11, len_values.tolist(), (len_prob.tolist(), len_alias.tolist()),
                     (pop_prob.tolist(), pop_alias.tolist()), positive.tolist(), planted)
    assert as_rows(offsets, items) == twin


@pytest.mark.parametrize("k", [0, 1, 5, K.RANK_SORT_MAX, K.RANK_SORT_MAX + 1, 200])
def test_sort_into_matches_sorted(k: int) -> None:
    row = np.random.default_rng(k).permutation(1000)[:k].astype(np.int32) + 1
    out = np.full(k + 6, -7, dtype=np.int32)
    K.sort_into(np.concatenate([row, [5, 5]]).astype(np.int32), k, out, 3)
    assert out[3:3 + k].tolist() == sorted(row.tolist())
    assert (out[:3] == -7).all() and (out[3 + k:] == -7).all()


def tally_twin(db: list[list[int]], n_items: int, sets: list[list[int]], ids: list[int]) -> tuple[list, list, list]:
    items = [sum(t.count(i) for t in db) for i in range(n_items + 1)]
    held = [sum(set(s) <= set(t) for t in db) for s in sets]
    pairs = [sum(ids[a] in t and ids[b] in t for t in db) for a in range(len(ids)) for b in range(a + 1, len(ids))]
    return items, held, pairs


def run_tally(db: list[list[int]], start: int, stop: int, n_items: int, sets: list[list[int]], ids: list[int],
              into: tuple[np.ndarray, ...] | None = None) -> tuple[np.ndarray, ...]:
    offsets, items = as_csr(db)
    s_off, s_items = as_csr(sets)
    dense = np.full(n_items + 1, -1, dtype=np.int64)
    dense[ids] = np.arange(len(ids))
    f = len(ids)
    out = into or (np.zeros(n_items + 1, dtype=np.int64), np.zeros(len(sets), dtype=np.int64),
                   np.zeros(f * (f - 1) // 2, dtype=np.int64))
    K.tally(offsets, items, start, stop, s_off, s_items, dense, *out)
    return out


def test_tally_matches_twin() -> None:
    db = random_db(4)
    sets = [[1, 2], [3], [11, 5, 9], [40, 2], [7, 8, 9, 10], [6, 6, 12]]  # members in any order, repeats
    ids = [2, 3, 7, 11, 20, 33]
    got = run_tally(db, 0, len(db), 40, sets, ids)
    want = tally_twin(db, 40, sets, ids)
    assert [g.tolist() for g in got] == list(want)
    assert sum(w > 0 for w in want[1]) >= 4 and sum(want[2]) > 0
    got = run_tally(db, 0, 10, 40, sets, ids)
    run_tally(db, 10, 200, 40, sets, ids, into=got)  # adds
    assert [g.tolist() for g in got] == list(tally_twin(db[:200], 40, sets, ids))
    assert [g.tolist() for g in run_tally(db, 0, len(db), 40, [], [])] == [want[0], [], []]


def test_tally_pairs_past_the_uint16_segment() -> None:
    rows = K.PAIR_SEGMENT + 4_466  # one pair in every row: 70,001 > 65,535
    db = [[1, 2]] * rows
    items, held, pairs = run_tally(db, 0, rows, 2, [[1, 2]], [1, 2])
    assert pairs.tolist() == held.tolist() == [rows] and items.tolist() == [0, rows, rows]


@pytest.mark.parametrize("seed", [1, 2])
def test_spmf_text_matches_twin(seed: int) -> None:
    db = [[1, 22, 333], [4444], [], [5, 1000000, 2147483646], [], [9, 10, 65535, 65536, 99999]]
    rng = np.random.default_rng(seed)
    db += [sorted(set(rng.integers(0, 70_000, size=rng.integers(0, 9)).tolist())) for _ in range(300)]
    offsets, items = as_csr(db)
    text = K.spmf_text(offsets, items, 0, len(db)).tobytes().decode()
    assert text == "".join(" ".join(map(str, t)) + "\n" for t in db)
    assert K.spmf_text(offsets, items, 1, 2).tobytes() == b"4444\n"
    assert K.spmf_text(offsets, items, 2, 3).tobytes() == b"\n"
    small = [[1, 2, 3], [7]]
    assert K.spmf_text(*as_csr(small), 0, 2).tobytes() == b"1 2 3\n7\n"


def quantities_twin(db: list[list[int]], seed: int, low: int, high: int, sets: list[list[int]],
                    boost: list[int]) -> list[list[int]]:
    out = []
    for r, t in enumerate(db):
        rng = Stream(substream(seed, r))
        q = {i: low + rng.below(high - low + 1) for i in t}
        best: dict[int, int] = {}
        for s, b in zip(sets, boost, strict=True):
            if set(s) <= set(t):
                for i in s:
                    best[i] = max(best.get(i, 0), b)
        out.append([best.get(i, q[i]) for i in t])
    return out


def test_quantities_chunk_matches_twin() -> None:
    db = random_db(6, rows=200, n_items=12)
    offsets, items = as_csr(db)
    sets, boost = [[1, 2], [2, 3, 4], [9]], [50, 70, 9]
    s_off, s_items = as_csr(sets)
    got = K.quantities_chunk(offsets, items, np.uint64(8), 2, 6, 12, s_off, s_items, np.array(boost))
    assert as_rows(offsets, got) == quantities_twin(db, 8, 2, 6, sets, boost)


def test_set_utilities_and_utility_text_match_twins() -> None:
    db = random_db(7, rows=150, n_items=15)
    offsets, items = as_csr(db)
    rng = np.random.default_rng(1)
    quantities = rng.integers(1, 9, size=items.size).astype(np.int32)
    profits = np.concatenate(([0], rng.integers(1, 30, size=15)))
    sets = [[1, 2], [3], [4, 5, 6]]
    s_off, s_items = as_csr(sets)
    rows_q = as_rows(offsets, quantities)
    want = [sum(q * profits[i] for t, qs in zip(db, rows_q, strict=True) if set(s) <= set(t)
                for i, q in zip(t, qs, strict=True) if i in s) for s in sets]
    got = K.set_utilities(offsets, items, quantities, profits, 0, len(db), 15, s_off, s_items)
    assert got.tolist() == want
    lines = []
    for t, qs in zip(db, rows_q, strict=True):
        utils = [q * int(profits[i]) for i, q in zip(t, qs, strict=True)]
        lines.append(f"{' '.join(map(str, t))}:{sum(utils)}:{' '.join(map(str, utils))}\n")
    text = K.spmf_utility_text(offsets, items, quantities, profits, 0, len(db)).tobytes().decode()
    assert text == "".join(lines)


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_add_histograms_matches_bincount(dtype: type) -> None:
    db = random_db(9, rows=250)
    offsets, items = as_csr(db)
    offsets = (offsets + 3).astype(dtype)  # lists that start inside a longer values buffer
    values = np.concatenate([np.array([7, 7, 7], dtype=np.int32), items, np.array([9], dtype=np.int32)])
    lengths = np.zeros(15, dtype=np.int64)
    ids = np.zeros(41, dtype=np.int64)
    K.add_histograms(offsets, values, lengths, ids)
    K.add_histograms(offsets[:11], values, lengths, ids)  # adds
    want_lengths = np.bincount([len(t) for t in db] + [len(t) for t in db[:10]], minlength=15)
    want_ids = np.bincount(np.concatenate([items, items[: offsets[10] - 3]]), minlength=41)
    assert lengths.tolist() == want_lengths.tolist() and ids.tolist() == want_ids.tolist()
