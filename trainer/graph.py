"""The LangGraph flow of one role-play session: assess -> update persona -> reply -> end check -> scorecard.

One invocation plays one trainee turn (or, on a fresh thread, the persona's opening). State holds plain
JSON-able values so any checkpointer can store it and a session resumes in a new process.
"""

from __future__ import annotations

from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph

from trainer.assess import assess_turn
from trainer.catalog import Catalog, load_rules
from trainer.grading import grade_session
from trainer.persona import ReplyPlan, advance, effective_rules, end_check, initial_state
from trainer.schema import Assessment, PersonaState, Turn
from trainer.voice import Voice, VoiceRequest, offline_voice, opening_line


class SessionState(TypedDict, total=False):
    scenario_id: str
    seed: int
    turns: list[dict[str, str]]
    persona: dict[str, Any]
    assessments: list[dict[str, Any]]
    plan: dict[str, Any] | None
    pending: str | None
    scorecard: dict[str, Any] | None


def trainee_turns(state: SessionState) -> int:
    return sum(1 for t in state.get("turns", []) if t["speaker"] == "trainee")


def build_graph(catalog: Catalog, voice: Voice = offline_voice, checkpointer: Any = None) -> Any:
    """Compile the session graph over a catalog, with the given voice and checkpointer."""
    rules = load_rules(catalog.root)

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
        assessment = assess_turn(text, len(turns), turns)
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

    def say(state: SessionState, current: PersonaState, plan: ReplyPlan) -> str:
        """Voice the plan and remember which authored lines were spoken."""
        scenario, persona = parts(state)
        said = voice(
            VoiceRequest(
                persona=persona,
                scenario=scenario,
                state=current,
                plan=plan,
                turns=[Turn(**t) for t in state["turns"]],
                seed=state.get("seed", 0),
                turn_number=trainee_turns(state),
            )
        )
        current.used_lines += said.used
        return said.text

    def reply(state: SessionState) -> SessionState:
        current = PersonaState(**state["persona"])
        text = say(state, current, ReplyPlan(**state["plan"]))
        return {
            "turns": [*state["turns"], {"speaker": "persona", "text": text}],
            "persona": current.model_dump(),
            "pending": None,
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
        text = say(state, after, closing)
        *earlier, last = state["turns"]
        return {
            "turns": [*earlier, {"speaker": "persona", "text": f"{last['text']} {text}"}],
            "persona": after.model_dump(),
        }

    def score(state: SessionState) -> SessionState:
        scenario, persona = parts(state)
        card = grade_session(
            [Turn(**t) for t in state["turns"]],
            [Assessment(**a) for a in state["assessments"]],
            scenario=scenario,
            persona=persona,
            state=PersonaState(**state["persona"]),
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
