"""The one cattrs converter that reads specs, plugin configs and ledger records.

Extra keys are forbidden, primitives are strict (``"3"`` is not an int, ``1.5`` is not
silently truncated) and every structuring problem comes back as a :class:`Problem`
with its key path, so a user sees all of them at once.
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Iterator
from typing import Any, TypeVar

import cattrs
from cattrs.cols import list_structure_factory
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


def _is_list(tp: Any) -> bool:
    return typing.get_origin(tp) in (list, tuple)


def _strict_sequence(tp: Any) -> Any:
    """Lists and tuples must come as TOML arrays (cattrs would iterate a string); a flat array
    where arrays of arrays go (``sequence = [5, 8, 2]``) is one problem."""
    if typing.get_origin(tp) is list:
        inner = list_structure_factory(tp, converter)
    else:
        inner = converter.gen_structure_tuple(tp) if hasattr(converter, "gen_structure_tuple") else None
        inner = inner or (lambda v, t: converter._structure_tuple(v, t))

    nested = typing.get_origin(tp) is list and _is_list(typing.get_args(tp)[0])

    def hook(value: Any, t: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise StrictTypeError("an array", value)
        if nested and value and not any(isinstance(v, list | tuple) for v in value):  # one problem, not one each
            raise StrictTypeError(f"an array of arrays (e.g. {[[v] for v in value[:3]]})", value)
        return inner(value, t)

    return hook


converter.register_structure_hook_factory(_is_list, _strict_sequence)
converter.register_structure_hook(int, _int)
converter.register_structure_hook(float, _float)
converter.register_structure_hook(str, _str)
converter.register_structure_hook(bool, _bool)


def structure(data: Any, cls: type[T], path: str = "") -> tuple[T | None, list[Problem]]:
    """Structure ``data`` as ``cls``: the object (or None) and every problem with its path.

    When unknown keys are the only problems, the object is still built without them,
    so the caller can go on to report range problems in the same message.
    """
    if not isinstance(data, dict) and _is_attrs(cls):
        return None, [Problem(path, "not a table", "a table", data)]
    try:
        return converter.structure(data, cls), []
    except Exception as exc:
        problems = list(problems_from(exc, path))
    if all(p.message == "unknown key" for p in problems):
        cleaned = copy.deepcopy(data)
        for p in problems:
            _delete(cleaned, p.path[len(path):].lstrip("."))
        try:
            return converter.structure(cleaned, cls), problems
        except Exception:  # the first problems stand
            pass
    return None, problems


def _delete(data: Any, rel: str) -> None:
    from medmgen.overrides import parse_path

    parts = parse_path(rel) or []
    node = data
    for part in parts[:-1]:
        node = node[part]
    node.pop(parts[-1], None)


def _is_attrs(cls: type) -> bool:
    import attrs

    return attrs.has(cls)


class _Absent:
    """What a missing key holds, as an error message shows it."""

    def __repr__(self) -> str:
        return "nothing"


_ABSENT = _Absent()


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
        yield Problem(path, "missing required key", "a value (`medmgen schema` lists every key)", _ABSENT)
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
