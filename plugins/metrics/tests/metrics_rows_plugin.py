"""A test-only plugin: a tabular generator that emits the rows of a CSV file as its data.

Emitting the real training rows is a copying generator; emitting fresh real rows that
the evaluators never see is an ideal one. Installed through a real ``medmgen`` entry
point by ``conftest.py``, so the CLI finds it like any plugin.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.csv as pcsv
from attrs import frozen

from medmgen import hookimpl
from medmgen.fields import setting
from medmgen.interfaces import BlockResult, BlockSpec, Generator, TableData
from medmgen.seeds import DATA


@frozen(kw_only=True)
class RowsBlock(BlockSpec):
    source: str = setting(doc="The real table the evaluators compare with.")
    emit: str = setting(doc="CSV whose rows become the block's data.")
    target: str = setting("", doc="Column the utility evaluator predicts.")
    shuffle: list[str] = setting(factory=list, doc="Columns permuted independently of the others.")
    max_levels: int = setting(100_000, doc="As the tabular plugin's key: text columns with more values are ids.")


class Rows(Generator):
    modality, name, config = "tabular", "metrics_test_rows", RowsBlock

    def generate(self, block, plan, ctx):
        table = pcsv.read_csv(ctx.resolve(block.emit))
        rng = ctx.rng(DATA)
        for name in block.shuffle:
            i = table.schema.get_field_index(name)
            table = table.set_column(i, name, pa.array(rng.permutation(table.column(name).to_numpy())))
        return BlockResult(data=TableData(table))


@hookimpl
def medmgen_generators():
    return [Rows]
