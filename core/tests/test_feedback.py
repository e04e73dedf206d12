"""The feedback controller's arithmetic, on generators with known response curves."""

from __future__ import annotations

from attrs import evolve
from toy_plugin import Rate

from medmgen.feedback import Controller


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
