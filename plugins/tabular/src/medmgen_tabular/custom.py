"""Third-party constraints: ``kind = "custom"``, ``name = "..."``, ``params = {...}``.

A third party subclasses :class:`CustomConstraint` and registers the class under the
entry-point group ``medmgen_tabular.constraints``::

    [project.entry-points."medmgen_tabular.constraints"]
    even_codes = "my_package.constraints:EvenCodes"

The ``tabular_constraints`` repairer then treats it like a built-in kind: it counts its
violations, repairs them with the class's own ``repair`` (``action = "recompute"``) or
rejects the rows and regenerates them (``action = "reject"``, the default).
"""

from __future__ import annotations

import abc
import importlib.metadata as md
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from medmgen.errors import Problem

GROUP = "medmgen_tabular.constraints"


class CustomConstraint(abc.ABC):
    """Base of a third-party constraint; ``params`` are the spec entry's ``params`` table."""

    name: ClassVar[str]

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params)

    def check(self) -> Sequence[Problem]:
        """Problems with ``params`` (paths relative to ``params``)."""
        return ()

    def columns(self) -> Sequence[str]:
        """The columns it reads, so a name the table lacks is reported before generating."""
        return ()

    @abc.abstractmethod
    def violations(self, table: pa.Table) -> np.ndarray:
        """Boolean mask of the rows that break the constraint."""

    def repair(self, table: pa.Table, bad: np.ndarray, rng: np.random.Generator) -> pa.Table:
        """The table with the ``bad`` rows fixed in place (``action = "recompute"``); optional."""
        raise NotImplementedError(f"custom constraint {self.name!r} has no repair")


def registered() -> dict[str, type[CustomConstraint]]:
    """Every class registered under :data:`GROUP`, by its ``name``; a broken entry point is warned about."""
    out: dict[str, type[CustomConstraint]] = {}
    for ep in sorted(md.entry_points(group=GROUP), key=lambda e: e.name):
        try:
            cls = ep.load()
        except Exception as exc:  # a third party's import error must not break other blocks
            warnings.warn(f"custom constraint entry point {ep.name!r} failed to load: {exc}", stacklevel=2)
            continue
        if isinstance(cls, type) and issubclass(cls, CustomConstraint):
            out[cls.name] = cls
        else:
            warnings.warn(f"custom constraint entry point {ep.name!r} is not a CustomConstraint subclass",
                          stacklevel=2)
    return out


def instance(c: Any) -> CustomConstraint:
    """The registered class of constraint entry ``c``, built with its params."""
    return registered()[c.name](c.params)


def has_repair(obj: CustomConstraint) -> bool:
    return type(obj).repair is not CustomConstraint.repair


def problems(c: Any) -> list[Problem]:
    """Spec problems of a ``kind = "custom"`` entry: unknown name, the class's own param checks, no repair."""
    known = registered()
    if c.name not in known:
        return [Problem("name", "no custom constraint registered under this name",
                        "one of " + (", ".join(sorted(known)) or f"(none: register one in {GROUP})"), c.name)]
    try:
        obj = known[c.name](c.params)
        found = list(obj.check())
        if not found:
            list(obj.columns())
    except Exception as exc:  # a class that cannot even read its params: say so at the params
        return [Problem("params", f"custom constraint {c.name!r} cannot use these params: {exc!r}",
                        "the params its documentation names", c.params)]
    out = [Problem(f"params.{p.path}" if p.path else "params", p.message, p.expected, p.got) for p in found]
    if c.action == "recompute" and not has_repair(obj):
        out.append(Problem("action", f"custom constraint {c.name!r} has no repair", "reject", c.action))
    return out


def mask(obj: CustomConstraint, table: pa.Table) -> np.ndarray:
    """``obj.violations(table)`` checked to be one boolean per row."""
    bad = np.asarray(obj.violations(table))
    if bad.shape != (table.num_rows,) or bad.dtype != np.bool_:
        raise TypeError(f"custom constraint {obj.name!r} returned {bad.dtype} of shape {bad.shape}, "
                        f"not one bool per row ({table.num_rows})")
    return bad
