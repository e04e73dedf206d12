"""Records about a pattern (drifts): their segments are judged and steered, but they are not
counted as planted patterns."""

from __future__ import annotations

import pytest
from attrs import evolve
from toy_plugin import Rate

from medmgen import ledger as L
from medmgen.evaluators.spec_error import SpecError, recovery
from medmgen.feedback import Controller
from medmgen.interfaces import Evaluation


def drift(before: float | None = None, after: float | None = None, status: str = "kept") -> L.Drift:
    return L.Drift(id="b/drift/0", block="b", pattern="p", at=100, target_before=0.3, target_after=0.08,
                   realized_before=before, realized_after=after, status=status)


def test_a_drift_plants_its_two_segments_under_their_own_keys():
    d = drift(0.292, 0.0828)
    assert d.quantities() == [("support", "b/drift/0#before", 0.3, 0.292),
                              ("support", "b/drift/0#after", 0.08, 0.0828)]
    assert d.about() == "p" and Rate(id="p", block="b", target_support=0.1).about() is None


def test_deviations_keep_the_largest_of_a_quantity():
    """Both segments are ``support``: the worse one counts, whichever comes last."""
    assert drift(0.292, 0.0828).deviations() == {"support": pytest.approx(0.008)}
    assert drift(0.2995, 0.0828).deviations() == {"support": pytest.approx(0.0028)}
    assert drift(0.292, None).deviations() == {"support": pytest.approx(0.008)}
    assert drift().deviations() == {}


def test_the_controller_steers_segments_first_reported_by_a_pass():
    """The plan holds only the pattern; its drift record appears with the first pass."""
    p = Rate(id="p", block="b", target_support=0.135, realized_support=0.135)
    ctl = Controller.start([evolve(p, realized_support=None)], gain=1.0)
    assert ctl.effective == {"p": 0.135}
    ctl.adjust([p, drift(0.292, 0.0828)])
    assert ctl.effective == {"p": 0.135, "b/drift/0#before": pytest.approx(0.308),
                             "b/drift/0#after": pytest.approx(0.0772)}
    ctl.adjust([p, drift(0.301, 0.0798)])  # both overshot: their gains halve
    assert ctl.effective["b/drift/0#before"] == pytest.approx(0.308 - 0.0005)
    assert ctl.effective["b/drift/0#after"] == pytest.approx(0.0772 + 0.0001)


def test_statuses_judge_segments_and_carry_over_to_the_pattern():
    tol = {"support": 0.001}
    weak = evolve(drift(0.2995, 0.075), status=L.status_for(drift(0.2995, 0.075), tol))
    assert weak.status == "weakened"
    gone = evolve(drift(0.0, 0.08), status=L.status_for(drift(0.0, 0.08), tol))
    assert gone.status == "destroyed"
    assert L.status_for(drift(0.3005, 0.0815), tol) == "kept"  # above target is not weaker
    p, q = Rate(id="p", block="b", target_support=0.1), Rate(id="q", block="b", target_support=0.1)
    assert [x.status for x in L.carry_statuses([p, q, weak])] == ["weakened", "kept", "weakened"]
    assert [x.status for x in L.carry_statuses([evolve(p, status="destroyed"), weak])] == ["destroyed", "weakened"]
    assert [x.status for x in L.carry_statuses([p, gone, weak])] == ["destroyed", "destroyed", "weakened"]


def test_spec_error_judges_drift_segments_but_counts_only_planted_patterns():
    patterns = [Rate(id="p", block="b", target_support=0.135, realized_support=0.1352),
                Rate(id="q", block="b", target_support=0.13, realized_support=0.1301),
                drift(0.2995, 0.0828)]
    ledger = L.Ledger(seed=1, patterns=patterns)
    out = SpecError().evaluate(Evaluation(spec=None, ledger=ledger, tables={}))
    assert (out["patterns"], out["kept"], out["weakened"], out["destroyed"]) == (2, 2, 0, 0)
    assert out["max_support_deviation"] == pytest.approx(0.0028)
    assert out["max_support_deviation_at"] == "b/drift/0#after"
    assert out["mean_support_deviation"] == pytest.approx((0.0002 + 0.0001 + 0.0005 + 0.0028) / 4)
    # recall and precision are over the planted patterns (the segments' 0.08 is no miner threshold)
    assert recovery(ledger) == {"min_target_support": 0.13, "recall": 1.0, "precision": 1.0,
                                "precision_complete": True, "min_realized_support": 0.1301}
    assert ledger.planted() == patterns[:2]


def test_a_drift_record_reads_back_unchanged():
    d = drift(0.2995, 0.0828, status="weakened")
    ledger = L.Ledger(seed=1, patterns=[Rate(id="p", block="b", target_support=0.1), d])
    back = L.from_json_dict(L.to_json_dict(ledger), {"rate": Rate, "drift": L.Drift})
    assert back == ledger and back.planted() == ledger.patterns[:1]


def test_a_tie_on_the_thresholds_is_broken_by_the_other_quantities():
    """A segment stuck 0.02 off on every pass: the written pass is the one closest elsewhere."""
    from medmgen.pipeline import _spread

    tol = {"support": 0.001}
    early = _spread([Rate(id="p", block="b", target_support=0.3, realized_support=0.3013), drift(0.30135, 0.1)], tol)
    late = _spread([Rate(id="p", block="b", target_support=0.3, realized_support=0.29995), drift(0.3, 0.1)], tol)
    assert early[0] == late[0] == pytest.approx(20.0)
    assert late < early
