"""Privacy budget accounting in zero-concentrated DP (zCDP).

Mechanisms state their cost as ``rho``; costs compose by addition and convert to
(epsilon, delta)-DP with ``epsilon = rho + 2 sqrt(rho ln(1/delta))`` (Bun & Steinke
2016, Prop. 1.3). :func:`check_budget` refuses a spec whose steps would overspend,
before any data is generated or read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from attrs import define, field

from medmgen.errors import BudgetError, Problem


def rho_to_epsilon(rho: float, delta: float) -> float:
    """The epsilon of (epsilon, delta)-DP implied by rho-zCDP."""
    if rho <= 0:
        return 0.0
    return rho + 2.0 * math.sqrt(rho * math.log(1.0 / delta))


def epsilon_to_rho(epsilon: float, delta: float) -> float:
    """The largest rho whose conversion stays within (epsilon, delta): inverse of the above."""
    l = math.log(1.0 / delta)
    root = math.sqrt(l + epsilon) - math.sqrt(l)
    return root * root


@define
class Accountant:
    """Adds up zCDP costs against an (epsilon, delta) budget."""

    epsilon: float
    delta: float
    spent: list[tuple[str, float]] = field(factory=list)

    @property
    def budget_rho(self) -> float:
        return epsilon_to_rho(self.epsilon, self.delta)

    @property
    def rho(self) -> float:
        return sum(r for _, r in self.spent)

    def spend(self, what: str, rho: float) -> None:
        self.spent.append((what, rho))

    def epsilon_spent(self) -> float:
        return rho_to_epsilon(self.rho, self.delta)

    def fits(self) -> bool:
        return self.rho <= self.budget_rho * (1 + 1e-12)


def check_budget(spec: object, mechanisms: dict, source: str) -> Accountant | None:
    """Refuse (with :class:`BudgetError`) a spec whose privacy steps exceed its budget."""
    privacy = getattr(spec, "privacy", None)
    steps: Sequence = getattr(spec, "privacy_steps", ())
    if privacy is None:
        return None
    acc = Accountant(privacy.epsilon, privacy.delta)
    for i, step in enumerate(steps):
        acc.spend(f"privacy.steps[{i}]", mechanisms[step.mechanism]().rho(step))
    if not acc.fits():
        raise BudgetError(source, [Problem(
            "privacy", "privacy budget exceeded before any data was touched",
            f"total rho <= {acc.budget_rho:.6g} (epsilon {privacy.epsilon}, delta {privacy.delta})",
            f"rho {acc.rho:.6g} = epsilon {acc.epsilon_spent():.6g}",
        )])
    return acc
