"""One trainee turn -> one Assessment: the single judgement that moves the persona and feeds the scorecard.

Focus and question type come from the offline turn classifier (`classifier.predict`), corrected by
`focus_rules`, both reading the turn without its polite frames (`wrappers`); this module adds what the
persona reacts to: the move and SPIN type (`moves`), the depth probed (`depth`), the topics touched (the
catalog's `rubrics/topics.yaml`) and whether the turn builds on their words. Another judge (the LLM judge)
relabels the result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from trainer.grader.classifier import predict
from trainer.grader.depth import predict_depth
from trainer.grader.focus_rules import corrected_focus, names_us
from trainer.grader.moves import INSIGHT, PEER_STORY, PRODUCT, move_of, spin_of
from trainer.grader.wrappers import unwrapped
from trainer.rubrics import Rubrics, builtin_rubrics
from trainer.text import content_words, question_sentence
from trainer.turns import Assessment, Focus, QuestionKind, Turn


def _persona_words(earlier: Sequence[Turn]) -> set[str]:
    """Every content word the persona has said in these turns."""
    theirs: set[str] = set()
    for turn in earlier:
        if turn.speaker == "persona":
            theirs |= content_words(turn.text)
    return theirs


def _last_persona_line(earlier: Sequence[Turn]) -> str | None:
    return next((t.text for t in reversed(earlier) if t.speaker == "persona"), None)


def assess_turn(
    text: str,
    index: int,
    earlier: Sequence[Turn] = (),
    rubrics: Rubrics | None = None,
    ours: Sequence[str] = (),
) -> Assessment:
    """Judge one trainee turn given the conversation before it, with the catalog's topics; `ours`: the
    scenario's names for what the rep sells (a question naming it asks about us)."""
    return _assess(text, index, _last_persona_line(earlier), _persona_words(earlier), rubrics, ours)


def assess_after(text: str, context: str | None, rubrics: Rubrics | None = None) -> Assessment:
    """One turn after the persona's line `context` (or at the start): `assess_turn` after that one persona
    turn, without making Turn models (`trainer classify` judges each of its lines so)."""
    if not context:
        return _assess(text, 0, None, set(), rubrics)
    return _assess(text, 1, context, content_words(context), rubrics)


def _assess(
    text: str,
    index: int,
    context: str | None,
    theirs: set[str],
    rubrics: Rubrics | None,
    ours: Sequence[str] = (),
) -> Assessment:
    """The judgement itself, given the persona's last line (`context`) and every word they said so far.

    Made with `model_construct`: every value comes from the grader's own label sets, and validating them
    would first build Assessment's schema, some 13 ms that `trainer classify` would pay for nothing."""
    read = unwrapped(text)  # "Could I ask what…?" is judged by what it asks
    label = predict(read, context)
    question: QuestionKind | None = label.question  # type: ignore[assignment]
    focus: Focus = label.focus  # type: ignore[assignment]
    rubrics = rubrics or builtin_rubrics()
    low = read.lower()
    names_ours = names_us(read, ours)
    ours_named = names_ours or bool(PRODUCT.search(low))
    asked = question_sentence(read)
    focus, question = corrected_focus(
        read, focus, question, asked=asked, ours_named=ours_named, names_ours=names_ours, rubrics=rubrics
    )
    move = move_of(read, focus, question)
    if move == "insight" and names_ours:
        move = focus = "pitch"  # a case study of what we sell is a pitch, not a peer's lesson
    elif move == "insight" and focus == "pitch":
        focus = "neutral"  # a peer's lesson is telling, but not about us
    insight = move == "insight" or (
        focus == "customer" and not ours_named and bool(INSIGHT.search(low) or PEER_STORY.search(low))
    )
    probe = predict_depth(read, context, label.features) if focus == "customer" and label.features else None
    picked_up = sorted(content_words(text) & theirs)  # the persona's own words it picks up
    evidence = list(label.evidence)
    if picked_up:
        evidence.append("picks up: " + ", ".join(picked_up[:3]))
    return Assessment.model_construct(
        turn=index,
        text=text,
        focus=focus,
        question=question,
        spin=spin_of(asked or read, focus, question),
        builds_on=bool(picked_up) and focus == "customer",
        topics=rubrics.topics_in(text),
        move=move,
        evidence=evidence,
        confidence=round(label.confidence, 3),
        depth=probe.depth if probe else None,  # type: ignore[arg-type]
        follow_up=bool(probe and probe.follow_up),
        shares_insight=insight,
    )


Relabel = Callable[[Assessment, str | None, str], Assessment]


def assess_transcript(
    turns: Sequence[Turn],
    relabel: Relabel | None = None,
    rubrics: Rubrics | None = None,
    ours: Sequence[str] = (),
) -> list[Assessment]:
    """Every trainee turn of a transcript, each judged with what came before it.

    `relabel` lets another judge (the LLM judge) replace the offline labels: (assessment, context, label).
    The persona's last line and words so far are carried along, so grading is linear in the transcript.
    """
    out = []
    context: str | None = None
    theirs: set[str] = set()
    for i, turn in enumerate(turns):
        if turn.speaker == "persona":
            context = turn.text
            theirs |= content_words(turn.text)
        if turn.speaker != "trainee":
            continue
        assessment = _assess(turn.text, i, context, theirs, rubrics, ours)
        if relabel is not None:
            assessment = relabel(assessment, context, f"judge turn {i}")
        out.append(assessment)
    return out
