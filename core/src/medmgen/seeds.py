"""Seed streams: one root seed, one independent stream per block, stage and partition.

Streams are addressed, not spawned in order: the stream of block ``b``, partition ``i``
is ``SeedSequence(root, spawn_key=(crc32(b), DATA, i))``. Adding a block or changing
the number of workers never changes another stream, so the bytes stay the same.
"""

from __future__ import annotations

import zlib

import numpy as np

PLAN = 0
DATA = 1
REPAIR = 2
PRIVACY = 3


def block_key(block: str) -> int:
    return zlib.crc32(block.encode("utf-8"))


def stream(root: int, block: str, stage: int, *index: int) -> np.random.SeedSequence:
    """The seed sequence of one block, stage and (optional) partition index."""
    return np.random.SeedSequence(root, spawn_key=(block_key(block), stage, *index))


def rng(root: int, block: str, stage: int, *index: int) -> np.random.Generator:
    return np.random.default_rng(stream(root, block, stage, *index))


def state_words(seq: np.random.SeedSequence, n: int = 2) -> np.ndarray:
    """``n`` uint64 words for a numba kernel's explicit PRNG state (never all zero)."""
    words = seq.generate_state(n, dtype=np.uint64)
    if not words.any():
        words[0] = 0x9E3779B97F4A7C15
    return words
