"""Session-level measurement: AUC of `overall` between good and poor conversations; the calibrate command."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import cli
from trainer.evals.rankings import annomi_session_auc, auc

GOOD = [
    "What brings you in today, and what would you like to get out of our time?",
    "So the weight has been creeping up since the new job. How has that been for you?",
    "It sounds like you want to feel more in control. What would that look like day to day?",
]
POOR = [
    "You need to stop eating late at night, it's really bad for you.",
    "I recommend you join a gym and follow our programme of three sessions a week.",
    "You should cut out sugar completely, that's the only thing that works.",
]


def _write_annomi(folder: Path) -> None:
    rows = []
    for conv, quality, lines in [("c1", "high", GOOD), ("c2", "high", GOOD[::-1]), ("c3", "low", POOR)]:
        for i, text in enumerate(lines):
            rows.append(
                {
                    "id": f"{conv}-{i}", "text": text, "prev_text": "I don't know, it's been a hard year.",
                    "prev_speaker": "client", "label_act": "question", "label_open_closed": None,
                    "conversation_id": conv, "conversation_quality": quality, "utterance_index": 2 * i + 1,
                }
            )  # fmt: skip
    (folder / "annomi").mkdir(parents=True)
    (folder / "annomi" / "dev.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def test_auc_counts_ties_as_half():
    assert auc([3, 2], [1]) == 1.0
    assert auc([1], [1]) == 0.5
    assert auc([], [1]) is None


def test_overall_separates_good_from_poor_conversations(tmp_path):
    _write_annomi(tmp_path)
    report = annomi_session_auc(tmp_path)
    assert report["all"]["n_high"] == 2 and report["all"]["n_low"] == 1
    assert report["all"]["auc"] == 1.0
    assert report["all"]["mean_high"] > report["all"]["mean_low"] + 30


def test_calibrate_prints_both_tables(tmp_path):
    _write_annomi(tmp_path)
    result = cli("calibrate", "--data", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "| annomi |" in result.stdout and "AUC" in result.stdout
    assert "| vp_budget_review |" in result.stdout
    missing = cli("calibrate", "--data", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no such folder" in missing.stderr
