"""Which blocks the evaluators judge and where their real tables are (no heavy imports)."""

from __future__ import annotations

from pathlib import Path

from medmgen.interfaces import Evaluation

SUFFIXES = (".parquet", ".csv", ".csv.gz", ".csv.bz2", ".csv.zst")  # as the tabular plugin reads
TAKES_AGAINST = f"a table ({', '.join(SUFFIXES)}) for tabular blocks"  # the evaluators' ``takes_against``


def real_path(evaluation: Evaluation, name: str) -> Path | None:
    """The real table block ``name`` is compared with: ``--against`` when it is a table (then
    recorded as used, :meth:`~medmgen.interfaces.Evaluation.use_against`), else the block's
    ``source`` key (an ``--against`` SPMF or edge-list file is another modality's).

    A relative ``source`` is resolved against the spec file's directory (for a package,
    the directory recorded in its manifest), whatever the working directory.
    """
    if evaluation.against is not None and str(evaluation.against).lower().endswith(SUFFIXES):
        return evaluation.use_against(name)
    source = getattr(evaluation.spec.blocks[name], "source", "")
    if not isinstance(source, str) or not source.lower().endswith(SUFFIXES):
        return None
    p = Path(source).expanduser()
    return p if p.is_absolute() else Path(evaluation.spec.directory) / p


def tabular_blocks(evaluation: Evaluation) -> list[str]:
    """Names of the blocks this plugin's evaluators can judge: tabular, with a real table."""
    out = []
    for name, block in evaluation.spec.blocks.items():
        if block.modality == "tabular" and "" in evaluation.tables.get(name, {}) and real_path(evaluation, name):
            out.append(name)
    return out
