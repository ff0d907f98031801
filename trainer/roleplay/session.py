"""Play sessions through the graph: start, send a turn, view, resume; shared by the CLI and the app.

A session is a LangGraph thread. Its head is the newest checkpoint whose run finished, so a turn whose
run failed (a model error, a crash) leaves the session exactly as it was and can simply be sent again.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from trainer.catalog import Catalog
from trainer.roleplay.graph import build_graph
from trainer.roleplay.persona import mood
from trainer.roleplay.voice import Voice, offline_voice
from trainer.schema import Assessment, PersonaState, Scorecard, Turn

# One checkpoint per finished run (a turn), not per graph step: the head is always a finished run, and
# rewind goes back by whole turns, so the step checkpoints were never read; skipping them cuts the
# graph's CPU per turn by about 60%. A run that fails leaves no finished checkpoint: the head stays put.
DURABILITY = "exit"


class SessionError(ValueError):
    """A request the session cannot take (unknown id, ended session, empty turn)."""


@dataclass
class SessionView:
    id: str
    scenario_id: str
    seed: int
    turns: list[Turn]
    state: PersonaState
    assessments: list[Assessment]
    scorecard: Scorecard | None
    mood: str = ""
    checkpoint_id: str | None = None
    usage: dict[str, dict[str, Any]] = field(default_factory=dict)  # model name -> tokens, for model voices
    voice_notes: list[dict[str, Any]] = field(default_factory=list)  # replies a model got wrong, replaced

    @property
    def ended(self) -> bool:
        return self.state.ended

    @property
    def last_reply(self) -> str:
        return next((t.text for t in reversed(self.turns) if t.speaker == "persona"), "")

    def persona_state_json(self, catalog: Catalog) -> dict[str, Any]:
        """The INTERFACES.md `persona_state` object."""
        persona = catalog.persona(catalog.scenario(self.scenario_id).persona)
        return {
            "trust": self.state.trust,
            "patience": self.state.patience,
            "mood": self.mood,
            "unlocked": [{"id": i, "layer": persona.layer(i).layer} for i in self.state.unlocked],
            "challenges": self.state.challenges,
            "next_step_granted": self.state.next_step_granted,
            "objectives_met": self.state.objectives_met,
            "ended": self.state.ended,
            "reason": self.state.reason,
        }

    def transcript_json(self) -> dict[str, Any]:
        return {"id": self.id, "scenario": self.scenario_id, "turns": [t.model_dump() for t in self.turns]}


@dataclass
class Sessions:
    catalog: Catalog
    voice: Voice = offline_voice
    checkpointer: Any = field(default_factory=InMemorySaver)
    assessor: Callable[..., Assessment] | None = None  # default: the classifier (assess.assess_turn)

    def __post_init__(self) -> None:
        self.graph = build_graph(self.catalog, self.voice, self.checkpointer, self.assessor)

    def _config(self, session_id: str, checkpoint_id: str | None = None) -> dict[str, Any]:
        configurable = {"thread_id": session_id}
        if checkpoint_id:
            configurable["checkpoint_id"] = checkpoint_id
        return {"configurable": configurable}

    def _head(self, session_id: str):
        """The newest snapshot whose run completed (nothing left to do).

        That is nearly always the latest checkpoint, read with one indexed lookup; only when it is not
        (a run that stopped part-way) is the history walked, which reads every checkpoint of the thread.
        """
        latest = self.graph.get_state(self._config(session_id))
        if not latest.next and latest.values.get("turns"):
            return latest
        for snapshot in self.graph.get_state_history(self._config(session_id)):
            if not snapshot.next and snapshot.values.get("turns"):
                return snapshot
        raise SessionError(f"no session {session_id!r}")

    def _view(self, session_id: str, snapshot) -> SessionView:
        values = snapshot.values
        scenario = self.catalog.scenario(values["scenario_id"])
        state = PersonaState(**values["persona"])
        card = values.get("scorecard")
        return SessionView(
            id=session_id,
            scenario_id=values["scenario_id"],
            seed=values.get("seed", 0),
            turns=[Turn(**t) for t in values["turns"]],
            state=state,
            assessments=[Assessment(**a) for a in values.get("assessments", [])],
            scorecard=Scorecard(**card) if card else None,
            mood=mood(self.catalog.persona(scenario.persona), state),
            checkpoint_id=snapshot.config["configurable"].get("checkpoint_id"),
            usage=dict(values.get("usage") or {}),
            voice_notes=list(values.get("voice_notes") or []),
        )

    def start(self, scenario_id: str, seed: int | None = None, session_id: str | None = None) -> SessionView:
        self.catalog.scenario(scenario_id)  # fail early, with the catalog's message
        session_id = session_id or uuid.uuid4().hex[:12]
        seed = secrets.randbelow(2**31) if seed is None else seed
        self.graph.invoke(
            {"scenario_id": scenario_id, "seed": seed}, self._config(session_id), durability=DURABILITY
        )
        return self.view(session_id)

    def view(self, session_id: str) -> SessionView:
        return self._view(session_id, self._head(session_id))

    def send(self, session_id: str, text: str, on_token: Callable[[str], None] | None = None) -> SessionView:
        """Play one trainee turn; on any error the session stays at its previous turn.

        `on_token` receives the persona's reply as it is spoken (word by word from a model voice).
        """
        text = text.strip()
        if not text:
            raise SessionError("empty turn: type something to say to the persona")
        head = self._head(session_id)
        if head.values["persona"].get("ended"):
            raise SessionError(f"session {session_id} has ended; start a new one")
        config = self._config(session_id, head.config["configurable"].get("checkpoint_id"))
        if on_token is not None:
            config["configurable"]["on_token"] = on_token  # graph.listener(): the voice speaks into it
        self.graph.invoke({"pending": text}, config, durability=DURABILITY)
        return self.view(session_id)

    def history(self, session_id: str) -> list[SessionView]:
        """Every completed turn of the current path, oldest first (for rewind)."""
        views: list[SessionView] = []
        snapshot = self._head(session_id)
        while snapshot is not None:
            done = not snapshot.next and snapshot.values.get("turns")
            if done and (not views or len(snapshot.values["turns"]) != len(views[-1].turns)):
                views.append(self._view(session_id, snapshot))
            parent = snapshot.parent_config
            snapshot = self.graph.get_state(parent) if parent else None
        return views[::-1]

    def rewind(self, session_id: str, trainee_turns: int) -> SessionView:
        """Go back to just after the rep's turn N (0 = the opening) and continue from there.

        The old path stays in the checkpoint history; the scorecard follows the path finally taken.
        """
        for view in self.history(session_id):
            if sum(1 for t in view.turns if t.speaker == "trainee") == trainee_turns:
                config = {
                    "configurable": {
                        "thread_id": session_id,
                        "checkpoint_ns": "",
                        "checkpoint_id": view.checkpoint_id,
                    }
                }
                self.graph.update_state(config, {"pending": None}, as_node="end_check")
                return self.view(session_id)
        raise SessionError(f"session {session_id} has no turn {trainee_turns} to go back to")
