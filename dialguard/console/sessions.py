"""Console sign-in: an API token typed once, then a cookie naming a server-side session.

The browser never holds the token: the cookie carries a random session id (``HttpOnly``,
``SameSite=Strict``, ``Secure`` under TLS, path ``/console/``); the session keeps the token's
secret in this process's memory, and every request authenticates it again through the token store,
so a revoked token signs its sessions out at their next click. Sessions end after
``IDLE_S`` without a request, on sign-out, and when ``serve`` stops. Each carries a CSRF secret
that every form that changes something (sign-out, verification, report) must send back.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

COOKIE = "dg_console"
IDLE_S = 30 * 60
MAX_SESSIONS = 1000
"""Beyond it the least recently used session is dropped (signing in needs a valid token, so
only token holders can fill the table)."""


@dataclass
class Session:
    secret: str
    """The API token's secret (server side only)."""
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    seen: float = 0.0


class Sessions:
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._by_id: dict[str, Session] = {}

    def open(self, secret: str) -> tuple[str, Session]:
        self._expire()
        while len(self._by_id) >= MAX_SESSIONS:
            oldest = min(self._by_id, key=lambda sid: self._by_id[sid].seen)
            del self._by_id[oldest]
        sid = secrets.token_urlsafe(32)
        session = Session(secret, seen=self._now())
        self._by_id[sid] = session
        return sid, session

    def get(self, sid: str | None) -> Session | None:
        """The live session ``sid`` names (its idle time restarts), or None."""
        if not sid:
            return None
        session = self._by_id.get(sid)
        if session is None:
            return None
        now = self._now()
        if now - session.seen > IDLE_S:
            del self._by_id[sid]
            return None
        session.seen = now
        return session

    def close(self, sid: str | None) -> None:
        if sid:
            self._by_id.pop(sid, None)

    def _expire(self) -> None:
        now = self._now()
        for sid in [s for s, v in self._by_id.items() if now - v.seen > IDLE_S]:
            del self._by_id[sid]

    def __len__(self) -> int:
        return len(self._by_id)
