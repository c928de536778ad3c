"""A misbehaving outbound-socket "gate" for the FreeSWITCH failure cases: one that dies in the
middle of the decision. (A frozen one is :class:`devkit.agi_peers.StuckAgiServer`: it accepts and
never speaks, which is the same fault on either protocol.)
"""

from __future__ import annotations

import socket
import struct
import threading
from types import TracebackType

from .net import LOOPBACK

ACCEPT_TIMEOUT_S = 30.0


class DyingEslGate:
    """Accepts one connection, asks for the channel data as the gate does (``linger``, ``getvar
    uuid``, then ``api uuid_dump``), reads the start of FreeSWITCH's answer and then resets the
    connection, as the kernel does when the gate's process is killed mid-decision with data
    unread."""

    def __init__(self, port: int) -> None:
        self.accepted = 0
        self.dumped = False
        """FreeSWITCH answered ``api uuid_dump``: the gate died while deciding."""
        self._listener = socket.create_server((LOOPBACK, port))
        self._listener.settimeout(ACCEPT_TIMEOUT_S)
        self._thread = threading.Thread(target=self._run, name="DyingEslGate", daemon=True)

    def __enter__(self) -> DyingEslGate:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._listener.close()
        self._thread.join(timeout=ACCEPT_TIMEOUT_S + 5)

    def _run(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        self.accepted += 1
        with conn:
            conn.settimeout(10)
            conn.sendall(b"linger\n\ngetvar uuid\n\n")
            reply = _block(conn)
            uuid = reply.partition(b"Reply-Text: ")[2].split(b"\n", 1)[0]
            if not uuid:
                return
            conn.sendall(b"api uuid_dump " + uuid + b"\n\n")
            if b"api/response" not in _block(conn):
                return
            self.dumped = True
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _block(conn: socket.socket) -> bytes:
    """Bytes up to the first empty line (a frame's header block); empty when the peer closed."""
    data = b""
    while b"\n\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    return data
