"""Numba helpers that spell non-negative integer ids as ASCII for the SPMF text writers.

An id below :data:`TABLE_IDS` is one unaligned 8-byte store of its word from
:func:`spelling` (its digits, a space, then zero bytes): the writer advances by the id's
``width`` and the next write covers the rest. A buffer therefore needs
``8 - width`` bytes (at most 6) after the last id it spells this way; SPMF lines always
have them (a newline, or ``-1 -2`` and a newline).
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

TABLE_IDS = 1 << 16  # ids below this come from the word table (512 KiB); larger ones digit by digit


@intrinsic
def store8(typingctx, buf, at, word):
    """``buf[at:at + 8]`` = the 8 bytes of ``word`` as they lie in memory, in one unaligned store."""

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        where = builder.bitcast(builder.gep(data, [args[1]]), ir.IntType(64).as_pointer())
        builder.store(args[2], where).align = 1
        return context.get_dummy_value()

    return types.void(buf, types.intp, types.uint64), codegen


@numba.njit(cache=True, nogil=True, inline="always")
def digits(v: int) -> int:
    """Decimal digits of ``v >= 0``."""
    n = 1
    while v >= 10:
        v //= 10
        n += 1
    return n


@numba.njit(cache=True, nogil=True, inline="always")
def put(buf: np.ndarray, w: int, v: int) -> int:
    """Write the digits of ``v >= 0`` at ``buf[w:]``; return the position after them."""
    n = digits(v)
    for k in range(n - 1, -1, -1):
        buf[w + k] = 48 + v % 10
        v //= 10
    return w + n


@numba.njit(cache=True, nogil=True)
def spelling(top: int) -> tuple[np.ndarray, np.ndarray]:
    """Words and widths of ids ``0..min(top, TABLE_IDS - 1)``: ``words[id]`` holds the id's
    digits and a space (``width[id]`` bytes, at most 6 of its 8)."""
    m = min(top, TABLE_IDS - 1) + 1
    words = np.zeros(m, dtype=np.uint64)
    spelt = words.view(np.uint8)
    width = np.empty(m, dtype=np.int64)
    for v in range(m):
        n = digits(v)
        width[v] = n + 1
        put(spelt, 8 * v, v)
        spelt[8 * v + n] = 32
    return words, width
