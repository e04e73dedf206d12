"""numba's worker threads: how many run a parallel kernel (``--workers``) and how they wait.

Imported first by :mod:`medmgen`, before any parallel kernel starts numba's OpenMP pool:
unless ``OMP_WAIT_POLICY`` is set, its workers sleep as soon as a parallel loop ends instead
of spinning (libgomp's default spins ~300,000 rounds). The plugins write their files on
background threads beside the kernels (pyarrow's Parquet encoder, the SPMF text), and
spinning workers took their cores: at 10^5 sequences the sequence stages used 10-15 % less
CPU with sleeping workers (docs/benchmarks.md, *Sequence*); transaction runs were unchanged.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def thread_count(workers: int) -> int:
    """``workers`` cut to 1..the threads numba started (``NUMBA_NUM_THREADS``)."""
    import numba

    return max(1, min(workers, numba.config.NUMBA_NUM_THREADS))


def set_threads(workers: int) -> None:
    """numba's thread pool is the parallelism we choose; output never depends on it."""
    import numba

    numba.set_num_threads(thread_count(workers))
