"""What the web app shows, as plain functions returning HTML or chat messages: the chat, the scorecard,
transcripts, comments and the tables of sessions, assignments and scores (charts are in `charts`)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from trainer.roleplay.session import SessionView
from trainer.schema import Assessment, Scorecard
from trainer.team.exports import label
from trainer.team.store import Comment, SessionRow

esc = html.escape

FOCUS_LABELS = {"customer": "Customer focus", "pitch": "Pitch", "neutral": "Neutral"}
MOOD_TEXT = {
    "open": "Open: sharing freely",
    "engaged": "Engaged: warming up",
    "guarded": "Guarded: testing you",
    "cold": "Cold: not convinced",
    "impatient": "Impatient: running out of patience",
    "gone": "The meeting is over",
}


def _tone(score: float | None, pass_mark: float = 70) -> str:
    if score is None:
        return "none"
    return "good" if score >= pass_mark else "mid" if score >= pass_mark - 25 else "low"


# ---------------------------------------------------------------- practise


def persona_card_html(card: dict[str, Any] | None, assignment_note: str = "") -> str:
    """Who the rep meets and why: the public profile and the scenario, nothing hidden."""
    if not card:
        return "<div class='card empty'>Pick a scenario to see who you are meeting.</div>"
    initials = "".join(part[0] for part in card["name"].split()[:2]).upper()
    objectives = "".join(f"<li>{esc(o)}</li>" for o in card["objectives"])
    note = f"<div class='note'>{esc(assignment_note)}</div>" if assignment_note else ""
    return f"""
<div class='card persona-card'>
  <div class='persona-head'>
    <div class='avatar'>{esc(initials)}</div>
    <div><div class='persona-name'>{esc(card["name"])}</div>
    <div class='persona-title'>{esc(card["title"])}, {esc(card["organisation"])}</div></div>
  </div>
  {note}
  <div class='section-label'>Setting</div><p>{esc(card["setting"])}</p>
  <div class='section-label'>Your brief</div><p>{esc(card["brief"])}</p>
  <div class='section-label'>Objectives</div><ul class='objectives'>{objectives}</ul>
  <div class='meta'>{esc(card["difficulty"].capitalize())} · up to {card["max_turns"]} of your turns</div>
</div>"""


def chip_html(a: Assessment) -> str:
    question = f"{a.question} question" if a.question else "no question"
    return (
        f"<span class='chip chip-{esc(a.focus)}'>{esc(FOCUS_LABELS.get(a.focus, a.focus))}</span>"
        f"<span class='chip chip-q'>{esc(question)}</span>"
    )


def chat_messages(view: SessionView | None, training: bool) -> list[dict[str, str]]:
    """The session as chat messages; in training mode each rep turn carries its live chip."""
    if view is None:
        return []
    by_turn = {a.turn: a for a in view.assessments}
    messages = []
    for index, turn in enumerate(view.turns):
        if turn.speaker == "persona":
            messages.append({"role": "assistant", "content": turn.text})
            continue
        content = esc(turn.text)
        if training and index in by_turn:
            content += f"\n\n<span class='chips'>{chip_html(by_turn[index])}</span>"
        messages.append({"role": "user", "content": content})
    return messages


def mood_html(view: SessionView | None, training: bool) -> str:
    if view is None:
        return ""
    if not training:
        return (
            "<div class='mood mood-hidden'><span class='dot'></span>Assessment mode: "
            "no live feedback until the scorecard.</div>"
        )
    mood = view.mood or "guarded"
    return (
        f"<div class='mood mood-{esc(mood)}'><span class='dot'></span>"
        f"<b>Mood</b>&nbsp;{esc(MOOD_TEXT.get(mood, mood))}</div>"
    )


def error_message(exc: Exception) -> dict[str, str]:
    """The chat bubble shown when the persona's model fails; the rep's words stay in the box to resend."""
    return {
        "role": "assistant",
        "content": (
            "<div class='chat-error'>⚠️ The persona could not answer just now "
            f"({esc(str(exc)[:160] or type(exc).__name__)}). Nothing was lost: press <b>Send</b> "
            "to try the same turn again.</div>"
        ),
    }


# ---------------------------------------------------------------- scorecard


def _bar(score: float, pass_mark: float | None = None) -> str:
    tone = _tone(score, pass_mark or 70)
    width = max(0.0, min(100.0, score))
    return f"<div class='bar'><div class='fill {tone}' style='width:{width:.0f}%'></div></div>"


def scorecard_html(card: Scorecard | None, persona_name: str = "the customer") -> str:
    """Overall and dimensions as a bar chart, each with the quoted turns behind it, tips and a rewrite."""
    if card is None:
        return ""
    mark = card.pass_mark if card.pass_mark is not None else 70
    verdict = "Passed" if card.passed else "Not yet"
    tone = "pass" if card.passed else "fail"
    rows = []
    for name, score in card.dimensions.items():
        quotes = [e for e in card.evidence.get(name, []) if e.quote][:3]
        notes = [e for e in card.evidence.get(name, []) if not e.quote][:1]
        items = "".join(f"<li class='ev-note'>{esc(e.note)}</li>" for e in notes) + "".join(
            f"<li><q>{esc(e.quote)}</q> <span class='ev-note'>{esc(e.note)}</span></li>" for e in quotes
        )
        evidence = (
            f"<ul class='evidence'>{items}</ul>" if items else "<div class='ev-none'>No turns to quote.</div>"
        )
        rows.append(
            f"<div class='dim'><div class='dim-row'><span class='dim-name'>{esc(label(name))}</span>"
            f"{_bar(score, mark)}<span class='dim-score'>{score:.0f}</span></div>{evidence}</div>"
        )
    tips = "".join(f"<li>{esc(t)}</li>" for t in card.tips)
    rewrite = ""
    if card.rewrite:
        rewrite = (
            "<div class='rewrite'><div class='section-label'>Try it this way</div>"
            f"<div class='rw-from'><span>You said</span><q>{esc(card.rewrite['from'])}</q></div>"
            f"<div class='rw-to'><span>Ask instead</span><q>{esc(card.rewrite['to'])}</q></div></div>"
        )
    return f"""
<div class='card scorecard' id='scorecard'>
  <div class='score-head'>
    <div class='overall {tone}'><div class='num'>{card.overall:.0f}</div><div class='of'>/ 100</div></div>
    <div><div class='verdict {tone}'>{verdict}</div>
    <div class='mark'>Pass mark {mark} · your conversation with {esc(persona_name)}</div></div>
  </div>
  <div class='section-label'>Dimensions</div>
  <div class='dims'>{"".join(rows)}</div>
  <div class='section-label'>Tips</div><ol class='tips'>{tips}</ol>
  {rewrite}
</div>"""


def _when(stamp: str) -> str:
    return stamp[:16].replace("T", " ")


def comments_html(comments: Sequence[Comment]) -> str:
    if not comments:
        return ""
    items = "".join(
        f"<div class='comment'><div class='c-head'><b>{esc(c.author)}</b> · {esc(_when(c.created_at))}</div>"
        f"<div>{esc(c.text)}</div></div>"
        for c in comments
    )
    return f"<div class='card comments'><div class='section-label'>Manager comments</div>{items}</div>"


def transcript_html(transcript: dict[str, Any], persona_name: str, rep_name: str = "Rep") -> str:
    turns = transcript.get("turns", [])
    if not turns:
        return "<div class='card empty'>No turns yet.</div>"
    lines = "".join(
        f"<div class='t-line {esc(t['speaker'])}'><span class='who'>"
        f"{esc(persona_name if t['speaker'] == 'persona' else rep_name)}</span>"
        f"<span>{esc(t['text'])}</span></div>"
        for t in turns
    )
    return f"<div class='card transcript'>{lines}</div>"


# ---------------------------------------------------------------- history and dashboard


def session_label(row: SessionRow, with_user: bool = False) -> str:
    score = f"{row.overall:.0f}" if row.overall is not None else "in progress"
    who = f"{row.username} · " if with_user else ""
    return f"{who}{row.started_at[:16].replace('T', ' ')} · {row.title or row.scenario_id} · {score}"


def table_html(headers: Sequence[str], rows: Sequence[str], cls: str = "table") -> str:
    """One HTML table: header cells (already escaped HTML) and finished `<tr>` rows."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    return f"<table class='{cls}'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def sessions_table_html(rows: Sequence[SessionRow], comments: dict[str, int], with_user: bool = False) -> str:
    if not rows:
        return "<div class='card empty'>No sessions yet. Practise a scenario and it will appear here.</div>"
    headers = [*(["Rep"] if with_user else []), "When", "Scenario", "Mode", "Score", "Result", ""]
    body = []
    for r in rows:
        if r.overall is None:
            result = "<span class='pill pill-muted'>in progress</span>"
            score = "–"
        else:
            result = (
                "<span class='pill pill-pass'>passed</span>"
                if r.passed
                else "<span class='pill pill-fail'>not yet</span>"
            )
            score = f"<b>{r.overall:.0f}</b>"
        note = f"💬 {comments[r.id]}" if comments.get(r.id) else ""
        user_cell = f"<td>{esc(r.username)}</td>" if with_user else ""
        body.append(
            f"<tr>{user_cell}<td>{esc(_when(r.started_at))}</td>"
            f"<td>{esc(r.title or r.scenario_id or '')}</td>"
            f"<td>{esc(r.mode)}</td><td>{score}</td><td>{result}</td><td>{note}</td></tr>"
        )
    return table_html(headers, body)


STATUS_PILLS = {
    "passed": "pill-pass",
    "stuck": "pill-fail",
    "overdue": "pill-warn",
    "in progress": "pill-info",
    "not started": "pill-muted",
}


def status_html(rows: Sequence[Any]) -> str:
    if not rows:
        return "<div class='card empty'>Nothing assigned yet: the <b>Assign</b> tab sets one.</div>"
    body = [
        f"<tr><td>{esc(r.rep)}</td><td>{esc(r.title)}</td><td>{esc(r.due or '–')}</td><td>{r.pass_mark}</td>"
        f"<td>{r.attempts}</td><td>{'–' if r.best is None else f'{r.best:.0f}'}</td>"
        f"<td>{'–' if r.latest is None else f'{r.latest:.0f}'}</td>"
        f"<td><span class='pill {STATUS_PILLS.get(r.status, 'pill-muted')}'>{esc(r.status)}</span></td></tr>"
        for r in rows
    ]
    return table_html(["Rep", "Scenario", "Due", "Pass", "Attempts", "Best", "Latest", "Status"], body)


def scores_html(scores: Sequence[dict[str, Any]]) -> str:
    if not scores:
        return "<div class='card empty'>No scored sessions in your team yet.</div>"
    body = [
        f"<tr><td>{esc(s['rep'])}</td><td>{esc(s['scenario'])}</td><td>{s['attempts']}</td>"
        f"<td><b>{s['best']:.0f}</b></td><td>{s['latest']:.0f}</td><td>{esc(s['when'])}</td></tr>"
        for s in scores
    ]
    return table_html(["Rep", "Scenario", "Attempts", "Best", "Latest", "Last played"], body)


def stats_html(items: Sequence[tuple[str, str]]) -> str:
    """A row of headline numbers (label, value)."""
    tiles = "".join(
        f"<div class='stat'><div class='stat-value'>{esc(v)}</div>"
        f"<div class='stat-label'>{esc(k)}</div></div>"
        for k, v in items
    )
    return f"<div class='stats'>{tiles}</div>"
