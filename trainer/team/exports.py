"""The files a session or a team's scores are downloaded as: a readable Markdown record, the team CSV.

They are use-case output (the web layer only serves them), so they live here, not beside the views;
the dimension names people read are kept here too, one wording for the screen and the files.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from trainer.grader.scorecard import DIMENSIONS
from trainer.schema import Scorecard
from trainer.team.store import SessionRow

DIMENSION_LABELS = {
    "customer_focus": "Customer focus",
    "discovery_depth": "Discovery depth",
    "question_quality": "Question quality",
    "listening": "Listening",
    "recovery": "Recovery",
    "next_step": "Next step",
}


def label(dimension: str) -> str:
    return DIMENSION_LABELS.get(dimension, dimension.replace("_", " ").capitalize())


def transcript_markdown(opened: Any, persona_name: str) -> str:
    """A readable record: header, the conversation, the scorecard and comments."""
    row: SessionRow = opened.row
    out = [f"# {row.title or row.scenario_id or 'Session'}", ""]
    out.append(f"- Rep: {row.username}\n- Session: {row.id}\n- Mode: {row.mode}\n- Started: {row.started_at}")
    out.append("")
    out.append("## Transcript")
    out.append("")
    for t in opened.transcript.get("turns", []):
        who = persona_name if t["speaker"] == "persona" else "Rep"
        out.append(f"**{who}:** {t['text']}")
        out.append("")
    card: Scorecard | None = opened.scorecard
    if card is not None:
        out.append("## Scorecard")
        out.append("")
        verdict = "passed" if card.passed else "not yet passed"
        out.append(f"Overall **{card.overall:.0f}** / 100 ({verdict}, pass mark {card.pass_mark})")
        out.append("")
        out.append("| dimension | score |\n|---|---|")
        out.extend(f"| {label(n)} | {v:.0f} |" for n, v in card.dimensions.items())
        out.append("")
        if card.tips:
            out.append("### Tips")
            out.extend(f"- {tip}" for tip in card.tips)
            out.append("")
    if opened.comments:
        out.append("## Comments")
        out.extend(f"- **{c.author}** ({c.created_at[:10]}): {c.text}" for c in opened.comments)
        out.append("")
    return "\n".join(out)


def sessions_csv(sessions: Sequence[SessionRow]) -> str:
    """One row per session, with the dimension scores."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "rep",
            "session",
            "scenario",
            "mode",
            "started",
            "ended",
            "overall",
            "passed",
            "pass_mark",
            *DIMENSIONS,
        ]
    )
    for s in sessions:
        dims = s.dimensions or {}
        writer.writerow(
            [
                s.username,
                s.id,
                s.scenario_id or s.title,
                s.mode,
                s.started_at,
                s.ended_at or "",
                "" if s.overall is None else s.overall,
                "" if s.passed is None else ("yes" if s.passed else "no"),
                s.pass_mark if s.pass_mark is not None else "",
                *[dims.get(d, "") for d in DIMENSIONS],
            ]
        )
    return out.getvalue()
