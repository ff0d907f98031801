"""Shared set-up for the app tests: a store with two teams, a session graph over it, the app's actions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trainer.catalog import Catalog
from trainer.roleplay.session import Sessions
from trainer.roleplay.voice import Voice, offline_voice
from trainer.team.app import TrainerApp
from trainer.team.passwords import hash_password
from trainer.team.store import Store, User, open_store

PASSWORD = "correct horse battery"
# name, role, team
PEOPLE = [
    ("maya", "manager", "east"),
    ("ravi", "rep", "east"),
    ("rosa", "rep", "east"),
    ("wen", "manager", "west"),
    ("omar", "rep", "west"),
]


@dataclass
class World:
    store: Store
    app: TrainerApp
    users: dict[str, User]

    def __getitem__(self, name: str) -> User:
        return self.users[name]


def make_store(folder: Path, people: list[tuple[str, str, str]] = PEOPLE, url: str | None = None) -> Store:
    """The people in a new store: a SQLite file in `folder`, or the database `url` names."""
    store = open_store(url or f"sqlite:///{folder / 'trainer.db'}")
    hashed = hash_password(PASSWORD)  # one hash for all: scrypt is slow on purpose
    for name, role, team in people:
        store.add_user(name, role, team, hashed)
    return store


def make_world(folder: Path, catalog: Catalog, voice: Voice = offline_voice, url: str | None = None) -> World:
    store = make_store(folder, url=url)
    sessions = Sessions(catalog, voice=voice, checkpointer=store.db.checkpointer())
    app = TrainerApp(catalog, store, sessions)
    return World(store, app, {u.name: u for u in store.users()})
