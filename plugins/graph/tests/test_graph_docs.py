"""The docs stay true to the code: every graph spec key and ledger field is documented."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from medmgen_graph.kinds import KINDS
from medmgen_graph.spec import AttributeSpec, GraphBlock, MotifSpec

ROOT = Path(__file__).parents[3]


def _section(path: Path, title: str) -> str:
    text = path.read_text()
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start:] if end < 0 else text[start:end]


def test_every_block_key_is_in_the_spec_reference():
    text = _section(ROOT / "docs" / "spec.md", "## Graph blocks")
    for f in attrs.fields(GraphBlock):
        if f.name in ("modality", "generator"):
            continue
        assert any(f"| `{form}` |" in text for form in (f.name, f"[{f.name}]", f"[[{f.name}]]")), f.name
    for cls in (MotifSpec, AttributeSpec):
        for f in attrs.fields(cls):
            assert f"`{f.name}`" in text, f"{cls.__name__}.{f.name}"


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind)
def test_every_ledger_field_is_documented(kind):
    text = _section(ROOT / "docs" / "ledger.md", "## Graph kinds")
    assert f"### `{kind.kind}`" in text
    base = {f.name for f in attrs.fields(kind.__mro__[1])}
    for f in attrs.fields(kind):
        if f.name not in base:
            assert f"`{f.name}`" in text, f"{kind.kind}.{f.name}"


def test_readme_and_example_exist():
    assert (ROOT / "plugins" / "graph" / "README.md").is_file()
    assert "modality = \"graph\"" in (ROOT / "examples" / "graph.toml").read_text()
