"""The two things every process the stack starts needs from the network: a free port on 127.0.0.1, and a
wait until what listens there answers (or the process behind it dies)."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_answering(url: str, alive: Callable[[], bool], timeout: float) -> bool:
    """True once `url` answers HTTP (any status: a 401 is an answer), False if `alive()` says the process
    behind it has died first; TimeoutError if it is still silent after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            return False
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(url)
