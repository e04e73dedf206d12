"""The docs stay true to the code: every core spec key and threshold is documented."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from medmgen.evaluators.spec_error import SpecError
from medmgen.interfaces import BlockSpec
from medmgen.spec import CORE_SECTIONS

DOCS = Path(__file__).parents[2] / "docs"


@pytest.mark.parametrize("section", CORE_SECTIONS, ids=lambda s: s.name)
def test_core_section_keys_are_in_the_spec_reference(section):
    text = (DOCS / "spec.md").read_text()
    assert f"### `[{section.name}]`" in text
    for field in attrs.fields(section.schema):
        assert f"| `{field.name}` |" in text, f"[{section.name}] {field.name} undocumented"


def test_block_keys_and_thresholds_are_documented():
    text = (DOCS / "spec.md").read_text()
    for field in attrs.fields(BlockSpec):
        assert f"| `{field.name}` |" in text
    for t in SpecError.thresholds:
        assert f"| `{t.name}` | `{t.default}` |" in text
