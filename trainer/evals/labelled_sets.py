"""Where the labelled turns live and how each file is read, split as training splits them.

Why a module of its own: the training scripts, `calibrate` and the session rankings all read the same files
the same way, so a split or a label mapping can differ nowhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trainer.grader.features import split_of

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SALES_PATH = REPO_ROOT / "training" / "sales_turns.jsonl"
# Sales turns by an outside author aimed at speech act and addressee (customer questions that name us,
# logistics that name our people, reflections without a question, pitches phrased as questions): trained
# on (train split) and reported as their own corpus, so the original sales rows stay comparable.
SPEECH_ACT_PATH = REPO_ROOT / "training" / "speech_act_turns.jsonl"
SPEECH_ACT_CORPUS = "sales, speech acts"
# Sales turns by a further outside author (700, a wide mix of voices, pitches phrased as questions,
# hand-offs, reflections), trained on for focus only: its open/closed labels follow the question mark
# rather than INTERFACES.md's "one fact is closed", and training on them cost open/closed on D.
FOCUS_ONLY_PATH = REPO_ROOT / "training" / "sales_turns_7.jsonl"
FOCUS_ONLY_CORPUS = "sales, focus only"
# Sales turns by yet another outside author (700, other voices again, the one-fact convention spelled out in
# the brief), trained on for focus and question.
MORE_VOICES_PATH = REPO_ROOT / "training" / "sales_turns_9.jsonl"
MORE_VOICES_CORPUS = "sales, more voices"
# The depth authors' labelled turns (`training/train_depth.py`), also trained on for open/closed only.
QUESTION_ONLY_CORPUS = "sales, question only"
# Sales turns written by people who never saw the training turns, for measuring only (never trained on).
BLIND_DIR = REPO_ROOT / "evals" / "labelled"
SPLITS: tuple[str, ...] = ("train", "held-out")


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                yield json.loads(line)


def _annomi_focus(label_act: str | None) -> str:
    return {"question": "customer", "reflection": "customer", "telling": "pitch"}.get(
        label_act or "", "neutral"
    )


# The panel's vote names for the main behaviour ("therapist_input" is the label_act "telling").
_ANNOMI_VOTE_FOCUS = {"question": "customer", "reflection": "customer", "therapist_input": "pitch"}


def _annomi_focus_votes(votes: dict[str, Any]) -> dict[str, int] | None:
    """The ten-annotator panel's main-behaviour votes, counted per focus class (None without a panel)."""
    if not votes:
        return None
    out = {cls: 0 for cls in ("customer", "pitch", "neutral")}
    for name, count in votes.items():
        out[_ANNOMI_VOTE_FOCUS.get(name, "neutral")] += int(count)
    return out


def load_annomi(data_dir: Path) -> list[dict[str, Any]]:
    """AnnoMI therapist utterances as rows {text, context, focus, question, split, group}.

    `question` is "open"/"closed"/None; the split is by conversation so no conversation straddles it.
    """
    path = Path(data_dir) / "annomi" / "dev.jsonl"
    if not path.exists():
        return []
    rows = []
    for rec in _read_jsonl(path):
        src = rec.get("source_label") or {}
        question = rec.get("label_open_closed")
        # Ties on open/closed leave the label null although a question exists: unknown, not "none".
        if question is None and str(src.get("question_exists")) == "True":
            question = "unknown"
        votes = src.get("votes_question_subtype") or {}
        rows.append(
            {
                "text": rec.get("text") or "",
                "context": rec.get("prev_text"),
                "focus": _annomi_focus(rec.get("label_act")),
                "question": question,
                "group": rec["conversation_id"],
                "split": split_of(rec["conversation_id"]),
                "corpus": "annomi",
                # The ten-annotator panel's open/closed votes, kept to compare the model with people.
                "votes": {k: int(votes.get(k, 0)) for k in ("open", "closed")} if votes else None,
                "focus_votes": _annomi_focus_votes(src.get("votes_main_therapist_behaviour") or {}),
            }
        )
    return rows


def load_persuasion(data_dir: Path) -> list[dict[str, Any]]:
    """PersuasionForGood persuader sentences; no open/closed labels (question is "unknown")."""
    path = Path(data_dir) / "persuasionforgood" / "dev.jsonl"
    if not path.exists():
        return []
    return [
        {
            "text": rec.get("text") or "",
            "context": rec.get("prev_text"),
            "focus": rec["label_focus"],
            "question": "unknown",
            "group": rec["conversation_id"],
            "split": split_of(rec["conversation_id"]),
            "corpus": "persuasionforgood",
        }
        for rec in _read_jsonl(path)
    ]


def _sales_turn(rec: dict[str, Any], split: str, corpus: str) -> dict[str, Any]:
    return {
        "text": rec["text"],
        "context": rec.get("context"),
        "focus": rec["focus"],
        "question": rec.get("question"),
        "group": rec["text"],
        "split": split,
        "corpus": corpus,
        # A pitch or neutral turn has no depth: "none" in some sets, null (as classify prints it) in others.
        **({"depth": rec["depth"] or "none"} if "depth" in rec else {}),
    }


def load_sales(path: Path | None = None, corpus: str = "sales") -> list[dict[str, Any]]:
    """The project's own labelled sales turns; split by a hash of the turn text."""
    path = Path(path) if path is not None else DEFAULT_SALES_PATH
    if not path.exists():
        return []
    return [_sales_turn(rec, split_of("sales:" + rec["text"]), corpus) for rec in _read_jsonl(path)]


def load_speech_acts(path: Path | None = None) -> list[dict[str, Any]]:
    """The speech-act training turns (`training/speech_act_turns.jsonl`), split like the sales turns."""
    return load_sales(path if path is not None else SPEECH_ACT_PATH, SPEECH_ACT_CORPUS)


def load_focus_only(path: Path | None = None) -> list[dict[str, Any]]:
    """The focus-only sales turns (`training/sales_turns_7.jsonl`), split like the sales turns."""
    rows = load_sales(path if path is not None else FOCUS_ONLY_PATH, FOCUS_ONLY_CORPUS)
    for row in rows:
        row["question"] = "unknown"  # never trained on or scored for open/closed
    return rows


def load_question_only(path: Path) -> list[dict[str, Any]]:
    """A depth author's turns, split like the sales turns, for open/closed only: their focus mix (eight in
    ten customer) is no sample of real meetings, and for focus too sets 11 and 13 cost PersuasionForGood
    (held-out 0.751 -> 0.733)."""
    rows = load_sales(path, QUESTION_ONLY_CORPUS)
    for row in rows:
        row["focus"] = "unknown"  # never trained on or scored for focus
    return rows


def depth_training_files() -> list[Path]:
    """Every depth author's file: `training/depth_turns_*.jsonl`, then `training/depth_candidates/`."""
    training = REPO_ROOT / "training"
    return sorted(training.glob("depth_turns_*.jsonl")) + sorted(
        (training / "depth_candidates").glob("depth_turns_*.jsonl")
    )


def load_more_voices(path: Path | None = None) -> list[dict[str, Any]]:
    """The more-voices sales turns (`training/sales_turns_9.jsonl`), split like the sales turns."""
    return load_sales(path if path is not None else MORE_VOICES_PATH, MORE_VOICES_CORPUS)


def load_blind(path: Path) -> list[dict[str, Any]]:
    """A blind set of labelled sales turns (`evals/labelled/*.jsonl`): all of it is split "blind"."""
    kind = "depth blind" if path.stem.startswith("depth_") else "blind"
    corpus = f"sales, {kind} {path.stem.rsplit('_', 1)[-1].upper()}"
    return [_sales_turn(rec, "blind", corpus) for rec in _read_jsonl(path)]


def annomi_conversations(data_dir: Path) -> list[tuple[str, str, list[dict[str, str]]]]:
    """AnnoMI conversations rebuilt as (conversation_id, quality, turns) for session-level grading.

    Hook for the session AUC (high vs low quality MI, graded via `trainer.grader.scorecard`). Only therapist
    utterances are stored, so each client line is recovered from the next therapist row's
    `prev_text` (client → "persona", therapist → "trainee"); consecutive client lines that were not
    followed by a therapist utterance are lost, which is fine for a quality signal.
    """
    path = Path(data_dir) / "annomi" / "dev.jsonl"
    if not path.exists():
        return []
    by_conv: dict[str, list[dict[str, Any]]] = {}
    for rec in _read_jsonl(path):
        by_conv.setdefault(rec["conversation_id"], []).append(rec)
    out: list[tuple[str, str, list[dict[str, str]]]] = []
    for conv_id, recs in by_conv.items():
        recs.sort(key=lambda r: r.get("utterance_index", 0))
        turns: list[dict[str, str]] = []
        for rec in recs:
            prev = rec.get("prev_text")
            if prev and rec.get("prev_speaker", "client") != "therapist":
                turns.append({"speaker": "persona", "text": prev})
            turns.append({"speaker": "trainee", "text": rec.get("text") or ""})
        out.append((conv_id, recs[0].get("conversation_quality") or "unknown", turns))
    out.sort(key=lambda item: item[0])
    return out
