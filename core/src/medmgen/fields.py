"""Field helpers: every spec setting carries its doc, bounds and choices as metadata.

The metadata drives three things from one place: range checks with key paths
(:func:`check_instance`), the JSON Schema (:mod:`medmgen.schema`) and the spec
reference in the docs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from medmgen.errors import Problem

_KEY = "medmgen"


def setting(
    default: Any = attrs.NOTHING,
    *,
    doc: str,
    factory: Any = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: Sequence[str] | None = None,
) -> Any:
    """A documented spec field; bounds apply to a number or to each number of a list."""
    meta = {_KEY: {"doc": doc, "ge": ge, "gt": gt, "le": le, "lt": lt, "choices": choices}}
    if factory is not None:
        return attrs.field(factory=factory, metadata=meta)
    return attrs.field(default=default, metadata=meta)


LEAVE_OUT = "learned from source; leave it out"  # a law a ``source`` file replaces, given anyway


def unless_source(make: Callable[[], object]) -> Any:
    """A block field's default made by ``make``, or none when the block has a ``source`` (whose
    file replaces it): a given key is told from a default one, and ``spec.toml`` shows no law
    that was not used."""
    return attrs.Factory(lambda block: None if block.source is not None else make(), takes_self=True)


def source_law_problems(block: Any, keys: Sequence[str]) -> list[Problem]:
    """The ``keys`` a ``source`` replaces: with ``source``, one problem for each given anyway (its
    whole value, once); without, one for each set to none (only a Python dict can: TOML has no null)."""
    from medmgen.converter import converter  # (it imports this module)

    if block.source is not None:
        return [Problem(key, LEAVE_OUT, "no value",
                        {k: v for k, v in converter.unstructure(getattr(block, key)).items() if v not in (None, [])})
                for key in keys if getattr(block, key) is not None]
    return [Problem(key, "needed without source", "a table", None) for key in keys if getattr(block, key) is None]


def meta(field: attrs.Attribute) -> dict[str, Any]:
    """The medmgen metadata of an attrs field (empty if it has none)."""
    return dict(field.metadata.get(_KEY, {}))


def bounds_text(m: Mapping[str, Any]) -> str | None:
    parts = []
    if m.get("gt") is not None:
        parts.append(f"> {m['gt']}")
    if m.get("ge") is not None:
        parts.append(f">= {m['ge']}")
    if m.get("lt") is not None:
        parts.append(f"< {m['lt']}")
    if m.get("le") is not None:
        parts.append(f"<= {m['le']}")
    return " and ".join(parts) if parts else None


def _in_bounds(x: float, m: Mapping[str, Any]) -> bool:
    if m.get("gt") is not None and not x > m["gt"]:
        return False
    if m.get("ge") is not None and not x >= m["ge"]:
        return False
    if m.get("lt") is not None and not x < m["lt"]:
        return False
    return not (m.get("le") is not None and not x <= m["le"])


def join(base: str, name: str | int) -> str:
    """Join key-path parts: ``join("a", "b") == "a.b"``, ``join("a", 2) == "a[2]"``."""
    if isinstance(name, int):
        return f"{base}[{name}]"
    return f"{base}.{name}" if base else name


def check_instance(obj: Any, path: str = "") -> Iterator[Problem]:
    """Every range/choice problem in an attrs instance tree, then each class's ``check()``.

    A field ``check()`` says to leave out (:data:`LEAVE_OUT`: ``itemsets`` beside a
    ``source``) is not checked inside (``itemsets.mean`` out of range): one mistake, one
    problem. Other ``check()`` problems leave the range problems as they are.
    """
    if not attrs.has(type(obj)):
        return
    check = getattr(obj, "check", None)
    found = list(check()) if callable(check) else []
    own = [Problem(join(path, p.path) if p.path else path, p.message, p.expected, p.got) for p in found]
    whole = tuple(join(path, p.path) + sep for p in found if p.path and p.message == LEAVE_OUT for sep in (".", "["))
    for f in attrs.fields(type(obj)):
        for p in _check_value(getattr(obj, f.name), meta(f), join(path, f.name)):
            if not p.path.startswith(whole):
                yield p
    yield from own


def _check_value(value: Any, m: Mapping[str, Any], path: str) -> Iterator[Problem]:
    if value is None:
        return
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        if not _in_bounds(value, m):
            yield Problem(path, "out of range", bounds_text(m), value)
        return
    if isinstance(value, str):
        choices = m.get("choices")
        if choices and value not in choices:
            yield Problem(path, "unknown value", "one of " + ", ".join(map(repr, choices)), value)
        return
    if attrs.has(type(value)):
        yield from check_instance(value, path)
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _check_value(v, m, join(path, str(k)))
        return
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _check_value(v, m, join(path, i))
