"""The ledger: typed records, versioned JSON and statuses."""

from __future__ import annotations

import json

import pytest
from toy_plugin import Rate

from medmgen import ledger as L
from medmgen.errors import InputError


def test_round_trip_keeps_types_and_history():
    p = Rate(id="b/rate/0", block="b", target_support=0.2, realized_support=0.19)
    p = p.with_event(L.Event(stage="repair", action="cap", before=0.2, after=0.19), status="weakened")
    ledger = L.Ledger(seed=3, patterns=[p], accidental=[Rate(id="b/acc/0", block="b", target_support=0.0,
                                                              realized_support=0.05)])
    data = json.loads(json.dumps(L.to_json_dict(ledger)))
    assert data["format"] == "medmgen.ledger/1"
    assert list(data["patterns"][0])[:4] == ["id", "block", "kind", "status"]
    back = L.from_json_dict(data, {"rate": Rate})
    assert back == ledger
    assert isinstance(back.patterns[0], Rate)


def test_unknown_kind_and_bad_fields_are_reported():
    data = {"format": L.FORMAT, "seed": 1, "patterns": [
        {"id": "a", "block": "b", "kind": "mystery", "status": "kept"},
        {"id": "c", "block": "b", "kind": "rate", "status": "kept", "target_support": "x"},
    ]}
    with pytest.raises(InputError) as info:
        L.from_json_dict(data, {"rate": Rate})
    paths = {p.path for p in info.value.problems}
    assert paths == {"patterns[0].kind", "patterns[1].target_support"}


def test_wrong_format_is_refused():
    with pytest.raises(InputError, match="unsupported ledger format"):
        L.from_json_dict({"format": "other/9", "seed": 1}, {})


@pytest.mark.parametrize(("target", "realized", "status"), [
    (0.2, 0.2, "kept"), (0.2, 0.2009, "kept"), (0.2, 0.25, "kept"), (0.2, 0.15, "weakened"), (0.2, 0.0, "destroyed"),
])
def test_status_from_tolerance(target, realized, status):
    p = Rate(id="x", block="b", target_support=target, realized_support=realized)
    assert L.status_for(p, {"support": 0.001}) == status


def test_recall_and_precision_from_the_ledger():
    from medmgen.evaluators.spec_error import recovery

    planted = [Rate(id=f"p{i}", block="b", target_support=t, realized_support=r)
               for i, (t, r) in enumerate([(0.01, 0.0101), (0.02, 0.0199), (0.05, 0.004)])]
    accidental = [Rate(id="a0", block="b", target_support=0.0, realized_support=0.012)]
    out = recovery(L.Ledger(seed=1, patterns=planted, accidental=accidental))
    assert out == {"min_target_support": 0.01, "recall": 2 / 3, "precision": 2 / 3, "precision_complete": True,
                   "min_realized_support": 0.004}
    assert recovery(L.Ledger(seed=1)) == {}
    # a capped list: the block's miner found 7 unplanned patterns, listed one
    capped = recovery(L.Ledger(seed=1, patterns=planted, accidental=accidental), {"b": {"accidental_found": 7}})
    assert capped["precision"] == 2 / 9 and capped["precision_complete"]
    # a search that stopped short (too many frequent items: nothing counted): precision is only a bound
    stopped = recovery(L.Ledger(seed=1, patterns=planted), {"b": {"accidental_search_complete": False,
                                                                  "accidental_found": 0}})
    assert stopped["precision"] == 1.0 and stopped["precision_complete"] is False


def test_recall_uses_each_blocks_own_smallest_target():
    """Block a's miner runs at 0.01, block b's at 0.2: b's pattern realized at 0.15 is below
    its own block's threshold, though above a's, so it is not found."""
    from medmgen.evaluators.spec_error import recovery

    planted = [Rate(id="a0", block="a", target_support=0.01, realized_support=0.0101),
               Rate(id="b0", block="b", target_support=0.2, realized_support=0.15),
               Rate(id="b1", block="b", target_support=0.3, realized_support=0.3)]
    out = recovery(L.Ledger(seed=1, patterns=planted))
    assert out == {"min_target_support": 0.01, "recall": 2 / 3, "precision": 1.0, "precision_complete": True,
                   "min_realized_support": 0.0101}
