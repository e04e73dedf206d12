"""The id spelling the SPMF writers share, against Python's own ``str``."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from medmgen.spelling import TABLE_IDS, digits, put, spelling, store8


@pytest.mark.parametrize("top", [0, 9, 10, 999, TABLE_IDS + 7])
def test_words_hold_each_id_and_a_space(top: int) -> None:
    words, width = spelling(top)
    assert words.size == width.size == min(top, TABLE_IDS - 1) + 1
    spelt = words.view(np.uint8).reshape(-1, 8)
    for v in {0, 1, 9, 10, 99, 100, words.size // 2, words.size - 1} & set(range(words.size)):
        want = f"{v} ".encode()
        assert width[v] == len(want)
        assert spelt[v].tobytes() == want + bytes(8 - len(want))


@numba.njit
def _spell_all(values: np.ndarray, words: np.ndarray, width: np.ndarray) -> np.ndarray:
    buf = np.full(values.size * 12 + 8, 35, np.uint8)  # '#' where nothing was written
    w = 0
    for v in values:
        if v < width.size:
            store8(buf, w, words[v])
            w += width[v]
        else:
            w = put(buf, w, v)
            buf[w] = 32
            w += 1
    buf[w] = 10
    return buf[:w + 1]


def test_stores_and_digits_spell_a_line_like_python() -> None:
    values = np.array([5, 0, TABLE_IDS - 1, TABLE_IDS, 123_456_789, 2**31 - 1, 42], np.int64)
    words, width = spelling(int(values.max()))
    assert _spell_all(values, words, width).tobytes() == (" ".join(map(str, values)) + " \n").encode()
    assert [digits(v) for v in (0, 9, 10, 99_999, 100_000)] == [1, 1, 2, 5, 6]
