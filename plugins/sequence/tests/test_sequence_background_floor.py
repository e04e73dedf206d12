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


def test_a_drift_segment_held_above_its_target_by_the_background_is_named(tmp_path):
    """After the change the target (0.05) is under what item 7 alone gives (30 items): the
    loop pins that segment's aim at 0 and the note names the segment and its records."""
    spec = {"dataset": {"name": "drift-floor", "seed": 3}, "blocks": {"clicks": {
        "modality": "sequence", "records": 10_000, "items": 30,
        "sequential_patterns": [{"sequence": [[7]], "support": 0.9, "drift": {"at": 5000, "support": 0.05}}]}}}
    out = tmp_path / "pkg"
    result = medmgen.generate(spec, out=out)
    assert not result.report["passed"]
    drift = next(p for p in json.loads((out / "ledger.json").read_text())["patterns"] if p["kind"] == "drift")
    after = ref.support_count(sequences(out)[5000:], [[7]]) / 5000
    assert drift["realized_after"] == after > 0.3
    assert abs(drift["realized_before"] - 0.9) < 0.01  # the other segment is still steered
    notes = result.report["metrics"]["blocks"]["clicks"]["notes"]
    assert notes == [f"clicks/drift/0#after: background support {after:.4g} exceeds the target 0.05 with nothing "
                     "planted in records 5,000..9,999; raise `items`, flatten `popularity` or raise the support"]
    assert "clicks/drift/0#after: background support" in (out / "report.html").read_text()


def test_the_loop_stops_when_the_worst_aim_is_pinned_and_nothing_comes_closer():
    from medmgen.pipeline import _worst_pinned

    failing = [{"held": False, "metric": "spec_error.max_support_deviation"}]
    metrics = {"spec_error": {"max_support_deviation_at": "s/drift/0#after"}}
    pinned, moved = {"s/drift/0#after": 0.0, "p": 0.31}, {"s/drift/0#after": 0.01, "p": 0.31}
    assert _worst_pinned(failing, metrics, pinned, {"s/drift/0#after": 0.0, "p": 0.3})
    assert not _worst_pinned(failing, metrics, moved, {"s/drift/0#after": 0.0, "p": 0.3})
    assert not _worst_pinned([{"held": True, "metric": "spec_error.max_support_deviation"}], metrics, pinned, pinned)
    assert not _worst_pinned(failing, {"spec_error": {}}, pinned, pinned)  # no worst key known: keep going
