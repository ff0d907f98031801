"""Passwords and who may see what: scrypt hashes (never the password), and the app's access rules.

The rules are checked server-side in every handler, so hiding a button is never what keeps data private:
a rep sees only their own sessions; a manager sees their own and their team's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterator, MutableMapping

from trainer.team.store import LOCAL_NAME, SessionRow, Store, StoreError, User

# scrypt with n=2**14, r=8 (16 MiB, ~50 ms): the standard interactive-login setting.
_N, _R, _P, _LEN = 2**14, 8, 1, 32

LOCAL_USER = User(name=LOCAL_NAME, role="rep", team="")


class AccessDenied(PermissionError):
    """The signed-in user may not see or change this; the message never says whether it exists."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash`: the parameters travel with the hash so they can be raised later."""
    if len(password) < 8:
        raise StoreError("password: use at least 8 characters")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_LEN)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    expected = _unb64(digest)
    got = hashlib.scrypt(
        password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
    )
    return hmac.compare_digest(got, expected)


_DUMMY = hash_password("not-a-real-password")


def check_login(store: Store, username: str, password: str) -> bool:
    """True for a right name and password; an unknown name costs the same time as a wrong password."""
    stored = store.password_hash(username.strip())
    ok = verify_password(password, stored or _DUMMY)
    return ok and stored is not None


# ---------------------------------------------------------------- access rules


def can_see(user: User, owner: User | None, session: SessionRow | None = None) -> bool:
    """A rep: their own. A manager: their own and anyone's in their team (not other teams)."""
    if owner is None:
        return False
    if owner.name == user.name:
        return True
    return user.is_manager and bool(user.team) and owner.team == user.team


def require_session(store: Store, user: User, session_id: str) -> SessionRow:
    """The session, if this user may see it; the same error for "not yours" and "no such session"."""
    row = store.session(session_id or "")
    if row is None or not can_see(user, store.user(row.username) or _local_owner(row), row):
        raise AccessDenied("No such session, or it is not yours to open.")
    return row


def _local_owner(row: SessionRow) -> User | None:
    return LOCAL_USER if row.username == LOCAL_USER.name else None


def require_manager(user: User) -> User:
    if not user.is_manager:
        raise AccessDenied("Only managers can do that.")
    return user


# ---------------------------------------------------------------- login tokens in the store


class StoredTokens(MutableMapping[str, str]):
    """Gradio's token -> username map, kept in the store so logins survive restarts and span instances.

    Only hashes are stored; iterating yields `#hash` keys, which is what Gradio's logout walks to drop
    every login of the user who signs out.
    """

    def __init__(self, store: Store, open_when_empty: bool = False) -> None:
        self.store, self.open_when_empty = store, open_when_empty

    def _hash(self, key: str) -> str:
        return key[1:] if key.startswith("#") else self.store.token_hash(key)

    def __getitem__(self, key: str) -> str:
        user = self.store.login_user(self._hash(key)) if key else None
        if user is None and self.open_when_empty and self.store.user_count() == 0:
            return LOCAL_NAME  # no accounts yet on a local app: everyone is the local practice user
        if user is None:
            raise KeyError(key)
        return user

    def __setitem__(self, token: str, username: str) -> None:
        self.store.add_login(self._hash(token), username)

    def __delitem__(self, key: str) -> None:
        self.store.drop_login(self._hash(key))

    def __iter__(self) -> Iterator[str]:
        return iter([f"#{h}" for h in self.store.login_hashes()])

    def __len__(self) -> int:
        return len(self.store.login_hashes())
