"""The store's rows as plain frozen dataclasses: what the app, the views and the exports pass around."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class User:
    name: str
    role: str
    team: str

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


@dataclass(frozen=True)
class Assignment:
    id: str
    scenario_id: str
    assignee: str | None
    team: str | None
    due: str | None
    pass_mark: int
    created_by: str
    created_at: str


@dataclass(frozen=True)
class SessionRow:
    id: str
    username: str
    scenario_id: str | None
    assignment_id: str | None
    mode: str
    source: str
    status: str
    pass_mark: int | None
    title: str
    started_at: str
    ended_at: str | None
    overall: float | None = None
    passed: bool | None = None
    dimensions: dict[str, float] | None = None

    @property
    def ended(self) -> bool:
        return self.status == "ended"


@dataclass(frozen=True)
class Comment:
    id: str
    session_id: str
    author: str
    text: str
    created_at: str
