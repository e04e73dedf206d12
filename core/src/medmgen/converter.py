"""The one cattrs converter that reads specs, plugin configs and ledger records.

Extra keys are forbidden, primitives are strict (``"3"`` is not an int, ``1.5`` is not
silently truncated) and every structuring problem comes back as a :class:`Problem`
with its key path, so a user sees all of them at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import cattrs
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)

from medmgen.errors import Problem
from medmgen.fields import join

T = TypeVar("T")

converter = cattrs.Converter(forbid_extra_keys=True, omit_if_default=False)


class StrictTypeError(TypeError):
    def __init__(self, expected: str, got: object) -> None:
        self.expected = expected
        self.got = got
        super().__init__(f"expected {expected}, got {got!r}")


def _int(value: Any, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise StrictTypeError("an integer", value)
    return value


def _float(value: Any, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StrictTypeError("a number", value)
    return float(value)


def _str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise StrictTypeError("a string", value)
    return value


def _bool(value: Any, _: type) -> bool:
    if not isinstance(value, bool):
        raise StrictTypeError("true or false", value)
    return value


converter.register_structure_hook(int, _int)
converter.register_structure_hook(float, _float)
converter.register_structure_hook(str, _str)
converter.register_structure_hook(bool, _bool)


def structure(data: Any, cls: type[T], path: str = "") -> tuple[T | None, list[Problem]]:
    """Structure ``data`` as ``cls``; return the object or every problem with its path."""
    if not isinstance(data, dict) and _is_attrs(cls):
        return None, [Problem(path, "not a table", "a table", data)]
    try:
        return converter.structure(data, cls), []
    except Exception as exc:
        return None, list(problems_from(exc, path))


def _is_attrs(cls: type) -> bool:
    import attrs

    return attrs.has(cls)


def problems_from(exc: BaseException, path: str = "") -> Iterator[Problem]:
    """Flatten a cattrs validation error tree into problems with key paths."""
    if isinstance(exc, ClassValidationError):
        with_notes, others = exc.group_exceptions()
        for sub, note in with_notes:
            yield from problems_from(sub, join(path, note.name))
        for sub in others:
            yield from problems_from(sub, path)
    elif isinstance(exc, IterableValidationError):
        with_notes, others = exc.group_exceptions()
        for sub, note in with_notes:
            yield from problems_from(sub, join(path, note.index))
        for sub in others:
            yield from problems_from(sub, path)
    elif isinstance(exc, BaseExceptionGroup):
        for sub in exc.exceptions:
            yield from problems_from(sub, _key_note(sub, path))
    elif isinstance(exc, ForbiddenExtraKeysError):
        for key in sorted(exc.extra_fields):
            yield Problem(join(path, key), "unknown key", "one of the documented keys", key)
    elif isinstance(exc, StrictTypeError):
        yield Problem(path, "wrong type", exc.expected, exc.got)
    elif isinstance(exc, KeyError):
        yield Problem(path, "missing required key")
    elif isinstance(exc, ValueError) and "values in" in str(exc):
        yield Problem(path, "wrong number of values in a list of fixed length")
    else:
        yield Problem(path, str(exc) or type(exc).__name__)


def _key_note(exc: BaseException, path: str) -> str:
    for note in getattr(exc, "__notes__", []):
        key = getattr(note, "index", None)
        if key is not None and "mapping" in str(note):
            return join(path, str(key))
    return path
