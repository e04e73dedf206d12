"""``--set KEY=VALUE``: override one spec key by its dotted path before validation.

The value is read as a TOML value (``7``, ``0.5``, ``true``, ``[1, 2]``, ``"text"``);
anything that is not valid TOML is taken as a plain string. Types are then checked
by the spec's converter like any other key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from typing import Any

from medmgen.errors import Problem

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(path: str) -> list[str | int] | None:
    """``"blocks.b.itemsets[2].support"`` -> ``["blocks", "b", "itemsets", 2, "support"]``."""
    parts: list[str | int] = []
    pos = 0
    while pos < len(path):
        if path[pos] == "." and parts:
            pos += 1
        m = _PART.match(path, pos)
        if not m:
            return None
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    return parts or None


def parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str]) -> list[Problem]:
    """Apply each ``KEY=VALUE`` to ``raw`` in place; return the problems found."""
    problems = []
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        parts = parse_path(key) if sep else None
        if not parts or not isinstance(parts[0], str):
            problems.append(Problem(f"--set {item}", "not KEY=VALUE with a dotted key path",
                                    "e.g. dataset.seed=7", item))
            continue
        node: Any = raw
        for i, part in enumerate(parts[:-1]):
            nxt = parts[i + 1]
            if isinstance(part, int):
                if not isinstance(node, list) or part >= len(node):
                    node = None
                    break
                node = node[part]
            else:
                if not isinstance(node, dict):
                    node = None
                    break
                node = node.setdefault(part, [] if isinstance(nxt, int) else {})
        last = parts[-1]
        in_list = isinstance(last, int) and isinstance(node, list) and last < len(node)
        if in_list or (isinstance(last, str) and isinstance(node, dict)):
            node[last] = parse_value(text)
        else:
            problems.append(Problem(key, "--set path does not lead to a key of a table or list",
                                    "a path into the spec", key))
    return problems
