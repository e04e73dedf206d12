"""report.html of a sequence block: accidental rows show their pattern and support, the miner's scope is said."""

from __future__ import annotations

import html
import json
import re

import medmgen


def test_accidental_rows_show_pattern_and_support_and_the_scope(tmp_path):
    spec = {"dataset": {"name": "acc", "seed": 4}, "blocks": {"web": {
        "modality": "sequence", "records": 2000, "items": 30, "popularity": {"distribution": "zipf"},
        "sequential_patterns": [{"sequence": [[20], [21], [22]], "support": 0.05}]}}}
    medmgen.generate(spec, out=tmp_path / "pkg")
    ledger = json.loads((tmp_path / "pkg" / "ledger.json").read_text())
    assert ledger["accidental"], "a Zipf background over 30 items has frequent unplanned 2-sequences"
    first = ledger["accidental"][0]
    page = html.unescape((tmp_path / "pkg" / "report.html").read_text())
    row = re.search(rf"<tr><td>{first['id']}</td><td>sequential_pattern</td><td></td><td>([^<]*)</td>"
                    r"<td>([^<]*)</td></tr>", page)
    assert row is not None
    assert row.group(1) == f"{first['realized_support']:.6g}"
    assert row.group(2) == f"sequence={first['sequence']}, min_gap=1"
    scope = json.loads((tmp_path / "pkg" / "report.json").read_text())["metrics"]["blocks"]["web"]["accidental_scope"]
    assert scope.startswith("2-sequences <{a}, {b}>")
    assert f"Accidental patterns of block <code>web</code>: {scope}." in page
