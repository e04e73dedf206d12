"""Errors the CLI turns into one clear message and exit code 2."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from attrs import frozen


@frozen
class Problem:
    """One problem with user input: where it is, what is wrong, what was expected."""

    path: str
    message: str
    expected: str | None = None
    got: object = None

    def render(self, source: str) -> str:
        where = f"{source}:{self.path}" if self.path else source
        detail = ""
        if self.expected is not None:
            detail = f" (expected {self.expected}, got {_show(self.got)})"
        return f"{where}: {self.message}{detail}"


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class MedmgenError(Exception):
    """Base class of every error medmgen reports to a user."""


class InputError(MedmgenError):
    """Bad user input (spec, override, data file, parameters): every problem at once."""

    def __init__(self, source: str, problems: Iterable[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(p.render(source) for p in self.problems))

    @classmethod
    def one(cls, source: str, path: str, message: str, expected: str | None = None, got: object = None
            ) -> InputError:
        return cls(source, [Problem(path, message, expected, got)])

    @classmethod
    def combine(cls, errors: Sequence[InputError]) -> InputError:
        """Several errors (from different files) as one; each line still names its own file."""
        if len(errors) == 1:
            return errors[0]
        out = cls(errors[0].source, [p for e in errors for p in e.problems])
        out.args = ("\n".join(str(e) for e in errors),)
        return out


class PluginError(MedmgenError):
    """A plugin is missing, failed to load, or raised while doing its work."""


class BudgetError(InputError):
    """A privacy budget would be exceeded; raised before any data is touched."""
