"""Loopback ports: pick free ones and wait for a listener."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

LOOPBACK = "127.0.0.1"


def free_port(kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    """A port the kernel just handed out on 127.0.0.1 (TCP by default, UDP with ``SOCK_DGRAM``).

    The port is released before returning, so another process could take it first; on a
    test machine that race is rare enough, and binding fails loudly when it happens.
    """
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_listener(
    port: int,
    timeout: float,
    *,
    check: Callable[[], None] | None = None,
    host: str = LOOPBACK,
) -> None:
    """Return once a TCP connect to ``host:port`` succeeds; raise ``TimeoutError`` after
    ``timeout`` seconds. ``check`` runs before each attempt and raises to give up early (the
    server process died). Polls: a server process gives no other readiness signal."""
    deadline = time.monotonic() + timeout
    while True:
        if check is not None:
            check()
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError as exc:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s") from exc
        time.sleep(0.05)
