"""The LangGraph flow of one role-play session: assess -> update persona -> reply -> end check -> scorecard.

One invocation plays one trainee turn (or, on a fresh thread, the persona's opening). State holds plain
JSON-able values so any checkpointer can store it and a session resumes in a new process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypedDict

from langgraph.config import get_config
from langgraph.graph import END, START, StateGraph

from trainer.catalog import Catalog
from trainer.grader.assess import assess_turn
from trainer.grader.scorecard import grade_session
from trainer.llm.usage import Usage
from trainer.roleplay.persona import ReplyPlan, advance, effective_rules, end_check, initial_state
from trainer.roleplay.voice import Utterance, Voice, VoiceRequest, offline_voice, opening_line
from trainer.schema import Assessment, PersonaState, Turn


class SessionState(TypedDict, total=False):
    scenario_id: str
    seed: int
    turns: list[dict[str, str]]
    persona: dict[str, Any]
    assessments: list[dict[str, Any]]
    plan: dict[str, Any] | None
    pending: str | None
    scorecard: dict[str, Any] | None
    usage: dict[str, dict[str, Any]]  # model name -> Usage fields, for model voices
    voice_notes: list[dict[str, Any]]  # turns where a model's reply was replaced by the authored line


def add_usage(state: SessionState, said: Utterance) -> SessionState:
    """The session's running token count and replaced replies, updated with one utterance."""
    if not said.usage and not said.note:
        return {}
    usage = dict(state.get("usage") or {})
    for model, used in said.usage.items():
        usage[model] = (Usage.model_validate(usage.get(model, {})) + Usage.model_validate(used)).model_dump()
    notes = list(state.get("voice_notes") or [])
    if said.note:
        notes.append({"turn": trainee_turns(state), "note": said.note})
    return {"usage": usage, "voice_notes": notes}


def listener() -> Callable[[str], None] | None:
    """Who hears the reply as it is spoken: the `on_token` the caller put in this run's config.

    A plain callback rather than LangGraph's stream writer, so a turn runs inline in the caller's
    thread (LangGraph's fast path) instead of on a background thread per step.
    """
    return get_config().get("configurable", {}).get("on_token")


def trainee_turns(state: SessionState) -> int:
    return sum(1 for t in state.get("turns", []) if t["speaker"] == "trainee")


def build_graph(
    catalog: Catalog,
    voice: Voice = offline_voice,
    checkpointer: Any = None,
    assessor: Callable[[str, int, Sequence[Turn]], Assessment] | None = None,
) -> Any:
    """Compile the session graph over a catalog, with the given voice and checkpointer.

    `assessor` stands in for `assess_turn` (e.g. an eval replaying the labels it recorded).
    """
    rules = catalog.rubrics.rules

    def parts(state: SessionState):
        scenario = catalog.scenario(state["scenario_id"])
        return scenario, catalog.persona(scenario.persona)

    def open_session(state: SessionState) -> SessionState:
        _, persona = parts(state)
        first = initial_state(persona)
        said = opening_line(persona, state.get("seed", 0))
        first.used_lines += said.used
        return {
            "turns": [{"speaker": "persona", "text": said.text}],
            "persona": first.model_dump(),
            "assessments": [],
            "plan": None,
            "pending": None,
            "scorecard": None,
        }

    def assess(state: SessionState) -> SessionState:
        text = (state.get("pending") or "").strip()
        turns = [Turn(**t) for t in state["turns"]]
        if assessor is not None:
            assessment = assessor(text, len(turns), turns)
        else:
            ours = catalog.scenario(state["scenario_id"]).our_names
            assessment = assess_turn(text, len(turns), turns, catalog.rubrics, ours)
        return {
            "turns": [*state["turns"], {"speaker": "trainee", "text": text}],
            "assessments": [*state["assessments"], assessment.model_dump()],
        }

    def update(state: SessionState) -> SessionState:
        scenario, persona = parts(state)
        new, plan = advance(
            persona,
            scenario,
            PersonaState(**state["persona"]),
            Assessment(**state["assessments"][-1]),
            trainee_turns(state),
            effective_rules(persona, rules),
        )
        return {"persona": new.model_dump(), "plan": plan.model_dump()}

    def say(state: SessionState, current: PersonaState, plan: ReplyPlan) -> Utterance:
        """Voice the plan, streaming its words to a listener; remember which authored lines were spoken."""
        scenario, persona = parts(state)
        hear = listener()
        said = voice(
            VoiceRequest(
                persona=persona,
                scenario=scenario,
                state=current,
                plan=plan,
                turns=[Turn(**t) for t in state["turns"]],
                seed=state.get("seed", 0),
                turn_number=trainee_turns(state),
                on_token=hear,
                acknowledgements=catalog.rubrics.acknowledgements,
            )
        )
        if hear is not None and not said.streamed:
            hear(said.text)
        current.used_lines += said.used
        return said

    def reply(state: SessionState) -> SessionState:
        current = PersonaState(**state["persona"])
        said = say(state, current, ReplyPlan(**state["plan"]))
        return {
            "turns": [*state["turns"], {"speaker": "persona", "text": said.text}],
            "persona": current.model_dump(),
            "pending": None,
            **add_usage(state, said),
        }

    def check_end(state: SessionState) -> SessionState:
        """Close on the turn limit or met objectives, adding a closing line unless one was just said."""
        scenario, _ = parts(state)
        before = PersonaState(**state["persona"])
        after = end_check(scenario, before, trainee_turns(state))
        if after.ended == before.ended:
            return {}
        closing = ReplyPlan()
        last_part = ((state.get("plan") or {}).get("parts") or [{}])[-1]
        if after.reason == "turn_limit":
            closing.add("reaction", "turn_limit")
        elif last_part.get("key") != "next_step_accepted":
            closing.add("reaction", "goodbye")
        if not closing.parts:
            return {"persona": after.model_dump()}
        if (hear := listener()) is not None:
            hear(" ")
        said = say(state, after, closing)
        *earlier, last = state["turns"]
        return {
            "turns": [*earlier, {"speaker": "persona", "text": f"{last['text']} {said.text}"}],
            "persona": after.model_dump(),
            **add_usage(state, said),
        }

    def score(state: SessionState) -> SessionState:
        scenario, persona = parts(state)
        card = grade_session(
            [Turn(**t) for t in state["turns"]],
            [Assessment(**a) for a in state["assessments"]],
            scenario=scenario,
            persona=persona,
            state=PersonaState(**state["persona"]),
            rubrics=catalog.rubrics,
        )
        return {"scorecard": card.model_dump()}

    graph = StateGraph(SessionState)
    graph.add_node("open", open_session)
    graph.add_node("assess", assess)
    graph.add_node("update", update)
    graph.add_node("reply", reply)
    graph.add_node("end_check", check_end)
    graph.add_node("score", score)
    graph.add_conditional_edges(START, lambda s: "assess" if s.get("turns") else "open", ["open", "assess"])
    graph.add_edge("open", END)
    graph.add_edge("assess", "update")
    graph.add_edge("update", "reply")
    graph.add_edge("reply", "end_check")
    graph.add_conditional_edges(
        "end_check", lambda s: "score" if s["persona"].get("ended") else END, ["score", END]
    )
    graph.add_edge("score", END)
    return graph.compile(checkpointer=checkpointer)
