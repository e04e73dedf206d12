"""Planting: exact host counts, nested in the aim, and every host really carries its pattern."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sequence_reference as ref

from medmgen.interfaces import BlockContext
from medmgen.spec import load_spec
from medmgen_sequence import _kernels as k
from medmgen_sequence import planting
from medmgen_sequence.generator import PlantedSequences
from medmgen_sequence.io import SequenceData


def setup(registry, **extra):
    block = {"modality": "sequence", "records": 4000, "items": 400, "chunk": 1000,
             "timestamps": {"kind": "poisson", "interval": 3},
             "sequential_patterns": [
                 {"sequence": [[1], [2, 3], [4]], "support": 0.05, "min_gap": 2, "max_gap": 3},
                 {"sequence": [[5], [6]], "support": 0.03, "max_window": 4},
                 {"sequence": [[7], [8]], "support": 0.02, "drift": {"at": 1000, "support": 0.1}},
             ]}
    block.update(extra)
    spec = load_spec({"dataset": {"seed": 5}, "blocks": {"b": block}}, registry)
    gen = PlantedSequences()
    ctx = BlockContext(block="b", root_seed=5, spec_dir=Path("."))
    resolved = gen.resolve(spec.blocks["b"], ctx)
    return resolved, gen.plan(resolved, ctx), ctx


def rows(data: SequenceData) -> tuple[list, list]:
    db = ref.from_csr(data.seq_off, data.set_off, data.items)
    times = [data.times[data.seq_off[s]:data.seq_off[s + 1]].tolist() for s in range(data.records)]
    return db, times


@pytest.mark.parametrize("scale", [0.5, 1.0, 1.7])
def test_every_host_carries_its_pattern_and_counts_are_exact(registry, scale):
    block, plan, ctx = setup(registry)
    aims = [p.target_support * scale for p in plan]
    lengths = k.draw_counts(planting._key(ctx, 0), 0, block.records, 0, planting.count_cdf(block.itemsets))
    data, n_hosts = planting.build(block, plan, aims, ctx)
    db, times = rows(data)
    for j, (p, aim) in enumerate(zip(plan, aims)):
        hosts = planting.hosts_of(block, ctx, j, p, aim, lengths.copy())
        want = sum(round(min(1.0, max(0.0, sup + aim - p.target_support)) * (hi - lo))
                   for lo, hi, sup in planting.schedule(block, j, p.target_support))
        assert n_hosts[j] == hosts.size == want
        assert all(ref.supports(db[s], p.sequence, p.min_gap, p.max_gap, p.max_window, times[s]) for s in hosts)


@pytest.mark.parametrize("scale", [0.6, 1.3])
def test_all_hosts_in_one_kernel_are_each_patterns_hosts(registry, scale):
    block, plan, ctx = setup(registry, random_sequential_patterns={"count": 6, "length": [2, 3],
                                                                  "support": [0.01, 0.04]})
    aims = [p.target_support * scale for p in plan]
    lengths = k.draw_counts(planting._key(ctx, 0), 0, block.records, 0, planting.count_cdf(block.itemsets))
    ends = [None, None, (0.03 * scale, 0.08 * scale)] + [None] * (len(plan) - 3)
    got = planting.all_hosts(block, ctx, plan, aims, lengths, ends)
    assert len(got) == len(plan) == 9
    for j, (p, aim) in enumerate(zip(plan, aims)):
        want = planting.hosts_of(block, ctx, j, p, aim, lengths, ends[j])
        assert got[j].tolist() == want.tolist() and want.size > 0


def test_hosts_are_nested_in_the_aim(registry):
    block, plan, ctx = setup(registry)
    lengths = k.draw_counts(planting._key(ctx, 0), 0, block.records, 0, planting.count_cdf(block.itemsets))
    for j, p in enumerate(plan):
        small = planting.hosts_of(block, ctx, j, p, p.target_support * 0.8, lengths)
        large = planting.hosts_of(block, ctx, j, p, p.target_support * 1.2, lengths)
        assert set(small.tolist()) <= set(large.tolist())


def test_drift_hosts_follow_the_segments(registry):
    block, plan, ctx = setup(registry)
    lengths = k.draw_counts(planting._key(ctx, 0), 0, block.records, 0, planting.count_cdf(block.itemsets))
    hosts = planting.hosts_of(block, ctx, 2, plan[2], plan[2].target_support, lengths)
    assert (hosts < 1000).sum() == 20 and (hosts >= 1000).sum() == 300


def test_independent_build_plants_nothing_and_keeps_the_background(registry):
    block, _, ctx = setup(registry, sequential_patterns=[])
    with_nothing, counts = planting.build(block, [], None, ctx)
    again, _ = planting.build(block, [], [], ctx)
    assert counts == []
    assert np.array_equal(with_nothing.items, again.items)
    assert np.array_equal(with_nothing.times, again.times)
