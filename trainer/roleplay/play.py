"""Build a persona voice for a backend and play scripted rep lines: the one loop everything shares.

The CLI (`trainer run`), eval suites, the scripted rankings and the tests all play "these lines, then
grade unless the persona ended it" through here, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trainer.catalog import Catalog
from trainer.grader.scorecard import grade_session
from trainer.roleplay.session import Sessions, SessionView
from trainer.roleplay.voice import Voice, offline_voice
from trainer.schema import Scorecard

if TYPE_CHECKING:
    from trainer.llm.config import LLMConfig


def build_voice(model, config: LLMConfig, catalog: Catalog) -> Voice:
    """Authored lines when there is no model, else the LLM voice over it with the catalog's prompts."""
    if model is None:
        return offline_voice
    from trainer.prompts import prompts_root
    from trainer.roleplay.llm_voice import LLMVoice

    return LLMVoice(model, config.voice_model, config.temperature, prompts_root(catalog.root))


@dataclass
class Played:
    view: SessionView  # where the session stopped
    views: list[SessionView]  # after the opening, then after each line played
    scorecard: Scorecard  # the session's own, or the conversation graded as it stands

    @property
    def turns_played(self) -> int:
        return len(self.views) - 1


def play_lines(sessions: Sessions, scenario_id: str, lines: Sequence[str], seed: int | None = 1) -> Played:
    """Play lines until they run out or the persona ends the meeting, then the scorecard."""
    view = sessions.start(scenario_id, seed=seed)
    views = [view]
    for line in lines:
        if view.ended:
            break
        if not line.strip():
            continue
        view = sessions.send(view.id, line)
        views.append(view)
    return Played(view, views, scorecard_of(view, sessions.catalog))


def scorecard_of(view: SessionView, catalog: Catalog) -> Scorecard:
    """The session's own scorecard once the persona ended it, else the conversation graded as it stands."""
    if view.scorecard is not None:
        return view.scorecard
    scenario = catalog.scenario(view.scenario_id)
    return grade_session(
        view.turns,
        view.assessments,
        scenario=scenario,
        persona=catalog.persona(scenario.persona),
        state=view.state,
        transcript_id=view.id,
        rubrics=catalog.rubrics,
    )
