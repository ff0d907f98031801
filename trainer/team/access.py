"""Who may see what: the app's access rules.

The rules are checked server-side in every handler, so hiding a button is never what keeps data private:
a rep sees only their own sessions; a manager sees their own and their team's.
"""

from __future__ import annotations

from trainer.team.database import StoreError
from trainer.team.store import LOCAL_NAME, SessionRow, Store, User

LOCAL_USER = User(name=LOCAL_NAME, role="rep", team="")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def needs_login(host: str, users: int) -> bool:
    """Sign-in is required when anyone but this machine can connect, or as soon as users exist."""
    return users > 0 or host not in LOCAL_HOSTS


def refuse_open_without_users(host: str, store: Store, add_user: str) -> None:
    """Listening beyond this machine with no accounts would let anyone in: refuse, saying how to add one."""
    if needs_login(host, 0) and store.user_count() == 0:
        raise StoreError(
            f"--host {host}: the app would be reachable from other machines and no users exist; "
            f"add one with `{add_user}` first"
        )


class AccessDenied(PermissionError):
    """The signed-in user may not see or change this; the message never says whether it exists."""


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
