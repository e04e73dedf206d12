"""A complete third-party MEDM-GEN generator: coin flips whose heads rate is planted."""

import numpy as np
import pyarrow as pa
from attrs import evolve, frozen

from medmgen import hookimpl
from medmgen.fields import setting
from medmgen.interfaces import BlockResult, BlockSpec, Generator, TableData
from medmgen.ledger import Pattern
from medmgen.seeds import DATA


@frozen(kw_only=True)
class HeadsRate(Pattern):
    kind = "heads_rate"
    quantity, target_field, realized_field = "support", "target_support", "realized_support"
    target_support: float
    realized_support: float | None = None


@frozen(kw_only=True)
class CoinBlock(BlockSpec):
    records: int = setting(1000, doc="Number of flips.", ge=1)
    heads: float = setting(0.5, doc="Target fraction of heads.", gt=0, le=1)


class BiasedCoin(Generator):
    modality, name, config, default = "coin", "biased", CoinBlock, True

    def plan(self, block, ctx):
        return [HeadsRate(id=f"{ctx.block}/heads", block=ctx.block, target_support=block.heads)]

    def generate(self, block, plan, ctx):
        n_heads = round(ctx.aim(plan[0]) * block.records)  # exactly this many heads
        flips = ctx.rng(DATA).permutation(np.arange(block.records) < n_heads)
        realized = evolve(plan[0], realized_support=float(flips.mean()))
        return BlockResult(data=TableData(pa.table({"heads": flips})), patterns=[realized])


@hookimpl
def medmgen_generators():
    return [BiasedCoin]


@hookimpl
def medmgen_ledger_kinds():
    return [HeadsRate]
