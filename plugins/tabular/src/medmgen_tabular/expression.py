"""The tiny expression language of ``formula`` constraints: columns and numbers joined by + and -."""

from __future__ import annotations

import re

_TERM = re.compile(r"\s*([+-])?\s*([A-Za-z_][\w.>=<-]*|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)\s*")


def parse_expression(text: str) -> tuple[list[tuple[str, float]], str]:
    """``"a + b - 2"`` -> ``([("a", 1), ("b", 1), ("", -2)], "")``; an error message instead on bad text.

    Column names are identifiers; a number is a term with the empty name.
    """
    terms: list[tuple[str, float]] = []
    pos, first = 0, True
    text = text.strip()
    while pos < len(text):
        m = _TERM.match(text, pos)
        if m is None or m.end() == pos or (m.group(1) is None and not first):
            return [], f"cannot parse at character {pos + 1}"
        sign = -1.0 if m.group(1) == "-" else 1.0
        tok = m.group(2)
        if tok[0].isdigit():
            terms.append(("", sign * float(tok)))
        else:
            terms.append((tok, sign))
        pos, first = m.end(), False
    if not terms:
        return [], "empty expression"
    return terms, ""
