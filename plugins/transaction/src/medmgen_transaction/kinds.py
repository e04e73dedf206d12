"""Ledger kinds of the transaction modality: planted itemsets and association rules."""

from __future__ import annotations

from attrs import frozen

from medmgen.ledger import Pattern


@frozen(kw_only=True)
class Itemset(Pattern):
    """A set of item ids planted together; support is a fraction of the block's transactions.

    Accidental itemsets (found by the plugin's miner, never planted) use this kind with
    ``target_support = 0``.
    """

    kind = "itemset"
    quantity, target_field, realized_field = "support", "target_support", "realized_support"

    items: list[int]
    target_support: float
    realized_support: float | None = None


@frozen(kw_only=True)
class HighUtilityItemset(Itemset):
    """An itemset planted at a support whose items carry ``item_quantity`` wherever they occur together.

    ``realized_utility`` is the exact utility of the itemset in the data: over the
    transactions holding all its items, the sum of quantity x unit profit of its items.
    """

    kind = "high_utility_itemset"

    item_quantity: int
    realized_utility: int | None = None


@frozen(kw_only=True)
class Rule(Pattern):
    """An association rule ``antecedent -> consequent``: two planted quantities, both steered.

    ``target_support``/``realized_support`` are the support of antecedent ∪ consequent;
    confidence is ``support(antecedent ∪ consequent) / support(antecedent)``.
    """

    kind = "rule"
    quantity, target_field, realized_field = "confidence", "target_confidence", "realized_confidence"
    also = (("support", "target_support", "realized_support"),)

    antecedent: list[int]
    consequent: list[int]
    target_support: float
    target_confidence: float
    realized_support: float | None = None
    realized_confidence: float | None = None
