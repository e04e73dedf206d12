"""Progress reporting: a rich bar when stderr is a terminal, silence otherwise."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Task(Protocol):
    def advance(self, n: float = 1) -> None: ...


class Progress(Protocol):
    def task(self, description: str, total: float | None = None) -> Task: ...


class _NullTask:
    def advance(self, n: float = 1) -> None:
        pass


class NullProgress:
    """Reports nothing; used when stderr is not a terminal or with ``--quiet``."""

    def task(self, description: str, total: float | None = None) -> Task:
        return _NullTask()


class _RichTask:
    def __init__(self, bar: object, task_id: int) -> None:
        self._bar = bar
        self._id = task_id

    def advance(self, n: float = 1) -> None:
        self._bar.advance(self._id, n)  # type: ignore[attr-defined]


class RichProgress:
    def __init__(self, bar: object) -> None:
        self._bar = bar

    def task(self, description: str, total: float | None = None) -> Task:
        return _RichTask(self._bar, self._bar.add_task(description, total=total))  # type: ignore[attr-defined]


@contextmanager
def progress_for(quiet: bool = False) -> Iterator[Progress]:
    """A progress reporter for the CLI: rich bars on a terminal, nothing otherwise."""
    if quiet or not sys.stderr.isatty():
        yield NullProgress()
        return
    from rich.console import Console
    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichBar

    bar = RichBar(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with bar:
        yield RichProgress(bar)
