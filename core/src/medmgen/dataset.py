"""The Python API: :func:`generate` a dataset, :func:`load` a package."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from medmgen import ledger as ledger_mod
from medmgen.package import atomic_dir, block_files, fill_package, read_json, spec_dir_of
from medmgen.pipeline import run
from medmgen.plugins import Registry, load_registry
from medmgen.progress import Progress
from medmgen.spec import Spec, load_spec


class Dataset:
    """A generated dataset: spec, ledger, report and each block as Arrow or pandas."""

    def __init__(self, spec: Spec, ledger: ledger_mod.Ledger, report: Mapping[str, Any],
                 tables: Mapping[str, Mapping[str, Any]], path: Path | None = None) -> None:
        self.spec = spec
        self.ledger = ledger
        self.report = dict(report)
        self.path = path
        self._tables = {b: dict(parts) for b, parts in tables.items()}

    @property
    def blocks(self) -> list[str]:
        return list(self._tables)

    @property
    def passed(self) -> bool:
        return bool(self.report.get("passed"))

    def table(self, block: str, part: str = "") -> pa.Table:
        """The block's Arrow table (``part="edges"``/``"nodes"`` for graph blocks)."""
        try:
            item = self._tables[block][part]
        except KeyError:
            have = {b: sorted(p) for b, p in self._tables.items()}
            raise KeyError(f"no table {block!r} part {part!r}; have {have}") from None
        if isinstance(item, Path):
            item = pq.read_table(item)
            self._tables[block][part] = item
        return item

    def parts(self, block: str) -> list[str]:
        """The table parts of a block (``[""]``, or e.g. ``["edges", "nodes"]``)."""
        return sorted(self._tables[block])

    def to_pandas(self, block: str, part: str = "") -> Any:
        return self.table(block, part).to_pandas()

    def __repr__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"<Dataset {self.spec.dataset.name!r} blocks={self.blocks} patterns={len(self.ledger.patterns)}{where}>"


def generate(
    spec: str | Path | Mapping[str, Any],
    *,
    seed: int | None = None,
    out: str | Path | None = None,
    overrides: Sequence[str] = (),
    workers: int = 1,
    force: bool = False,
    registry: Registry | None = None,
    progress: Progress | None = None,
    base_dir: str | Path | None = None,
) -> Dataset:
    """Generate the dataset a spec (path, or dict of TOML data) describes.

    With ``out``, the package is also written there (atomically) and the returned
    dataset's ``path`` points at it. ``base_dir`` is where relative paths in the spec
    resolve (default: the spec file's directory).
    """
    registry = registry or load_registry()
    parsed = load_spec(spec, registry, overrides=overrides, seed=seed,
                       base_dir=Path(base_dir) if base_dir is not None else None)
    if out is None:
        result = run(parsed, registry, workers=workers, progress=progress)
        tables = {name: dict(r.data.tables()) for name, r in result.blocks.items()}
        return Dataset(result.spec, result.ledger, result.report, tables, None)
    path = Path(out).resolve()
    # the target is checked before anything is generated; generators may write their files into it as they go
    with atomic_dir(path, force=force) as tmp:
        (tmp / "data").mkdir()
        result = run(parsed, registry, workers=workers, progress=progress, data_dir=tmp / "data")
        fill_package(result, tmp, registry)
    # tables are read back from the package lazily, not held in memory
    return Dataset(result.spec, result.ledger, result.report, block_files(path), path)


def load(directory: str | Path, *, registry: Registry | None = None) -> Dataset:
    """Open a dataset package written by ``generate``; tables load lazily."""
    directory = Path(directory)
    registry = registry or load_registry()
    spec = load_spec(directory / "spec.toml", registry, base_dir=spec_dir_of(directory))
    ledger = ledger_mod.from_json_dict(read_json(directory / "ledger.json"), registry.kinds,
                                       str(directory / "ledger.json"))
    report = read_json(directory / "report.json")
    return Dataset(spec, ledger, report, block_files(directory), directory)
