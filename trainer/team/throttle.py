"""Failed sign-ins counted per user name and per client address, so guessing passwords is slow.

A try that is over the limit is refused before the password is checked: the deliberately slow hash never
runs for it, so a flood of guesses cannot take the server's CPU from the people using it. Only failures
count, and tries for one name or from one address are checked one at a time (`one_at_a_time`), so a
burst of guesses sent in parallel cannot slip past the count, while a whole office signing in at nine
from one address only waits its turn instead of being refused.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

PER_NAME = 5  # failed sign-ins for one user name within WINDOW, then that name waits
PER_ADDRESS = 20  # failed sign-ins from one address within WINDOW (a team may share one office address)
WINDOW = 300.0  # seconds


@dataclass
class SignInThrottle:
    """Sliding-window counts of failed sign-ins per name and per address."""

    per_name: int = PER_NAME
    per_address: int = PER_ADDRESS
    window: float = WINDOW
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, name: str, address: str) -> float:
        """0 if this name and address may try now; else the seconds until they may."""
        now = self.clock()
        keys = ((f"name:{name}", self.per_name), (f"address:{address}", self.per_address))
        with self._lock:
            self._forget_before(now - self.window)
            full = [self._failures[key] for key, limit in keys if len(self._failures.get(key, ())) >= limit]
        return max(max(times[0] for times in full) + self.window - now, 1.0) if full else 0.0

    def failed(self, name: str, address: str) -> None:
        with self._lock:
            for key in (f"name:{name}", f"address:{address}"):
                self._failures.setdefault(key, deque()).append(self.clock())

    def succeeded(self, name: str) -> None:
        """The name starts afresh; the address keeps its failures (it may have guessed other names)."""
        with self._lock:
            self._failures.pop(f"name:{name}", None)

    def _forget_before(self, oldest: float) -> None:
        for key in list(self._failures):
            times = self._failures[key]
            while times and times[0] < oldest:
                times.popleft()
            if not times:
                del self._failures[key]


class OneAtATime:
    """Async locks by key, made on first use and dropped when nobody holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def held(self, *keys: str) -> AsyncIterator[None]:
        """Hold every key's lock (always taken in sorted order, so two tries never wait on each other)."""
        ordered = sorted(set(keys))
        for key in ordered:
            self._users[key] = self._users.get(key, 0) + 1
        try:
            async with AsyncExitStack() as stack:
                for key in ordered:
                    await stack.enter_async_context(self._locks.setdefault(key, asyncio.Lock()))
                yield
        finally:
            for key in ordered:
                self._users[key] -= 1
                if not self._users[key]:
                    del self._users[key], self._locks[key]
