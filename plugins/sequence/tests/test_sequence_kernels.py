"""Every numba kernel against its plain-Python twin on small inputs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sequence_reference as ref

from medmgen.spelling import TABLE_IDS
from medmgen_sequence import _fill_kernels as fk
from medmgen_sequence import _kernels as k
from medmgen_sequence import _ledger_kernels as lk
from medmgen_sequence import _spmf_kernels as sk
from medmgen_sequence.planting import count_cdf, drawable, guide, popularity_cdf
from medmgen_sequence.spec import CountDist, Popularity
from medmgen_sequence.threads import numba_threads

KEY = 0x1234_5678_9ABC_DEF0


def u3(key: int, a: int, b: int, c: int) -> float:
    return ref.unit(ref.mix(ref.mix(ref.mix(key ^ a) ^ b) ^ c))


def random_db(rng: np.random.Generator, n: int, items: int, longest: int = 7, widest: int = 3):
    db = []
    for _ in range(n):
        length = int(rng.integers(1, longest + 1))
        db.append([sorted(set(rng.integers(1, items + 1, size=int(rng.integers(1, widest + 1))).tolist()))
                   for _ in range(length)])
    return db


def to_csr(db):
    seq_off, set_off, items = [0], [0], []
    for seq in db:
        for s in seq:
            items.extend(s)
            set_off.append(len(items))
        seq_off.append(len(set_off) - 1)
    return np.array(seq_off, np.int64), np.array(set_off, np.int64), np.array(items, np.int32)


def test_uniform_and_draw_counts_match_twin():
    cdf = count_cdf(CountDist(mean=3.0, max=9))
    got = k.draw_counts(np.uint64(KEY), 5, 60, 0, cdf)
    want = [1 + ref.draw(cdf, u3(KEY, s, 0, 0)) for s in range(5, 60)]
    assert got.tolist() == want
    assert k.uniform(np.uint64(KEY), 3, 4, 5) == u3(KEY, 3, 4, 5)


def feistel(key: int, x: int, half: int) -> int:
    mask = (1 << half) - 1
    left, right = x >> half, x & mask
    for r in range(6):
        left, right = right, left ^ (ref.mix(key ^ ((right + (r << 40)) & ref.MASK)) & mask)
    return (left << half) | right


@pytest.mark.parametrize("n", [1, 2, 5, 17, 64, 1000])
def test_permutation_prefix_is_a_nested_permutation(n):
    anything = np.empty(0, np.bool_)
    full = k.permutation_prefix(np.uint64(KEY), n, n, anything)
    assert sorted(full.tolist()) == list(range(n))
    assert k.permutation_prefix(np.uint64(KEY), n, n // 2, anything).tolist() == full[: n // 2].tolist()
    allowed = np.arange(n) % 3 == 1
    assert k.permutation_prefix(np.uint64(KEY), n, n, allowed).tolist() == [x for x in full.tolist() if x % 3 == 1]
    half = 1
    while 4**half < n:
        half += 1
    twin = []
    for i in range(n):
        x = feistel(KEY, i, half)
        while x >= n:
            x = feistel(KEY, x, half)
        twin.append(x)
    assert full.tolist() == twin


def times_twin(tkey: int, s: int, length: int, kind: int, interval: int, burst: float, pause: int) -> list[int]:
    def geometric(u: float, mean: float) -> int:
        return 1 if mean <= 1 else 1 + int(math.log(1.0 - u) / math.log(1.0 - 1.0 / mean))

    out, t = [], 0
    for p in range(length):
        if p and kind == 1:
            t += interval
        elif p and kind in (2, 3):
            hp = ref.mix(ref.mix(tkey ^ s) ^ p)
            u = ref.unit(ref.mix(hp))
            if kind == 2:
                t += geometric(u, interval)
            else:
                t += geometric(ref.unit(ref.mix(hp ^ 1)), pause) if u * burst < 1.0 else 1
        out.append(t)
    return out


TIME_CASES = [(0, 1, 1.0, 1), (1, 3, 1.0, 1), (2, 4, 1.0, 1), (3, 1, 3.0, 50)]


@pytest.mark.parametrize(("kind", "interval", "burst", "pause"), TIME_CASES)
def test_draw_times_match_twin(kind, interval, burst, pause):
    seq_off = np.array([0, 3, 4, 12, 20], np.int64)
    got = k.draw_times(np.uint64(KEY), seq_off, kind, interval, burst, pause)
    want = [t for s in range(4) for t in times_twin(KEY, s, int(seq_off[s + 1] - seq_off[s]), kind, interval, burst,
                                                    pause)]
    assert got.tolist() == want


def test_sequence_starts_match_twin():
    def geometric(u: float, mean: float) -> int:
        return 1 if mean <= 1 else 1 + int(math.log(1.0 - u) / math.log(1.0 - 1.0 / mean))

    want = [0]
    for s in range(1, 300):
        want.append(want[-1] + geometric(u3(KEY, s, 0, 0), 7))
    assert k.sequence_starts(np.uint64(KEY), 300, 7).tolist() == want
    assert k.sequence_starts(np.uint64(KEY), 5, 0).tolist() == [0] * 5


def test_time_kinds_have_their_shape():
    seq_off = np.array([0, 20_000], np.int64)
    gaps = {kind: np.diff(k.draw_times(np.uint64(KEY), seq_off, kind, 5, 4.0, 200)) for kind in (1, 2, 3)}
    assert set(gaps[1].tolist()) == {5}
    assert abs(gaps[2].mean() - 5) < 0.2 and gaps[2].min() >= 1
    assert abs((gaps[3] > 1).mean() - 0.25) < 0.02 and abs(gaps[3][gaps[3] > 1].mean() - 200) < 15


def test_window_feasible_matches_twin():
    lengths = np.array([1, 2, 5, 9, 3, 7, 12, 4], np.int32)
    got = k.window_feasible(np.uint64(KEY), lengths, 3, 2, 6, 2, 3, 1.0, 1)
    want = []
    for s, length in enumerate(lengths.tolist()):
        length = max(length, 5)
        t = times_twin(KEY, s, length, 2, 3, 1.0, 1)
        want.append(any(t[p + 4] - t[p] <= 6 for p in range(length - 4)))
    assert got.tolist() == want


def test_sorted_prefixes_are_each_tasks_permutation_prefix_sorted_and_shifted():
    tasks = [(KEY, 1000, 30, 0), (KEY + 1, 17, 0, 1000), (KEY + 2, 50, 50, 1017), (KEY + 3, 4096, 5, 1067)]
    keys, sizes, counts, starts = (np.array(c, np.uint64 if i == 0 else np.int64) for i, c in enumerate(zip(*tasks)))
    got = k.sorted_prefixes(keys, sizes, counts, starts)
    none = np.empty(0, np.bool_)
    want = [np.sort(k.permutation_prefix(np.uint64(key), n, c, none)) + lo for key, n, c, lo in tasks]
    assert got.tolist() == np.concatenate(want).tolist() and got.size == 85
    assert sorted(got[30:80].tolist()) == list(range(1017, 1067))  # a full prefix is the whole range

def test_embed_all_gives_each_pattern_what_it_gives_it_alone():
    rng = np.random.default_rng(4)
    tk = (2, 3, 1.0, 1)
    lengths = rng.integers(6, 14, size=500).astype(np.int32)
    specs = [(2, 1, k.UNBOUNDED, -1), (3, 2, 3, -1), (1, 1, k.UNBOUNDED, -1), (2, 1, 4, 20)]
    feasible = np.flatnonzero(k.window_feasible(np.uint64(KEY), lengths, 2, 1, 20, *tk))
    hosts = [np.sort(rng.choice(500, size=40, replace=False)), np.empty(0, np.int64),
             np.sort(rng.choice(500, size=7, replace=False)), np.sort(rng.choice(feasible, size=25, replace=False))]
    hosts = [h.astype(np.int64) for h in hosts]
    keys = np.array([KEY + j for j in range(len(specs))], np.uint64)

    def embed(chosen: list[int]) -> np.ndarray:
        cols = [np.array([specs[j][c] for j in chosen], np.int64) for c in range(4)]
        off = np.cumsum([0] + [hosts[j].size for j in chosen])
        return k.embed_all(keys[chosen], off, np.concatenate([hosts[j] for j in chosen]), lengths, *cols,
                           np.uint64(KEY), *tk)

    got = embed([0, 1, 2, 3])
    assert got.size == 40 * 2 + 7 * 1 + 25 * 2
    assert got.tolist() == np.concatenate([embed([j]) for j in range(4)]).tolist()

@pytest.mark.parametrize(("k_", "min_gap", "max_gap", "window"),
                         [(1, 1, k.UNBOUNDED, -1), (3, 1, 2, -1), (3, 2, 4, -1), (4, 1, k.UNBOUNDED, -1),
                          (3, 1, 3, 9), (4, 1, k.UNBOUNDED, 12)])
def test_embed_all_matches_twin_and_respects_constraints(k_, min_gap, max_gap, window):
    rng = np.random.default_rng(1)
    need = 1 + (k_ - 1) * min_gap
    tk = (2, 3, 1.0, 1)
    cand = np.arange(0, 400, 3, dtype=np.int64)
    lengths = rng.integers(need, need + 8, size=cand.size).astype(np.int32)
    if window >= 0:
        full = np.zeros(400, np.int32)
        full[cand] = lengths
        ok = k.window_feasible(np.uint64(KEY), full, k_, min_gap, window, *tk)[cand]
        cand, lengths = cand[ok], lengths[ok]
    by_id = np.zeros(400, np.int32)
    by_id[cand] = lengths
    got = k.embed_all(np.array([KEY], np.uint64), np.array([0, cand.size]), cand, by_id, *(np.array([x], np.int64)
                      for x in (k_, min_gap, max_gap, window)), np.uint64(KEY), *tk).reshape(cand.size, k_)
    tail = (k_ - 1) * min_gap
    for h, s in enumerate(cand.tolist()):
        length = int(lengths[h])
        t = times_twin(KEY, s, length, *tk)
        starts = [q for q in range(length - tail) if window < 0 or t[q + tail] - t[q] <= window]
        p = starts[int(u3(KEY, s, 0, 0) * len(starts))]
        want = [p]
        for i in range(1, k_):
            rest = (k_ - 1 - i) * min_gap
            hi = min(max_gap, length - 1 - p - rest)
            while window >= 0 and hi > min_gap and t[p + hi + rest] - t[want[0]] > window:
                hi -= 1
            p += min_gap + int(u3(KEY, s, i, 0) * (hi - min_gap + 1))
            want.append(p)
        assert got[h].tolist() == want
        assert want[0] >= 0 and want[-1] < length
        assert all(min_gap <= b - a <= max_gap for a, b in itertools.pairwise(want))
        assert window < 0 or t[want[-1]] - t[want[0]] <= window


def fill_twin(key, lo, lengths, size_cdf, pop_cdf, n_items, plants, drawable=None):
    may = set(range(1, n_items + 1)) if drawable is None else {i for i in range(1, n_items + 1) if drawable[i]}
    out = []
    for i, length in enumerate(lengths):
        s = lo + i
        hs = ref.mix(key ^ s)
        seq = []
        for p in range(length):
            hp = ref.mix(hs ^ (p + 1))
            chosen = sorted(set(plants.get((s, p), [])))
            z = min(1 + ref.draw(size_cdf, ref.unit(ref.mix(hp))), len(may - set(chosen)))
            size, attempt = len(chosen) + z, 1
            while len(chosen) < size and attempt <= 32 * z:
                u = ref.unit(ref.mix(hp ^ attempt))
                attempt += 1
                item = 1 + int(u * n_items) if len(pop_cdf) == 0 else 1 + ref.draw(pop_cdf, u)
                if item not in chosen:
                    chosen.append(item)
            item = 0
            while len(chosen) < size:  # too few distinct draws: the smallest unused ids that may be drawn
                item += 1
                if item in may and item not in chosen:
                    chosen.append(item)
            seq.append(sorted(chosen))
        out.append(seq)
    return out


def random_plants(rng, lengths, n_items, n_patterns=4):
    """Patterns (CSR), their hosts and positions as fill_sequences takes them, and the same
    as ``{(local record, position): [items]}``."""
    patterns = [[sorted(rng.choice(np.arange(1, n_items + 1), size=int(rng.integers(1, 3)), replace=False).tolist())
                 for _ in range(int(rng.integers(1, 4)))] for _ in range(n_patterns)]
    host_off, host_seq, host_pos, plants = [0], [], [], {}
    for pat in patterns:
        fits = np.flatnonzero(lengths >= len(pat))
        hosts = np.sort(rng.choice(fits, size=min(fits.size, int(rng.integers(0, 15))), replace=False))
        for s in hosts.tolist():
            pos = np.sort(rng.choice(int(lengths[s]), size=len(pat), replace=False)).tolist()
            host_pos.extend(pos)
            for q, itemset in zip(pos, pat):
                plants.setdefault((s, q), []).extend(itemset)
        host_seq.extend(hosts.tolist())
        host_off.append(len(host_seq))
    pat_off, pat_set_off, pat_items = [0], [0], []
    for pat in patterns:
        for itemset in pat:
            pat_items.extend(itemset)
            pat_set_off.append(len(pat_items))
        pat_off.append(len(pat_set_off) - 1)
    arrays = (np.array(host_off, np.int64), np.array(host_seq, np.int64), np.array(host_pos, np.int32),
              np.array(pat_off, np.int64), np.array(pat_set_off, np.int64), np.array(pat_items, np.int32))
    return arrays, plants


@pytest.mark.parametrize(("popularity", "n_items", "mean", "longest"), [
    (Popularity(), 30, 2.5, 6), (Popularity(distribution="zipf", exponent=1.2), 30, 2.5, 6),
    (Popularity(distribution="zipf", exponent=3.0), 4, 4.0, 6),  # few ids: caps and the smallest-unused fallback
    (Popularity(), 60, 6.0, 14),  # itemsets past 8 items: drawn one attempt at a time
])
def test_fill_sequences_matches_twin_for_any_chunk(popularity, n_items, mean, longest):
    rng = np.random.default_rng(2)
    lo, n = 100, 40
    lengths = rng.integers(1, 6, size=n).astype(np.int32)
    arrays, plants = random_plants(rng, lengths, n_items)
    size_cdf = count_cdf(CountDist(mean=mean, max=longest), n_items)
    pop_cdf = popularity_cdf(popularity, n_items)
    guides = guide(size_cdf), guide(pop_cdf)
    want = fill_twin(KEY, lo, lengths.tolist(), size_cdf.tolist(), pop_cdf.tolist(), n_items,
                     {(lo + s, p): v for (s, p), v in plants.items()})
    assert any(len(set(v)) < len(v) for v in plants.values())  # two patterns share an item in one itemset
    for chunk in (1, 7, 1000):
        for threads in (1, 2):
            with numba_threads(threads):
                so, to, it = fk.fill_sequences(np.uint64(KEY), lo, lengths, size_cdf, guides[0], pop_cdf, guides[1],
                                              n_items, drawable(popularity, n_items), *arrays, chunk)
            assert ref.from_csr(so, to, it) == want
    for (s, p), planted in plants.items():
        assert set(planted) <= set(want[s][p])
    sizes = [len(itemset) for seq in want for itemset in seq]
    assert n_items < 8 or min(sizes) <= 4 < max(sizes)  # both sorting networks (and, for longest 14, past 8)
    assert longest < 14 or max(sizes) > 8


@pytest.mark.parametrize(("weights", "mean"), [
    ([1, 0, 0, 0, 0, 0, 0, 0, 0, 1], 4.0),  # itemsets want more ids than the two with a positive weight
    ([0, 400, 0, 1, 0, 0, 1, 0, 0], 4.0),  # rare positive ids: the 32 * z attempts fall short, the fallback
])
def test_fill_never_draws_an_id_of_weight_zero(weights, mean):
    """The background draws only ids with a positive weight: sizes are cut at those left (beside the
    planted ones), and the fallback takes the smallest unused of them; the kernel matches its twin."""
    rng = np.random.default_rng(5)
    n_items, lo, n = len(weights), 7, 60
    lengths = rng.integers(1, 6, size=n).astype(np.int32)
    arrays, plants = random_plants(rng, lengths, n_items)
    popularity = Popularity(distribution="empirical", weights=weights)
    size_cdf = count_cdf(CountDist(mean=mean, max=8), n_items)
    pop_cdf = popularity_cdf(popularity, n_items)
    mask = drawable(popularity, n_items)
    assert mask.tolist() == [False] + [w > 0 for w in weights]
    want = fill_twin(KEY, lo, lengths.tolist(), size_cdf.tolist(), pop_cdf.tolist(), n_items,
                     {(lo + s, p): v for (s, p), v in plants.items()}, mask.tolist())
    for chunk in (1, 9, 1000):
        so, to, it = fk.fill_sequences(np.uint64(KEY), lo, lengths, size_cdf, guide(size_cdf), pop_cdf,
                                      guide(pop_cdf), n_items, mask, *arrays, chunk)
        assert ref.from_csr(so, to, it) == want
    positive = {i + 1 for i, w in enumerate(weights) if w > 0}
    for s, seq in enumerate(want):
        for p, itemset in enumerate(seq):
            planted = set(plants.get((s, p), []))
            assert set(itemset) - planted <= positive  # no weight-0 id unless planted there
            assert set(itemset) >= planted
    full = [len(set(itemset) - set(plants.get((s, p), []))) for s, seq in enumerate(want)
            for p, itemset in enumerate(seq)]
    assert max(full) == len(positive)  # sizes reach the cap: the positive ids were all used somewhere


def test_popularity_cdf_never_reaches_ids_after_the_last_positive_weight():
    weights = [0.1] * 999 + [0.0] * 5  # the cumulative sum rounds below the total
    cdf = popularity_cdf(Popularity(distribution="empirical", weights=weights), len(weights))
    assert (cdf[998:] == 1.0).all()
    assert k._draw(cdf, np.nextafter(1.0, 0.0)) == 998


def test_overlaps_marks_pattern_itemsets_sharing_an_item():
    pat_set_off = np.array([0, 1, 3, 4, 6, 7], np.int64)
    pat_items = np.array([5, 2, 9, 7, 1, 5, 3], np.int32)  # {5} {2,9} {7} {1,5} {3}
    assert fk._overlaps(pat_set_off, pat_items).tolist() == [True, False, False, True, False]
    rng = np.random.default_rng(4)
    sets = [sorted(rng.choice(np.arange(1, 20), size=int(rng.integers(1, 4)), replace=False).tolist())
            for _ in range(12)]
    off = np.cumsum([0] + [len(s) for s in sets]).astype(np.int64)
    got = fk._overlaps(off, np.array([x for s in sets for x in s], np.int32)).tolist()
    assert got == [any(set(a) & set(b) for j, b in enumerate(sets) if j != i) for i, a in enumerate(sets)]


def test_sorting_networks_sort_every_input():
    """Four values, and two sorted fours merged: every 0/1 input (so every input) and random ones."""
    for bits in itertools.product((0, 1), repeat=4):
        assert list(fk._sort4(*bits)) == sorted(bits)
    for bits in itertools.product((0, 1), repeat=8):
        x, y = sorted(bits[:4]), sorted(bits[4:])
        assert list(fk._merge44(*x, *y)) == sorted(bits)
    rng = np.random.default_rng(3)
    for _ in range(200):
        v = rng.integers(0, 6, size=8).tolist()
        assert list(fk._sort4(*v[:4])) == sorted(v[:4])
        assert list(fk._merge44(*sorted(v[:4]), *sorted(v[4:]))) == sorted(v)


@pytest.mark.parametrize("cdf", [[1.0], [0.2, 0.2, 0.7, 1.0], np.cumsum(np.arange(1, 300) ** -1.1).tolist()])
def test_guide_table_starts_each_draw_where_the_search_would(cdf):
    cdf = np.asarray(cdf) / cdf[-1]
    cdf[-1] = 1.0
    for bits in (1, 3, 10):
        table = k.guide_table(cdf, bits)
        assert table.tolist() == [ref.draw(cdf.tolist(), g / 2**bits) for g in range(2**bits)]
    assert k.guide_table(np.empty(0), 4).size == 0


def test_histogram_kernels_match_numpy():
    rng = np.random.default_rng(5)
    offsets = np.concatenate([[0], np.cumsum(rng.integers(0, 9, size=500))])
    hist = k.add_lengths(offsets, np.zeros(3, np.int64))
    assert hist.tolist() == np.bincount(np.diff(offsets)).tolist()
    assert k.add_lengths(offsets, hist).tolist() == (2 * np.bincount(np.diff(offsets))).tolist()
    values = rng.integers(0, 40, size=3000).astype(np.int32)
    freq = np.zeros(31, np.int64)
    k.add_items(values, freq)
    assert freq.tolist() == np.bincount(values, minlength=40)[:31].tolist()


@pytest.mark.parametrize("seed", range(6))
def test_count_support_matches_reference_counter(seed):
    rng = np.random.default_rng(seed)
    n_items = 5
    db = random_db(rng, 150, n_items)
    times = [np.cumsum(rng.integers(0, 4, size=len(seq))).tolist() for seq in db]
    patterns = []
    for _ in range(10):
        length = int(rng.integers(1, 4))
        pat = [sorted(set(rng.integers(1, n_items + 1, size=int(rng.integers(1, 3))).tolist())) for _ in range(length)]
        min_gap = int(rng.integers(1, 3))
        max_gap = None if rng.random() < 0.3 else min_gap + int(rng.integers(0, 3))
        window = None if rng.random() < 0.5 else int(rng.integers(0, 8))
        patterns.append((pat, min_gap, max_gap, window))
    bin_a = rng.integers(0, 151, size=len(patterns)).astype(np.int64)
    bin_b = bin_a + rng.integers(0, 151 - bin_a)
    got = lk.count_support(*to_csr(db), np.array([t for ts in times for t in ts], np.int64), n_items,
                          *pattern_csr(patterns), bin_a, bin_b, 1 + seed % 3)
    for j, (pat, min_gap, max_gap, window) in enumerate(patterns):
        cuts = [0, int(bin_a[j]), int(bin_b[j]), len(db)]
        want = [ref.support_count(db[a:b], pat, min_gap, max_gap, window, times[a:b])
                for a, b in itertools.pairwise(cuts)]
        assert got[j].tolist() == want, (pat, min_gap, max_gap, window)


def test_count_support_on_sequences_around_64_itemsets():
    """Up to 64 itemsets the unbounded-gap test runs on position bitmasks; beyond, by scanning."""
    rng = np.random.default_rng(9)
    db = [[sorted(set(rng.integers(1, 7, size=int(rng.integers(1, 3))).tolist())) for _ in range(length)]
          for length in [1, 63, 64, 65, 70, *rng.integers(55, 75, size=15).tolist()]]
    patterns = [([[1], [2]], 1), ([[3, 4], [5], [6]], 2), ([[6]], 1), ([[1], [2], [3]], 30), ([[5], [4]], 60),
                ([[2], [2], [2], [2]], 15)]
    pat_off, pat_set_off, pat_items = [0], [0], []
    for pat, _ in patterns:
        for s in pat:
            pat_items.extend(s)
            pat_set_off.append(len(pat_items))
        pat_off.append(len(pat_set_off) - 1)
    n = len(db)
    got = lk.count_support(*to_csr(db), np.empty(0, np.int64), 6, np.array(pat_off, np.int64),
                          np.array(pat_set_off, np.int64), np.array(pat_items, np.int32),
                          np.array([g for _, g in patterns], np.int64), np.full(len(patterns), k.UNBOUNDED, np.int64),
                          np.full(len(patterns), -1, np.int64), np.full(len(patterns), n, np.int64),
                          np.full(len(patterns), n, np.int64), 2)
    for j, (pat, min_gap) in enumerate(patterns):
        want = [int(ref.supports(seq, pat, min_gap)) for seq in db]
        assert got[j, 0] == sum(want), (pat, min_gap)
    assert 0 < got[4, 0] < n and 0 < got[3, 0] < n  # long gaps: some sequences hold them, not all


def test_item_and_pair_supports_match_reference():
    rng = np.random.default_rng(7)
    n_items = 9
    db = random_db(rng, 120, n_items)
    csr = to_csr(db)
    isup = lk.item_supports(*csr, n_items, 3)
    assert isup[1:].tolist() == [sum(any(i in s for s in seq) for seq in db) for i in range(1, n_items + 1)]
    freq = np.array([2, 3, 5, 8], np.int64)
    index = np.full(n_items + 1, -1, np.int64)
    index[freq] = np.arange(freq.size)
    pairs = ref.pair_counts(db)
    for lo, hi in [(0, 4), (1, 3)]:
        got = lk.pair_supports(*csr, index, lo, hi, freq.size, hi - lo)
        want = [[pairs.get((int(a), int(b)), 0) for b in freq] for a in freq[lo:hi]]
        assert got.tolist() == want


def pattern_csr(patterns):
    """(itemsets, min_gap, max_gap, window) tuples as the kernels' pattern arrays."""
    pat_off, pat_set_off, pat_items = [0], [0], []
    for pat, *_ in patterns:
        for s in pat:
            pat_items.extend(s)
            pat_set_off.append(len(pat_items))
        pat_off.append(len(pat_set_off) - 1)
    return (np.array(pat_off, np.int64), np.array(pat_set_off, np.int64), np.array(pat_items, np.int32),
            np.array([p[1] for p in patterns], np.int64), np.array([p[2] or k.UNBOUNDED for p in patterns], np.int64),
            np.array([-1 if p[3] is None else p[3] for p in patterns], np.int64))


@pytest.mark.parametrize("seed", range(4))
def test_ledger_counts_match_the_separate_reference_counters(seed):
    """One pass gives every pattern's support, the pair supports and the item supports: with
    sequences past 64 itemsets, items again in later itemsets, empty itemsets, tiles of rows,
    ranks out of item order, pattern items without a rank, and patterns of any shape."""
    rng = np.random.default_rng(seed)
    n_items = 7
    db = (random_db(rng, 70, n_items) + random_db(rng, 5, n_items, longest=90)
          + [[[1], [], [1, 2]], [[]], [[3], [3], []], [[2, 5], [5], [2]]])
    db = [db[i] for i in rng.permutation(len(db))]
    times = np.cumsum(rng.integers(0, 3, size=sum(len(seq) for seq in db))).astype(np.int64)
    starts = np.cumsum([0] + [len(seq) for seq in db])
    seq_times = [times[a:b].tolist() for a, b in itertools.pairwise(starts)]
    patterns = [([[1], [2]], 1, None, None), ([[3], [3]], 1, None, None), ([[2, 5], [5]], 2, None, None),
                ([[4], [1, 2], [6]], 1, 3, None), ([[7], [2]], 1, None, 6), ([[1]], 1, None, None),
                ([[6], [6], [6]], 1, 2, 9), ([[1], [1], [1], [1]], 20, None, None)]
    if seed % 2:  # patterns too wide for the fixed-shape test of position masks
        patterns.append(([[1, 2], [3], [1, 2], [4], [5], [6], [7], [1], [2]], 1, None, None))
    n = len(db)
    bin_a = rng.integers(0, n + 1, size=len(patterns)).astype(np.int64)
    bin_b = bin_a + rng.integers(0, n + 1 - bin_a)
    ranked = rng.permutation(np.arange(1, n_items + 1))[:5]
    index = np.full(n_items + 1, -1, np.int64)
    index[ranked] = np.arange(ranked.size)
    pairs = ref.pair_counts(db)
    for lo, hi in [(0, 5), (1, 4), (0, 0)]:
        counts, got, sup = lk.ledger_counts(*to_csr(db), times, n_items, *pattern_csr(patterns), bin_a, bin_b, index,
                                           lo, hi, ranked.size, 1 + seed % 3)
        for j, (pat, min_gap, max_gap, window) in enumerate(patterns):
            cuts = [0, int(bin_a[j]), int(bin_b[j]), n]
            want = [ref.support_count(db[a:b], pat, min_gap, max_gap, window, seq_times[a:b])
                    for a, b in itertools.pairwise(cuts)]
            assert counts[j].tolist() == want, pat
        assert got.tolist() == [[pairs.get((int(a), int(b)), 0) for b in ranked] for a in ranked[lo:hi]]
        if hi > lo:
            assert sup.tolist() == [sum(any(i in s for s in seq) for seq in db) for i in ranked]
    assert counts[1, 0] + counts[1, 1] + counts[1, 2] > 0 and got.size == 0  # repeated items were counted


def test_pair_counters_past_65535_sequences_in_one_lane():
    """Pair counters are 16-bit per pass and flushed in time: one lane of 70,003 sequences."""
    db = [[[1], [2, 3]]] * 70_000 + [[[3], [1]]] * 3
    index = np.array([-1, 0, 1, 2], np.int64)
    got, sup = lk.pair_item_supports(*to_csr(db), index, 0, 3, 3, 1)
    assert got.tolist() == [[0, 70_000, 70_000], [0, 0, 0], [3, 0, 0]]
    assert sup.tolist() == [70_003, 70_000, 70_003]
    assert lk.pair_supports(*to_csr(db), index, 2, 3, 3, 2).tolist() == [[3, 0, 0]]


def test_item_counts_match_bincount():
    items = np.random.default_rng(5).integers(0, 50, size=10_001).astype(np.int32)
    for lanes in (1, 2, 7):
        assert lk.item_counts(items, 60, lanes).tolist() == np.bincount(items, minlength=61).tolist()
    assert lk.item_counts(np.empty(0, np.int32), 3, 2).tolist() == [0, 0, 0, 0]


WRITERS = pytest.mark.parametrize("writer", [sk.spmf_bytes, sk.spmf_text], ids=["parallel", "one-pass"])


@WRITERS
def test_spmf_bytes_and_parser_round_trip(writer):
    rng = np.random.default_rng(3)
    db = random_db(rng, 50, 2000)
    csr = to_csr(db)
    none = np.empty(0, np.int64)
    text = writer(*csr, none, 0, len(db)).tobytes().decode()
    assert text == "".join(ref.spmf_line(seq) for seq in db)
    assert writer(*csr, none, 10, 20).tobytes().decode() == "".join(ref.spmf_line(seq) for seq in db[10:20])
    assert writer(*csr, none, 7, 7).tobytes() == b""
    error, _, so, to, it = sk.parse_spmf(np.frombuffer(("# comment\n\n" + text).encode(), np.uint8))
    assert error == 0
    assert ref.from_csr(so, to, it) == db
    times = [np.cumsum(rng.integers(0, 1000, size=len(seq))).tolist() for seq in db]
    flat = np.array([t for ts in times for t in ts], np.int64)
    timed = writer(*csr, flat, 0, len(db)).tobytes().decode()
    assert timed == "".join(ref.spmf_line(seq, t) for seq, t in zip(db, times))
    error, _, so, to, it = sk.parse_spmf(np.frombuffer(timed.encode(), np.uint8))
    assert error == 0
    assert ref.from_csr(so, to, it) == db


@WRITERS
def test_spmf_bytes_beyond_the_word_table(writer):
    """Ids past the 8-byte word table are spelt digit by digit; every slice, with and without times."""
    db = [[[7, TABLE_IDS + 5], [2**31 - 1]], [[TABLE_IDS - 1]], [[9, 10, 99_999]], [[TABLE_IDS - 1, TABLE_IDS]]]
    csr = to_csr(db)
    starts = np.cumsum([0] + [len(seq) for seq in db])
    times = np.arange(starts[-1], dtype=np.int64) * 1_000_003
    for a, b in ((0, 4), (1, 2), (3, 4)):
        text = writer(*csr, np.empty(0, np.int64), a, b).tobytes().decode()
        assert text == "".join(ref.spmf_line(seq) for seq in db[a:b])
        timed = writer(*csr, times, a, b).tobytes().decode()
        assert timed == "".join(ref.spmf_line(db[i], times[starts[i]:starts[i + 1]].tolist()) for i in range(a, b))


@pytest.mark.parametrize(("text", "error", "line"), [
    ("1 -1 -2\n1 x -1 -2\n", 1, 2),
    ("1 -1 -2\n\n0 -1 -2\n", 2, 3),
    ("1 -1 -1 -2\n", 3, 1),
    ("1 -1 2 -2\n", 4, 1),
    ("-2\n", 4, 1),
    ("1 -1 -2\n1 -1\n", 5, 2),
    ("1 -1 -2 3\n", 6, 1),
    ("1 -1 -2\n5 -3 -1 -2\n", 2, 2),
    ("<3> 1 -1 <4 2 -1 -2\n", 8, 1),
])
def test_parser_reports_the_malformed_line(text, error, line):
    got = sk.parse_spmf(np.frombuffer(text.encode(), np.uint8))
    assert (got[0], got[1]) == (error, line)


def test_parser_sorts_itemsets_and_refuses_repeats():
    _, _, so, to, it = sk.parse_spmf(np.frombuffer(b"9 3 -1 2 -1 -2\n", np.uint8))
    assert ref.from_csr(so, to, it) == [[[3, 9], [2]]]
    assert sk.parse_spmf(np.frombuffer(b"9 3 3 -1 2 -1 -2\n", np.uint8))[:2] == (7, 1)


def test_parallel_kernels_give_the_same_result_for_any_threads_or_lanes():
    rng = np.random.default_rng(11)
    n_items = 12
    db = random_db(rng, 301, n_items)
    csr = to_csr(db)
    times = np.cumsum(rng.integers(0, 3, size=csr[1].shape[0] - 1)).astype(np.int64)
    pats = [([[1], [2, 3]], 1, k.UNBOUNDED, -1), ([[4], [5]], 1, 2, 5), ([[6, 7]], 1, k.UNBOUNDED, -1)]
    pat_off, pat_set_off, pat_items = [0], [0], []
    for pat, *_ in pats:
        for s in pat:
            pat_items.extend(s)
            pat_set_off.append(len(pat_items))
        pat_off.append(len(pat_set_off) - 1)
    args = (np.array(pat_off, np.int64), np.array(pat_set_off, np.int64), np.array(pat_items, np.int32),
            np.array([p[1] for p in pats], np.int64), np.array([p[2] for p in pats], np.int64),
            np.array([p[3] for p in pats], np.int64), np.full(3, 100, np.int64), np.full(3, 200, np.int64))
    index = np.arange(-1, n_items, dtype=np.int64)
    runs = []
    for threads, lanes in ((1, 1), (2, 2), (2, 5)):
        with numba_threads(threads):
            runs.append((lk.count_support(*csr, times, n_items, *args, lanes).tolist(),
                         lk.item_supports(*csr, n_items, lanes).tolist(),
                         lk.pair_supports(*csr, index, 2, 9, n_items, lanes).tolist(),
                         sk.spmf_bytes(*csr, times, 0, len(db)).tobytes()))
    assert runs[0] == runs[1] == runs[2]
    assert runs[0][1][1:] == [sum(any(i in s for s in seq) for seq in db) for i in range(1, n_items + 1)]
