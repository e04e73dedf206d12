"""A target below what the background alone gives: the report says why it cannot be met."""

from __future__ import annotations

import json

import sequence_reference as ref
from test_sequence_generate import sequences

import medmgen
from medmgen.report import summary_lines


def floor_spec(support: float) -> dict:
    return {"dataset": {"name": "floor", "seed": 6}, "blocks": {"clicks": {
        "modality": "sequence", "records": 5000, "items": 20,
        "sequential_patterns": [{"sequence": [[1], [2]], "support": support},
                                {"sequence": [[7], [9]], "support": 0.4}]}}}


def test_a_pattern_held_above_its_target_by_the_background_is_named(tmp_path):
    out = tmp_path / "pkg"
    result = medmgen.generate(floor_spec(0.05), out=out)
    assert not result.report["passed"]
    ledger = json.loads((out / "ledger.json").read_text())
    first, second = ledger["patterns"][:2]
    background = ref.support_count(sequences(out), [[1], [2]]) / 5000
    assert first["planted"] == 0 and first["realized_support"] == background > 0.2  # twenty items: ~27 %
    assert second["planted"] > 0
    notes = json.loads((out / "report.json").read_text())["metrics"]["blocks"]["clicks"]["notes"]
    assert notes == [f"clicks/sequential_pattern/0: background support {background:.4g} exceeds the target 0.05 "
                     "with nothing planted; raise `items`, flatten `popularity` or raise the support"]
    assert f"  clicks: {notes[0]}" in summary_lines(result, out)
    page = (out / "report.html").read_text()
    assert "clicks/sequential_pattern/0: background support" in page and "raise `items`" in page


def test_a_reachable_target_gives_no_note(tmp_path):
    result = medmgen.generate(floor_spec(0.4), out=tmp_path / "pkg")
    assert result.report["passed"]
    assert "notes" not in result.report["metrics"]["blocks"]["clicks"]
    assert "background support" not in (tmp_path / "pkg" / "report.html").read_text()


def test_the_feedback_loop_stops_once_every_aim_is_pinned(tmp_path):
    """Only the unreachable pattern: its aim hits 0 on the second pass and cannot move, so a
    third pass would repeat the second (same seeds, same aims); the loop stops there."""
    spec = floor_spec(0.05)
    del spec["blocks"]["clicks"]["sequential_patterns"][1]
    result = medmgen.generate(spec, out=tmp_path / "a")
    assert not result.report["passed"]
    assert len(result.report["iterations"]) == 2  # feedback.max_iterations defaults to 6
    first, second = (it["max_deviation"]["support"] for it in result.report["iterations"])
    assert second < first  # the second pass planted nothing: only the background is left
    assert result.report["chosen_iteration"] == 1
    assert result.ledger.patterns[0].planted == 0
