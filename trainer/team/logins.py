"""Login tokens kept in the store, as hashes, so sign-ins survive restarts and span app instances.

A sign-in lasts `$TRAINER_SESSION_DAYS` days (default 7), ends on Sign out or when the password changes,
and only the token the browser holds opens it: the hash in the database never does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping
from datetime import timedelta

from trainer.team.database import StoreError
from trainer.team.store import LOCAL_NAME, Store

SESSION_DAYS = 7.0  # how long a sign-in lasts unless $TRAINER_SESSION_DAYS says otherwise


def session_max_age() -> timedelta:
    """`$TRAINER_SESSION_DAYS` (a number of days, e.g. 0.5 for twelve hours), default 7."""
    raw = os.environ.get("TRAINER_SESSION_DAYS", "").strip()
    try:
        days = float(raw) if raw else SESSION_DAYS
    except ValueError:
        days = 0.0
    if not 0 < days <= 3650:
        raise StoreError(f"TRAINER_SESSION_DAYS: {raw!r} is not a number of days between 0 and 3650")
    return timedelta(days=days)


class StoredHash(str):
    """A key this map handed out while being iterated: it names a stored hash, not a token.

    Only these are looked up as hashes. Whatever a client sends (a cookie is always a plain `str`) is
    hashed first, so a hash read from a copy of the database is no sign-in.
    """


class StoredTokens(MutableMapping[str, str]):
    """Gradio's token -> username map, kept in the store so logins survive restarts and span instances.

    Only hashes are stored; iterating yields `StoredHash` keys, which is what Gradio's logout walks to drop
    every login of the user who signs out.
    """

    def __init__(self, store: Store, open_when_empty: bool = False, max_age: timedelta | None = None) -> None:
        self.store, self.open_when_empty = store, open_when_empty
        self.max_age = max_age if max_age is not None else session_max_age()

    def _hash(self, key: str) -> str:
        return str(key) if isinstance(key, StoredHash) else self.store.token_hash(key)

    def __getitem__(self, key: str) -> str:
        user = None
        if isinstance(key, StoredHash):  # logout walking the stored logins: expired ones too
            user = self.store.login_user(self._hash(key))
        elif key:
            user = self.store.login_user(self._hash(key), self.max_age)
        if user is None and self.open_when_empty and self.store.user_count() == 0:
            return LOCAL_NAME  # no accounts yet on a local app: everyone is the local practice user
        if user is None:
            raise KeyError(key)
        return user

    def __setitem__(self, token: str, username: str) -> None:
        self.store.add_login(self._hash(token), username, self.max_age)

    def __delitem__(self, key: str) -> None:
        self.store.drop_login(self._hash(key))

    def __iter__(self) -> Iterator[str]:
        return iter([StoredHash(h) for h in self.store.login_hashes()])

    def __len__(self) -> int:
        return len(self.store.login_hashes())
