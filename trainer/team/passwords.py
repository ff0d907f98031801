"""Passwords: scrypt hashes (never the password), and the sign-in check against the stored hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from trainer.team.database import StoreError
from trainer.team.store import Store

# scrypt with n=2**14, r=8 (16 MiB, ~50 ms): the standard interactive-login setting.
_N, _R, _P, _LEN = 2**14, 8, 1, 32


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
