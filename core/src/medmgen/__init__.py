"""MEDM-GEN: synthetic benchmark datasets whose ground truth is known.

>>> import medmgen
>>> ds = medmgen.generate("spec.toml", seed=7, out="out/")   # doctest: +SKIP
>>> ds.ledger.patterns[0], ds.table("baskets")               # doctest: +SKIP
"""

from medmgen import workers as _workers  # noqa: F401  (first: how numba's threads wait)
from medmgen.dataset import Dataset, generate, load
from medmgen.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["Dataset", "__version__", "generate", "hookimpl", "load"]
