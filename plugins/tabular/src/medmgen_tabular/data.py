"""The data object a tabular generator returns: one Arrow table, optionally also as CSV."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
from attrs import frozen

from medmgen.ledger import Pattern

Recount = Callable[[pa.Table, np.ndarray, Mapping[str, np.ndarray], list[Pattern]], list[Pattern]]


@frozen(kw_only=True)
class TabularData:
    """``<block>.parquet`` (and ``<block>.csv`` when ``csv``).

    ``regenerate(n, round)`` draws ``n`` fresh rows from the fitted model (seeded by
    the round), so a repairer can reject rows and regenerate them; ``reference`` is
    the source table constraints such as ``fixed_combinations`` are checked against;
    ``identifiers`` name the columns that keep their values when a row is replaced;
    ``recount(table, origin, tainted, patterns)`` recounts the ledger patterns after a
    repair, where output row ``i`` sat at ``origin[i]`` before it and
    ``tainted[column][i]`` says the row was replaced or had that column changed.
    """

    table: pa.Table
    csv: bool = False
    regenerate: Callable[[int, int], pa.Table] | None = attrs.field(default=None, eq=False, repr=False)
    reference: pa.Table | None = attrs.field(default=None, eq=False, repr=False)
    identifiers: tuple[str, ...] = ()
    recount: Recount | None = attrs.field(default=None, eq=False, repr=False)

    def tables(self) -> Mapping[str, pa.Table]:
        return {"": self.table}

    def write_extra(self, directory: Path, block: str) -> Sequence[Path]:
        if not self.csv:
            return ()
        path = directory / f"{block}.csv"
        pcsv.write_csv(self.table, path)
        return (path,)
