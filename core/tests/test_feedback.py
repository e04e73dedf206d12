"""The feedback controller's arithmetic, on generators with known response curves."""

from __future__ import annotations

import pytest
from attrs import evolve, frozen
from toy_plugin import Rate

from medmgen.feedback import Controller
from medmgen.interfaces import Threshold
from medmgen.ledger import Pattern, status_for


def run(response, target=0.2, passes=12):
    p = Rate(id="r", block="b", target_support=target)
    ctl = Controller.start([p], gain=1.0)
    errors = []
    for _ in range(passes):
        realized = response(ctl.effective["r"])
        errors.append(abs(realized - target))
        ctl.adjust([evolve(p, realized_support=realized)])
    return errors


def test_a_constant_bias_is_removed_in_one_step():
    errors = run(lambda aim: aim + 0.01)
    assert abs(errors[0] - 0.01) < 1e-12
    assert max(errors[1:]) < 1e-12


def test_an_overshooting_response_is_damped_instead_of_bouncing():
    # slope 2: with a fixed gain of 1 the error would flip between +0.02 and -0.02 forever
    errors = run(lambda aim: 2 * aim - 0.18)
    assert errors[0] == errors[1] > 0.019
    assert errors[-1] < 1e-9


def test_targets_stay_within_bounds():
    p = Rate(id="r", block="b", target_support=0.99)
    ctl = Controller.start([p], gain=2.0)
    ctl.adjust([evolve(p, realized_support=0.5)])
    assert ctl.effective["r"] == 1.0


@frozen(kw_only=True)
class TwoQuantities(Pattern):
    """A rule-like record: confidence is its main quantity, support the second."""

    kind = "two"
    quantity, target_field, realized_field = "confidence", "target_confidence", "realized_confidence"
    also = (("support", "target_support", "realized_support"),)
    target_confidence: float
    target_support: float
    realized_confidence: float | None = None
    realized_support: float | None = None


def test_a_second_planted_quantity_is_steered_under_its_own_key():
    p = TwoQuantities(id="x", block="b", target_confidence=0.5, target_support=0.1)
    ctl = Controller.start([p], gain=1.0)
    assert ctl.effective == {"x": 0.5, "x#support": 0.1}
    ctl.adjust([evolve(p, realized_confidence=0.5, realized_support=0.08)])
    assert ctl.effective == {"x": 0.5, "x#support": pytest.approx(0.12)}
    assert evolve(p, realized_confidence=0.45, realized_support=0.08).deviations() == {
        "confidence": pytest.approx(0.05), "support": pytest.approx(0.02)}


@pytest.mark.parametrize(("confidence", "support", "status"), [
    (0.5, 0.1, "kept"), (0.495, 0.1, "kept"), (0.4, 0.1, "weakened"), (0.5, 0.098, "weakened"), (0.5, 0.0, "destroyed"),
])
def test_the_status_is_the_worst_over_every_planted_quantity(confidence, support, status):
    p = TwoQuantities(id="x", block="b", target_confidence=0.5, target_support=0.1, realized_confidence=confidence,
                      realized_support=support)
    assert status_for(p, {"support": 0.001, "confidence": 0.01}) == status


def test_a_deviation_equal_to_the_tolerance_up_to_rounding_holds():
    """0.05 - 0.049 is 0.0010000000000000009 in floating point: exactly the tolerance, so kept."""
    p = TwoQuantities(id="x", block="b", target_confidence=0.5, target_support=0.05, realized_confidence=0.5,
                      realized_support=0.049)
    assert status_for(p, {"support": 0.001, "confidence": 0.01}) == "kept"
    assert status_for(evolve(p, realized_support=0.0489), {"support": 0.001}) == "weakened"
    limit = Threshold(name="max_support_deviation", metric="spec_error.max_support_deviation", default=0.001)
    assert limit.holds(0.05 - 0.049, 0.001) and not limit.holds(0.0011, 0.001)
