"""Transcript -> Scorecard: the session's dimensions, each with the turns that justify it, tips and a rewrite.

With a scenario, discovery depth counts the hidden layers uncovered; without one (a real call's
transcript), it is judged from the questions themselves. Weights live in rubrics/scorecard.yaml.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from trainer.grader.assess import Relabel, assess_transcript
from trainer.grader.depth import DEPTH_CLASSES
from trainer.grader.transcripts import TranscriptError
from trainer.rubrics import Rubrics, builtin_rubrics
from trainer.schema import Assessment, Evidence, Persona, PersonaState, Scenario, Scorecard, Transcript, Turn

DIMENSIONS = ("customer_focus", "discovery_depth", "question_quality", "listening", "recovery", "next_step")
NOT_SCORED_FOR_FOCUS = {"next_step", "goodbye"}


def _quote(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ev(a: Assessment, note: str) -> Evidence:
    return Evidence(turn=a.turn, quote=_quote(a.text), note=note)


def _note(note: str) -> Evidence:
    """Evidence about the whole conversation rather than one turn (no turn, no quote)."""
    return Evidence(turn=-1, quote="", note=note)


def _words(text: str) -> int:
    return len(text.split())


def _customer_focus(
    assessments: Sequence[Assessment], first_pain: int | None
) -> tuple[float, list[Evidence]]:
    """Share of the rep's talk that is about them, counted in words; a pitch before any pain was
    uncovered weighs double.

    Words, not turns: a two-minute product monologue costs more than a one-line aside, and a short
    reflection counts for what it is (MI raters and buyers both hear the talk, not the turn count).
    """
    customer = pitch = 0.0
    evidence = []
    for a in assessments:
        if a.move in NOT_SCORED_FOR_FOCUS:
            continue
        size = max(1, _words(a.text))
        if a.focus == "customer" or a.move == "insight":
            customer += size
            evidence.append(_ev(a, "about them"))
        elif a.focus == "pitch":
            early = first_pain is None or a.turn < first_pain
            pitch += size * (2 if early else 1)
            evidence.append(_ev(a, "pitch before any pain was uncovered" if early else "pitch"))
    if customer + pitch == 0:
        return 50.0, evidence
    return 100 * customer / (customer + pitch), evidence


def _depth_from_layers(
    persona: Persona,
    state: PersonaState,
    assessments: Sequence[Assessment],
    turns: Sequence[Turn],
    rubric: dict,
) -> tuple[float, list[Evidence]]:
    weights = rubric.get("layer_weights", {})
    total = sum(weights.get(layer.layer, 1) for layer in persona.hidden)
    got = sum(
        weights.get(persona.layer(i).layer, 1) for i in state.unlocked if i in {h.id for h in persona.hidden}
    )
    evidence = []
    for layer_id in state.unlocked:
        layer = persona.layer(layer_id)
        opener = _opening_turn(layer.reveal, assessments, turns)
        if opener is not None:
            evidence.append(_ev(opener, f"opened the {layer.layer.replace('_', ' ')} layer"))
    evidence += _deepest_probe(assessments)
    return 100 * got / total if total else 0.0, evidence


DEPTH_WORDS = {
    "situation": "facts about today",
    "problem": "what is hard and why",
    "implication": "what it costs them",
    "outcome": "what success would make possible",
    "personal": "what it means for them personally",
}


def _deepest_probe(assessments: Sequence[Assessment]) -> list[Evidence]:
    """The first turn that reached the deepest level the rep probed (grader/depth.py)."""
    probes = [a for a in assessments if a.focus == "customer" and a.depth in DEPTH_CLASSES]
    if not probes:
        return [_note("no question went beyond small talk or our product")]
    deepest = max(probes, key=lambda a: (DEPTH_CLASSES.index(a.depth or "situation"), -a.turn))
    return [_ev(deepest, f"deepest probe: {deepest.depth} ({DEPTH_WORDS[deepest.depth or 'situation']})")]


def _opening_turn(reveal: Sequence[str], assessments: Sequence[Assessment], turns: Sequence[Turn]):
    """The trainee turn whose persona reply contained one of the layer's reveal lines."""
    for a in assessments:
        if a.turn + 1 < len(turns) and any(line in turns[a.turn + 1].text for line in reveal):
            return a
    return None


def _depth_from_questions(assessments: Sequence[Assessment]) -> tuple[float, list[Evidence]]:
    """Without a persona: deep questions and follow-ups on their words stand in for layers opened."""
    points = 0.0
    evidence = []
    for a in assessments:
        if a.focus != "customer":
            continue
        gained = {"implication": 1.0, "need_payoff": 1.0, "problem": 0.6}.get(a.spin or "", 0.0)
        gained += 0.5 if a.builds_on else 0.0
        if a.question is None and a.move == "reflection":
            gained += 0.4
        if gained:
            points += gained
            evidence.append(_ev(a, f"{(a.spin or 'reflection').replace('_', '-')} follow-up"))
    return min(100.0, 100 * points / 5), evidence + _deepest_probe(assessments)


def _question_quality(assessments: Sequence[Assessment]) -> tuple[float, list[Evidence]]:
    asked = [a for a in assessments if a.question is not None and a.move not in NOT_SCORED_FOR_FOCUS]
    if not asked:
        return 0.0, []
    score = 0.0
    evidence = []
    for a in asked:
        value = 0.0
        if a.focus == "customer":
            value += 0.55 if a.question == "open" else 0.2
            value += 0.25 if a.spin in ("implication", "need_payoff") else 0.1 if a.spin == "problem" else 0
            value += 0.2 if a.builds_on else 0
            note = f"{a.question} {(a.spin or '').replace('_', '-')} question" + (
                ", builds on their words" if a.builds_on else ""
            )
        else:
            note = (
                "a pitch phrased as a question"
                if a.focus == "pitch"
                else "a question about nothing of theirs"
            )
        score += value
        evidence.append(_ev(a, note.strip()))
    return 100 * score / len(asked), evidence


def _listening(
    turns: Sequence[Turn], assessments: Sequence[Assessment], rubric: dict
) -> tuple[float, list[Evidence]]:
    cfg = rubric.get("listening", {})
    ideal, limit = cfg.get("ideal_share", 0.43), cfg.get("monologue_words", 80)
    rep = sum(_words(t.text) for t in turns if t.speaker == "trainee")
    total = sum(_words(t.text) for t in turns) or 1
    share = rep / total
    score = 100 - abs(share - ideal) * 200
    evidence = []
    longest = max(assessments, key=lambda a: _words(a.text), default=None)
    if longest is not None and _words(longest.text) > limit:
        score -= min(30, (_words(longest.text) - limit) / 4)
        evidence.append(_ev(longest, f"longest monologue: {_words(longest.text)} words"))
    evidence.insert(0, _note(f"rep's share of words: {share:.0%} (best near {ideal:.0%})"))
    return max(0.0, min(100.0, score)), evidence


def _recovery(assessments: Sequence[Assessment], turns: Sequence[Turn]) -> tuple[float, list[Evidence]]:
    """After a pitch of their own, or pushback from the persona, did the next turn come back to them?"""
    chances = recovered = 0
    evidence = []
    for prev, nxt in itertools.pairwise(assessments):
        pushback = prev.focus == "pitch" or _is_pushback(turns[nxt.turn - 1].text if nxt.turn else "")
        if not pushback or nxt.move == "goodbye":
            continue
        chances += 1
        if nxt.focus == "customer" or nxt.move == "insight":
            recovered += 1
            evidence.append(_ev(nxt, "refocused on them after pushback"))
        else:
            evidence.append(_ev(nxt, "kept going after pushback"))
    if not chances:
        # Nothing to recover from is full marks; say so, or a 100 with no quote looks like a bug.
        return 100.0, [_note("no pushback or pitch to recover from")]
    return 100 * recovered / chances, evidence


_PUSHBACK = (
    "not sure where this is going", "different directions", "work for me", "i'm going to stop you",
    "brochure", "features", "get to the point", "why are we", "what's your point", "waste",
)  # fmt: skip


def _is_pushback(persona_text: str) -> bool:
    low = persona_text.lower()
    return any(p in low for p in _PUSHBACK)


def _next_step(assessments: Sequence[Assessment], state: PersonaState | None) -> tuple[float, list[Evidence]]:
    asks = [a for a in assessments if a.move == "next_step"]
    begs = [a for a in assessments if a.focus == "pitch" and a.question is not None]
    evidence = [_ev(a, "asked for a next step") for a in asks] + [
        _ev(a, "pushed for a commitment") for a in begs
    ]
    if state is not None and state.next_step_granted:
        score = 100.0 - 15 * (len(asks) - 1)
    elif asks:
        discovered = sum(1 for a in assessments if a.turn < asks[-1].turn and a.focus == "customer")
        score = 70.0 if state is None and discovered >= 3 else 35.0
    else:
        score = 40.0
        evidence.insert(0, _note("no next step asked for"))
    score -= 10 * len(begs)
    return max(0.0, min(100.0, score)), evidence


def _tips(
    dims: dict[str, float],
    assessments: Sequence[Assessment],
    rewrite: dict[str, str] | None,
    texts: dict[str, Any],
) -> list[str]:
    """The three most useful tips, each pointing at a turn (texts in rubrics/tips.yaml)."""
    number = {a.turn: n for n, a in enumerate(assessments, start=1)}
    found: list[tuple[float, str, Assessment | None]] = []
    pitches = [a for a in assessments if a.focus == "pitch"]
    if pitches:
        found.append((dims["customer_focus"], "pitched_early", pitches[0]))
    closed = [
        a
        for a in assessments
        if a.question == "closed" and a.focus == "customer" and a.move not in NOT_SCORED_FOR_FOCUS
    ]
    if closed:
        found.append((dims["question_quality"] + 5, "closed_question", closed[0]))
    if assessments and not any(a.builds_on for a in assessments if a.focus == "customer"):
        found.append((dims["question_quality"] + 10, "no_follow_up", assessments[-1]))
    if dims["discovery_depth"] < 60:
        deep = next((a for a in assessments if a.focus == "customer" and a.question == "open"), None)
        target = deep or (assessments[-1] if assessments else None)
        found.append((dims["discovery_depth"], "go_deeper", target))
    if dims["listening"] < 60 and assessments:
        found.append((dims["listening"], "talk_less", max(assessments, key=lambda a: _words(a.text))))
    if dims["next_step"] < 50 and assessments:
        found.append((dims["next_step"] + 15, "earn_next_step", assessments[-1]))
    if rewrite:
        worst = next(a for a in assessments if a.turn == int(rewrite["turn"]))
        found.append((dims["customer_focus"] + 1, "rewrite", worst))
    if not found and assessments:
        deep = ("implication", "need_payoff")
        plain = [a for a in assessments if a.focus == "customer" and a.spin not in deep]
        found.append((100.0, "stretch", (plain or assessments)[0]))
    found.sort(key=lambda item: item[0])
    tips = []
    for _, key, a in found[:3]:
        fields = {"turn": number.get(a.turn, 1) if a else 1, "quote": _quote(a.text, 60) if a else ""}
        tips.append(str(texts[key]).format(**fields, to=rewrite["to"] if rewrite else ""))
    return tips


def _rewrite(assessments: Sequence[Assessment], options: dict[str, Any]) -> dict[str, str] | None:
    """Turn the worst pitching turn into a discovery question about the topic it touched."""
    pitches = [a for a in assessments if a.focus == "pitch"]
    if not pitches:
        return None
    worst = max(pitches, key=lambda a: (a.question is not None, _words(a.text)))
    topic = next((t for t in worst.topics if t in options), "default")
    return {"turn": str(worst.turn), "from": _quote(worst.text, 200), "to": str(options[topic])}


def grade_session(
    turns: Sequence[Turn],
    assessments: Sequence[Assessment],
    scenario: Scenario | None = None,
    persona: Persona | None = None,
    state: PersonaState | None = None,
    transcript_id: str | None = None,
    rubrics: Rubrics | None = None,
) -> Scorecard:
    """Score a finished (or unfinished) conversation from its per-turn assessments."""
    rubrics = rubrics or builtin_rubrics()
    rubric = rubrics.scorecard
    first_pain = None
    if persona is not None and state is not None and state.unlocked:
        reveal = persona.layer(state.unlocked[0]).reveal
        opener = _opening_turn(reveal, assessments, turns)
        first_pain = opener.turn if opener else None
    elif persona is None:
        first_pain = next((a.turn for a in assessments if a.focus == "customer" and a.question), None)

    results: dict[str, tuple[float, list[Evidence]]] = {
        "customer_focus": _customer_focus(assessments, first_pain),
        "discovery_depth": (
            _depth_from_layers(persona, state, assessments, turns, rubric)
            if persona is not None and state is not None
            else _depth_from_questions(assessments)
        ),
        "question_quality": _question_quality(assessments),
        "listening": _listening(turns, assessments, rubric),
        "recovery": _recovery(assessments, turns),
        "next_step": _next_step(assessments, state),
    }
    dims = {name: round(results[name][0], 1) for name in DIMENSIONS}
    weights: dict[str, Any] = rubric.get("weights", {})
    total_weight = sum(weights.get(n, 0) for n in DIMENSIONS) or 1
    overall = round(sum(dims[n] * weights.get(n, 0) for n in DIMENSIONS) / total_weight, 1)
    rewrite = _rewrite(assessments, rubrics.rewrites)
    pass_mark = scenario.pass_mark if scenario else int(rubric.get("pass_mark", 70))
    return Scorecard(
        id=transcript_id,
        scenario=scenario.id if scenario else None,
        overall=overall,
        dimensions=dims,
        evidence={name: results[name][1] for name in DIMENSIONS},
        turns=[a.labels() for a in assessments],
        tips=_tips(dims, assessments, rewrite, rubrics.tips),
        rewrite=rewrite,
        pass_mark=pass_mark,
        passed=overall >= pass_mark,
    )


def require_rep_turns(transcript: Transcript, source: str) -> None:
    """Refuse a transcript in which the rep never speaks: its scorecard would grade only the silence."""
    if not any(t.speaker == "trainee" for t in transcript.turns):
        raise TranscriptError(f"{source}: no rep turns to grade (speaker 'trainee' / 'Rep:')")


def grade_transcript(
    transcript: Transcript,
    scenario: Scenario | None = None,
    relabel: Relabel | None = None,
    rubrics: Rubrics | None = None,
) -> Scorecard:
    """Grade any transcript (a session, an upload, a real call) from its text alone."""
    ours = scenario.our_names if scenario else ()
    assessments = assess_transcript(transcript.turns, relabel, rubrics, ours)
    return grade_session(
        transcript.turns, assessments, scenario=scenario, transcript_id=transcript.id, rubrics=rubrics
    )
