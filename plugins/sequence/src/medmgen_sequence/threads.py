"""How many threads numba's parallel kernels use (``--workers``); never changes their output."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numba

from medmgen.workers import thread_count


@contextmanager
def numba_threads(workers: int) -> Iterator[None]:
    """Run parallel kernels on ``workers`` threads (at most the ones numba started), then restore."""
    before = numba.get_num_threads()
    numba.set_num_threads(thread_count(workers))
    try:
        yield
    finally:
        numba.set_num_threads(before)
