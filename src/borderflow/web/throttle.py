"""Back-off after failed logins, per user and per client address.

Each account may fail a few times freely; after that every further failure doubles the wait
before the next attempt is even looked at (1 s, 2 s, 4 s … up to 15 minutes), so guessing a
password takes years instead of hours. The same holds, with more free failures, for each
client address, against one machine trying many accounts. A refused attempt is answered at
once (429 with Retry-After) without checking the password, and does not lengthen the wait; a
correct password resets the account's count (not the address's, or one valid account would
clear the way for guessing others). The record lives in the server's memory: a restart clears
it, which is harmless next to the 15 minutes it could otherwise hold.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

FREE_PER_USER = 5
FREE_PER_ADDRESS = 20
FIRST_WAIT_S = 1.0
MAX_WAIT_S = 900.0
FORGET_S = 3600.0  # a key with no failure for this long starts afresh
MAX_KEYS = 100_000  # memory bound: the stalest keys are forgotten first


@dataclass
class _Failures:
    count: int = 0
    until: float = 0.0  # no attempt is looked at before this time
    last: float = 0.0


class LoginThrottle:
    """Thread-safe failure counts; ``clock`` is replaceable for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str], _Failures] = {}

    @staticmethod
    def _keys_of(username: str, address: str) -> tuple[tuple[str, str], tuple[str, str]]:
        return ("user", username.casefold()), ("address", address)

    def wait(self, username: str, address: str) -> int:
        """Whole seconds before an attempt for this user from this address is looked at."""
        now = self.clock()
        with self._lock:
            until = max(
                (self._keys[k].until for k in self._keys_of(username, address) if k in self._keys),
                default=0.0,
            )
        return math.ceil(until - now) if until > now else 0

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        user, addr = self._keys_of(username, address)
        with self._lock:
            for key, free in ((user, FREE_PER_USER), (addr, FREE_PER_ADDRESS)):
                record = self._keys.get(key)
                if record is None or now - record.last > FORGET_S:
                    record = self._keys[key] = _Failures()
                record.count += 1
                record.last = now
                if record.count >= free:
                    wait = min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** min(record.count - free, 20))
                    record.until = now + wait
            if len(self._keys) > MAX_KEYS:
                self._forget_stalest()

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._keys.pop(self._keys_of(username, address)[0], None)

    def _forget_stalest(self) -> None:
        by_age = sorted(self._keys, key=lambda k: self._keys[k].last)
        for key in by_age[: len(by_age) - MAX_KEYS // 2]:
            del self._keys[key]
