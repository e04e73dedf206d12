"""The plan (which itemsets and rules, at which targets) and the planting units of one pass."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
from attrs import frozen

from medmgen.errors import InputError, Problem
from medmgen.interfaces import BlockContext
from medmgen.ledger import Pattern
from medmgen.seeds import PLAN
from medmgen_transaction.kinds import HighUtilityItemset, Itemset, Rule
from medmgen_transaction.model import solve_fractions
from medmgen_transaction.spec import PlantedSet, TransactionBlock, explicit_ids, load_problem, planted_load


def count_for(support: float, records: int) -> int:
    """Carriers for a support: round half up, within ``0..records``."""
    return min(records, max(0, math.floor(support * records + 0.5)))


def make_plan(block: TransactionBlock, items: int, mean_length: float, ctx: BlockContext, source: str) -> list[Pattern]:
    """Explicit itemsets, random itemsets (drawn from the PLAN stream), rules, high-utility itemsets."""
    name = ctx.block
    plan: list[Pattern] = [
        Itemset(id=f"{name}/itemset/{i}", block=name, items=sorted(s.items), target_support=s.support)
        for i, s in enumerate(block.itemsets)
    ]
    drawn = draw_random_itemsets(block, items, ctx, source)
    plan += [Itemset(id=f"{name}/itemset/{len(block.itemsets) + j}", block=name, items=members, target_support=sup)
             for j, (members, sup) in enumerate(drawn)]
    plan += [Rule(id=f"{name}/rule/{i}", block=name, antecedent=sorted(r.antecedent), consequent=sorted(r.consequent),
                  target_support=r.support, target_confidence=r.confidence) for i, r in enumerate(block.rules)]
    plan += [HighUtilityItemset(id=f"{name}/high_utility/{i}", block=name, items=sorted(h.items),
                                target_support=h.support, item_quantity=h.quantity)
             for i, h in enumerate(block.high_utility)]
    load = planted_load(planted_sets(plan))
    if load > mean_length:
        p = load_problem(load, mean_length)
        raise InputError(source, [Problem(f"blocks.{name}", p.message, p.expected, p.got)])
    return plan


def planted_sets(plan: Sequence[Pattern]) -> list[PlantedSet]:
    """Each planted set with its target support (a rule gives A ∪ C and A)."""
    out = []
    for p in plan:
        if isinstance(p, Itemset):
            out.append(PlantedSet(items=frozenset(p.items), support=p.target_support, path=p.id))
        elif isinstance(p, Rule):
            out.append(PlantedSet(items=frozenset(p.antecedent + p.consequent), support=p.target_support, path=p.id))
            out.append(PlantedSet(items=frozenset(p.antecedent), path=p.id,
                                  support=min(1.0, p.target_support / p.target_confidence)))
    return out


def draw_random_itemsets(block: TransactionBlock, items: int, ctx: BlockContext,
                         source: str) -> list[tuple[list[int], float]]:
    """``random_itemsets.count`` itemsets: sizes and supports uniform in their ranges.

    Each takes ``round(overlap * size)`` (at most ``size - 1``) ids from earlier random
    itemsets, never completing one of them, and the rest from ids no pattern uses yet.
    """
    spec = block.random_itemsets
    if spec.count == 0:
        return []
    rng = ctx.rng(PLAN)
    used = explicit_ids(block)
    mask = np.ones(items + 1, dtype=np.bool_)
    mask[0] = False
    mask[[i for i in used if i <= items]] = False
    free = np.flatnonzero(mask)
    fresh = iter(rng.permutation(free).tolist())
    sizes = rng.integers(spec.size[0], spec.size[1] + 1, size=spec.count)
    supports = np.clip(np.round(rng.uniform(spec.support[0], spec.support[1], size=spec.count), 6),
                       spec.support[0], spec.support[1])
    pool: list[int] = []
    holders: dict[int, list[int]] = {}
    out: list[tuple[list[int], float]] = []
    for j, size in enumerate(sizes.tolist()):
        want = min(math.floor(spec.overlap * size + 0.5), size - 1, len(pool)) if pool else 0
        hits: dict[int, int] = {}
        chosen: list[int] = []
        for x in _candidates(rng, len(pool), want):
            item = pool[x]
            if item in chosen or any(hits.get(h, 0) + 1 == len(out[h][0]) for h in holders[item]):
                continue
            for h in holders[item]:
                hits[h] = hits.get(h, 0) + 1
            chosen.append(item)
            if len(chosen) == want:
                break
        for _ in range(size - len(chosen)):
            item = next(fresh, None)
            if item is None:
                raise InputError.one(source, f"blocks.{ctx.block}.random_itemsets", "ran out of item ids for "
                                     "random itemsets with this seed", f"at most {free.size} ids", f"itemset {j}")
            pool.append(item)
            holders[item] = []
            chosen.append(item)
        for item in chosen:
            holders[item].append(j)
        out.append((sorted(chosen), float(supports[j])))
    return out


def _candidates(rng: np.random.Generator, n: int, want: int) -> Iterator[int]:
    """Random pool indices: a small sample first, then (rarely needed) a full permutation."""
    if want == 0:
        return
    yield from rng.choice(n, size=min(n, 4 * want + 8), replace=False).tolist()
    yield from rng.permutation(n).tolist()


@frozen(kw_only=True)
class Units:
    """Planting units of one pass: unit ``u`` goes fully into ``full[u]`` records and its
    first ``head_len[u]`` items into ``total[u] - full[u]`` more (a rule's antecedent)."""

    offsets: np.ndarray
    items: np.ndarray
    head_len: np.ndarray
    full: np.ndarray
    total: np.ndarray


def background_chance(weights: np.ndarray, mean_length: float, planted_load: float) -> np.ndarray:
    """Chance that the background alone puts each id (index = id) into a transaction.

    Distinct ids drawn by weight: ``1 - exp(-lam * w_i)``, with ``lam`` chosen so the
    chances sum to the mean number of background items (``mean_length - planted_load``).
    """
    positive = int(np.count_nonzero(weights))
    fill = min(max(mean_length - planted_load, 0.0), positive - 0.5)
    if fill <= 0.0:
        return np.zeros_like(weights)
    low, high = fill, fill
    while -np.expm1(-high * weights).sum() < fill:
        high *= 2.0
    for _ in range(60):
        mid = 0.5 * (low + high)
        if -np.expm1(-mid * weights).sum() < fill:
            low = mid
        else:
            high = mid
    return -np.expm1(-high * weights)


def units_for(plan: Sequence[Pattern], records: int, ctx: BlockContext, weights: np.ndarray,
              mean_length: float) -> Units:
    """Carrier counts for the controller's current aims (``ctx.aim``), via :mod:`model`.

    ``weights`` are the background popularity (index = id, summing to 1).
    """
    events: list[frozenset[int]] = []
    owners: list[int] = []
    aims: list[float] = []
    for k, p in enumerate(plan):
        aim = ctx.aim(p)
        assert aim is not None
        if isinstance(p, Itemset):
            events.append(frozenset(p.items))
            aims.append(aim)
            owners.append(k)
        elif isinstance(p, Rule):
            support = ctx.aim(p, "support")
            assert support is not None
            conf = min(1.0, max(aim, support))
            events += [frozenset(p.antecedent + p.consequent), frozenset(p.antecedent)]
            aims += [support, min(1.0, support / conf)]
            owners += [k, k]
    load = sum(a * len(e) for a, e in zip(aims, events, strict=True))
    fractions = iter(solve_fractions(events, owners, aims, background_chance(weights, mean_length, load)).tolist())
    members: list[list[int]] = []
    head, full, total = [], [], []
    for p in plan:
        if isinstance(p, Itemset):
            n = count_for(next(fractions), records)
            members.append(p.items)
            head.append(len(p.items))
            full.append(n)
            total.append(n)
        elif isinstance(p, Rule):
            n = count_for(next(fractions), records)
            members.append(p.antecedent + p.consequent)
            head.append(len(p.antecedent))
            full.append(n)
            total.append(min(records, n + count_for(next(fractions), records)))
    offsets = np.zeros(len(members) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(m) for m in members])
    flat = np.array([i for m in members for i in m], dtype=np.int32)
    return Units(offsets=offsets, items=flat, head_len=np.array(head, dtype=np.int64),
                 full=np.array(full, dtype=np.int64), total=np.array(total, dtype=np.int64))
