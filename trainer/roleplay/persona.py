"""Persona state and its update rule: the code, not a model, decides what the persona feels and may tell.

`advance` takes one assessed trainee turn and returns the new state plus a ReplyPlan: what the persona
should do next (react, reveal a layer, drop a hint, raise a challenge). Voices only put the plan in words.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from trainer.roleplay.hearing import LAYER_FOR_DEPTH, WH, asks_for_more, wants_more_than_yes
from trainer.schema import LAYER_ORDER, Assessment, HiddenLayer, Persona, PersonaState, Scenario, TrustRules
from trainer.text import question_sentence

# The moves that count as listening: only these can open a hidden layer.
OPENING_MOVES = frozenset({"open_question", "reflection", "insight"})

PartKind = Literal[
    "reaction",
    "reveal",
    "hint",
    "elaborate",
    "fact",
    "ack",  # a short line any persona may say (rubrics/acknowledgements.yaml), keyed by its tone
    "recall",  # "to come back to what you asked earlier": before a reveal the rep asked for turns ago
    "challenge",
    "challenge_passed",
    "challenge_failed",
]


class ReplyPart(BaseModel):
    kind: PartKind
    key: str = Field(description="Reaction name, layer id or challenge id.")


class ReplyPlan(BaseModel):
    """What the persona does this turn, in order; the voice renders each part."""

    parts: list[ReplyPart] = Field(default_factory=list)
    mood: str = ""

    def add(self, kind: PartKind, key: str) -> None:
        self.parts.append(ReplyPart(kind=kind, key=key))


def effective_rules(persona: Persona, defaults: TrustRules) -> TrustRules:
    return defaults.model_copy(update=persona.trust_rules)


def initial_state(persona: Persona) -> PersonaState:
    state = PersonaState(trust=persona.start_trust, patience=persona.patience)
    for challenge in persona.challenges:
        if challenge.at_turn == 0:
            state.challenges[challenge.id] = "open"
    return state


def mood(persona: Persona, state: PersonaState) -> str:
    """A word for how the persona feels, for the UI and the LLM voice."""
    if state.ended:
        return "gone"
    if state.patience <= persona.patience / 3:
        return "impatient"
    if state.trust >= 70:
        return "open"
    if state.trust >= 45:
        return "engaged"
    if state.trust >= 25:
        return "guarded"
    return "cold"


def _clamp(value: float) -> int:
    return max(0, min(100, round(value)))


def openable(persona: Persona, state: PersonaState) -> list[HiddenLayer]:
    """Locked layers whose prerequisites are open, shallowest first."""
    layers = [
        layer
        for layer in persona.hidden
        if layer.id not in state.unlocked and all(req in state.unlocked for req in layer.unlock.requires)
    ]
    return sorted(layers, key=lambda layer: LAYER_ORDER.index(layer.layer))


def _objectives_met(scenario: Scenario, state: PersonaState) -> list[str]:
    met = []
    for objective in scenario.objectives:
        if (
            (objective.kind == "unlock" and objective.target in state.unlocked)
            or (objective.kind == "next_step" and state.next_step_granted)
            or (objective.kind == "challenge" and state.challenges.get(objective.target or "") == "passed")
        ):
            met.append(objective.id)
    return met


def advance(
    persona: Persona,
    scenario: Scenario,
    state: PersonaState,
    assessment: Assessment,
    turn_number: int,
    rules: TrustRules,
) -> tuple[PersonaState, ReplyPlan]:
    """Apply one trainee turn (1-based `turn_number`) to the persona; pure, so it can be replayed."""
    new = state.model_copy(deep=True)
    plan = ReplyPlan()
    move = assessment.move
    delta = 0.0
    patience_cost = 0.0

    failed_now = False
    for challenge in persona.challenges:
        if new.challenges.get(challenge.id) != "open":
            continue
        touched = not challenge.recover_topics or set(assessment.topics) & set(challenge.recover_topics)
        if move in OPENING_MOVES and assessment.focus != "pitch" and touched:
            new.challenges[challenge.id] = "passed"
            delta += rules.challenge_passed
            plan.add("challenge_passed", challenge.id)
        elif move == "goodbye" or (move == "off_topic" and turn_number == 1 and assessment.question is None):
            pass  # a greeting before the answer leaves the challenge open, as it leaves trust alone
        else:
            new.challenges[challenge.id] = "failed"
            delta += rules.challenge_failed
            patience_cost += rules.challenge_failed_patience
            plan.add("challenge_failed", challenge.id)
            failed_now = True

    listening = move in {"open_question", "closed_question", "reflection", "insight"}
    if move == "pitch":
        delta += rules.pitch
        patience_cost += rules.pitch_patience
    elif move == "open_question":
        delta += rules.open_question
    elif move == "closed_question":  # "And for you?" is heard as an invitation, so it earns like one
        delta += rules.open_question if asks_for_more(assessment) else rules.closed_question
    elif move == "reflection":
        delta += rules.reflection
    elif move == "insight":
        delta += rules.insight
    elif move == "off_topic" and turn_number > 1:  # an opening pleasantry is fine
        delta += rules.off_topic
        patience_cost += rules.off_topic_patience
    if move == "open_question" and assessment.shares_insight:  # a peer's lesson, then a question
        delta += max(0.0, rules.insight - rules.open_question)
    if listening and assessment.builds_on:
        delta += rules.builds_on
    if listening and assessment.topics:
        delta += rules.topic

    for made in (move, "insight") if assessment.shares_insight else (move,):
        if made not in new.moves:
            new.moves.append(made)
    if move == "next_step":
        earned = all(needed in new.moves for needed in persona.next_step_requires)
        if earned and new.trust >= persona.next_step_trust:
            new.next_step_granted = True
        else:
            delta += rules.next_step_early
            patience_cost += rules.next_step_early_patience

    new.trust = _clamp(new.trust + delta)
    new.patience = round(new.patience - patience_cost, 3)

    if new.patience <= 0 and move != "goodbye":
        new.ended, new.reason = True, "patience"
        plan.add("reaction", "patience_out")
        plan.mood = mood(persona, new)
        return new, plan

    if move == "goodbye":
        new.ended, new.reason = True, "goodbye"
        plan.add("reaction", "goodbye")
    elif move == "next_step":
        plan.add("reaction", "next_step_accepted" if new.next_step_granted else "next_step_early")
    elif failed_now and move in ("pitch", "closed_question", "off_topic"):
        pass  # the challenge's failed line is the whole reaction
    elif move == "pitch":
        plan.add("reaction", "pitched")
    elif move == "closed_question" and _answer_closed(persona, new, assessment, plan):
        pass
    elif move == "off_topic":
        plan.add("reaction", "off_topic")
    else:
        _discover(persona, new, assessment, plan)

    raised = [c for c in persona.challenges if c.at_turn == turn_number and c.id not in new.challenges]
    if raised and not new.ended:
        new.challenges[raised[0].id] = "open"
        plan.add("challenge", raised[0].id)

    new.objectives_met = _objectives_met(scenario, new)
    plan.mood = mood(persona, new)
    return new, plan


# "How much is the target?" wants a number: with a fact that fits, the fact, whatever depth it touches.
_QUANTITY = re.compile(r"\bhow (?:many|much|long|big|often)\b")
_QUESTION_WORDS = WH | {"many", "much", "do", "does", "did", "is", "are", "the", "you", "your", "a", "an"}


def _answer_closed(persona: Persona, state: PersonaState, assessment: Assessment, plan: ReplyPlan) -> bool:
    """Plan the reply to a closed question; False when it is heard as a probe (`asks_for_more`) instead.

    A question asking for one fact gets the fact, a yes/no question a short answer, and a one-fact
    question the persona has no line for (or has answered) a short "I'd have to check" / "as I said".
    """
    asked, words = _asked_words(assessment)
    fact, score = _best_fact(persona, state, assessment, said=False)
    _, said_score = _best_fact(persona, state, assessment, said=True)
    quantity = _QUANTITY.search(asked)
    if quantity and said_score > score:
        plan.add("ack", "asked_again")  # a figure they gave already, whatever depth the grader reads in it
        return True
    if asks_for_more(assessment) and not (fact is not None and quantity):
        return False  # "who else feels it?" probes a depth: heard as an invitation to talk, not a quiz
    if fact is None:
        if _opens_now(persona, state, assessment):
            return False  # "Is that yours to solve, personally?" from someone they have come to trust
        _remember_ask(persona, state, assessment)  # asked too soon: they come back to it once they can
        if not words & WH and wants_more_than_yes(assessment.text, asked):
            return False  # "What went wrong? Was it scope or people?" asks them to explain, not to say yes
    if fact is not None and score >= said_score:
        plan.add("fact", str(fact))
    elif not words & WH:
        plan.add("reaction", "closed_question")
    else:
        plan.add("ack", "asked_again" if said_score > score else "no_figure")
    return True


def _opens_now(persona: Persona, state: PersonaState, assessment: Assessment) -> bool:
    """A yes/no question at the depth of a layer that trust and what comes first now let open."""
    kind = LAYER_FOR_DEPTH.get(assessment.depth or "")
    return any(
        layer.layer == kind and state.trust >= layer.unlock.min_trust for layer in openable(persona, state)
    )


def fact_key(index: int) -> str:
    """The key a fact is kept under in `used_lines` once said (each fact is one line)."""
    return f"fact:{index}:0"


def _asked_words(assessment: Assessment) -> tuple[str, set[str]]:
    asked = (question_sentence(assessment.text) or "").lower()
    return asked, {w.strip(',.?;:!"()') for w in asked.replace("'", " ").split()}


def _best_fact(
    persona: Persona, state: PersonaState, assessment: Assessment, said: bool
) -> tuple[int | None, int]:
    """The persona's fact a one-fact wh-question asks for ("How big is the team?") and its score (words
    shared): among facts it may tell and has not said yet, or (`said`) among those it has said."""
    asked, words = _asked_words(assessment)
    if assessment.focus != "customer" or not words & WH:
        return None, 0
    words -= _QUESTION_WORDS  # "how many" asks for a fact; which one, the other words say
    best, best_score = None, 0
    for index, fact in enumerate(persona.facts):
        if (fact_key(index) in state.used_lines) != said or (fact.layer and fact.layer not in state.unlocked):
            continue
        score = sum(1 for term in fact.about if _mentions(asked, words, term.lower()))
        if score > best_score:
            best, best_score = index, score
    return best, best_score


def _mentions(text: str, words: set[str], term: str) -> bool:
    """A one-word term matches a word of the question (plural or not); a phrase matches as written."""
    if " " in term:
        return term in text
    return term in words or term + "s" in words or (term.endswith("s") and term[:-1] in words)


def probed(candidates: list[HiddenLayer], state: PersonaState, assessment: Assessment) -> list[HiddenLayer]:
    """The openable layers a turn reaches: by the depth it probes, by following up on the thread their
    last reply opened (one layer deeper) or hinted at (that layer), or by a topic the persona names."""
    kinds: set[str] = set()
    pursued: set[str] = set()
    if assessment.focus == "customer":
        if kind := LAYER_FOR_DEPTH.get(assessment.depth or ""):
            kinds.add(kind)
        if assessment.follow_up and state.thread:
            pursued.add(state.thread)
    if kinds and not any(layer.layer in kinds for layer in candidates):
        # Asked deeper than they can go yet ("what does it mean for you?" before they have said what
        # they want): they answer as deep as they can, the deepest layer open to them below it.
        deepest = max(LAYER_ORDER.index(kind) for kind in kinds)
        below = [layer for layer in candidates if LAYER_ORDER.index(layer.layer) < deepest]
        kinds |= {below[-1].layer} if below else set()
    return [
        layer
        for layer in candidates
        if layer.layer in kinds
        or layer.id in pursued
        or pursued & set(layer.unlock.requires)
        or set(layer.unlock.topics) & set(assessment.topics)
    ]


def _discover(persona: Persona, state: PersonaState, assessment: Assessment, plan: ReplyPlan) -> None:
    """An open question, reflection or insight: open a layer if earned, else guard or hint."""
    candidates = openable(persona, state)
    touched = probed(candidates, state, assessment)
    earned = [layer for layer in touched if state.trust >= layer.unlock.min_trust]
    recalled = [
        layer for layer in candidates if layer.layer in state.asked and state.trust >= layer.unlock.min_trust
    ]
    if not earned and recalled:  # they asked about this before it could open; now it can
        plan.add("recall", recalled[0].id)
        earned = recalled
    if earned:
        _open(state, earned[0])
        plan.add("reveal", earned[0].id)
    _remember_ask(persona, state, assessment)
    if earned:
        return
    pursued = _open_thread(persona, state, assessment)
    if pursued is not None and assessment.follow_up:
        plan.add("elaborate", pursued.id)  # they asked to hear more about what they just told
        return
    if touched and assessment.question is not None:
        plan.add("reaction", "guarded")
        return
    if pursued is not None:
        plan.add("elaborate", pursued.id)  # a question at the depth of a layer already open
        state.thread = pursued.id
        return
    plan.add(
        "reaction", {"reflection": "reflection", "insight": "insight"}.get(assessment.move, "open_question")
    )
    hinted = next((layer for layer in candidates if layer.hints), None)
    if hinted is not None:
        state.thread = hinted.id
        plan.add("hint", hinted.id)


def _open(state: PersonaState, layer: HiddenLayer) -> None:
    state.unlocked.append(layer.id)
    state.thread = layer.id
    if layer.layer in state.asked:  # the question they asked about it is answered
        state.asked.remove(layer.layer)


def _remember_ask(persona: Persona, state: PersonaState, assessment: Assessment) -> None:
    """A probe at a depth none of whose layers is open yet (locked by trust or by what must come first):
    kept, so that the persona answers it once it can, as people come back to a question they dodged."""
    kind = LAYER_FOR_DEPTH.get(assessment.depth or "") if assessment.focus == "customer" else None
    if kind is None or kind in state.asked:
        return
    has_kind = any(layer.layer == kind for layer in persona.hidden)
    if has_kind and not any(persona.layer(i).layer == kind for i in state.unlocked):
        state.asked.append(kind)


def _open_thread(persona: Persona, state: PersonaState, assessment: Assessment) -> HiddenLayer | None:
    """An open layer the turn asks more about: the thread it follows up on, else the open layer at the
    depth it probes (deepest first); only layers with lines to say more."""
    opened = [persona.layer(i) for i in state.unlocked]
    if assessment.follow_up and state.thread in state.unlocked:
        layer = persona.layer(state.thread)
        if layer.elaborate:
            return layer
    kind = LAYER_FOR_DEPTH.get(assessment.depth or "") if assessment.focus == "customer" else None
    at_depth = [layer for layer in opened if layer.layer == kind and layer.elaborate]
    return at_depth[-1] if at_depth else None


def end_check(scenario: Scenario, state: PersonaState, turn_number: int) -> PersonaState:
    """After the reply: stop on the turn limit, or when every objective is met."""
    if state.ended:
        return state
    new = state.model_copy(deep=True)
    if scenario.end_when_met and len(new.objectives_met) == len(scenario.objectives):
        new.ended, new.reason = True, "objective_met"
    elif turn_number >= scenario.max_turns:
        new.ended, new.reason = True, "turn_limit"
    return new
