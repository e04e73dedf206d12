"""Repository-wide pytest setup: the real reference data the tests read must be there."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"


def pytest_sessionstart(session: pytest.Session) -> None:
    if not (SHARED_DATA / "fimi").is_dir() or not (SHARED_DATA / "adult").is_dir():
        pytest.exit(f"the tests read real reference data from {SHARED_DATA} (FIMI databases in fimi/, UCI Adult in "
                    "adult/): put the shared/ directory beside this repository", returncode=4)
