"""Failed sign-ins counted per user name and per client address, so guessing passwords is slow.

A try that is over the limit is refused before the password is checked: the deliberately slow hash never
runs for it, so a flood of guesses cannot take the server's CPU from the people using it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

PER_NAME = 5  # failed sign-ins for one user name within WINDOW, then that name waits
PER_ADDRESS = 20  # failed sign-ins from one address within WINDOW (a team may share one office address)
WINDOW = 300.0  # seconds


@dataclass
class SignInThrottle:
    """Sliding-window counts of failures; a try counts as one until `succeeded` takes it back."""

    per_name: int = PER_NAME
    per_address: int = PER_ADDRESS
    window: float = WINDOW
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def begin(self, name: str, address: str) -> float:
        """0 if this name and address may try now (the try is counted); else the seconds to wait."""
        now = self.clock()
        keys = ((f"name:{name}", self.per_name), (f"address:{address}", self.per_address))
        with self._lock:
            self._forget_before(now - self.window)
            full = [self._failures[key] for key, limit in keys if len(self._failures.get(key, ())) >= limit]
            if full:
                return max(max(times[0] for times in full) + self.window - now, 1.0)
            for key, _ in keys:
                self._failures.setdefault(key, deque()).append(now)
        return 0.0

    def succeeded(self, name: str, address: str) -> None:
        """The try was right: the name starts afresh, and the address loses the failure `begin` counted."""
        with self._lock:
            self._failures.pop(f"name:{name}", None)
            times = self._failures.get(f"address:{address}")
            if times:
                times.pop()

    def _forget_before(self, oldest: float) -> None:
        for key in list(self._failures):
            times = self._failures[key]
            while times and times[0] < oldest:
                times.popleft()
            if not times:
                del self._failures[key]
