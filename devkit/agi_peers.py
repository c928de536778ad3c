"""Misbehaving FastAGI peers for the failure cases: a "gate" that accepts and never answers,
and a client that opens the gate's port and hangs up in the middle of the header block.

Both run in a thread and stop by themselves when ``stop()`` (or the ``with`` block) ends.
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading
from types import TracebackType

from .net import LOOPBACK

# The start of a real header block from Asterisk 22; the client cuts it at varying points.
_HEADER = (
    b"agi_network: yes\n"
    b"agi_network_script: outbound\n"
    b"agi_request: agi://127.0.0.1/outbound\n"
    b"agi_channel: PJSIP/sipp-00000000\n"
    b"agi_language: en\n"
    b"agi_type: PJSIP\n"
    b"agi_uniqueid: 1732790000.1\n"
    b"agi_callerid: 01062345678\n"
)


class _Threaded:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake()
        self._thread.join(timeout=10)
        if self._thread.is_alive():
            raise RuntimeError(f"{type(self).__name__} did not stop")

    def _wake(self) -> None:
        """Interrupt a blocking wait in ``_run``."""

    def _run(self) -> None:
        raise NotImplementedError


class StuckAgiServer(_Threaded):
    """Listens on ``port``, accepts every connection, reads what Asterisk sends and never
    answers, like a gate hung on a lock. Records how many connections it accepted."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.accepted = 0
        self._listener = socket.create_server((LOOPBACK, port))
        self._waker_r, self._waker_w = socket.socketpair()

    def __enter__(self) -> StuckAgiServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _wake(self) -> None:
        self._waker_w.send(b"x")

    def _run(self) -> None:
        conns: list[socket.socket] = []
        with selectors.DefaultSelector() as sel:
            sel.register(self._listener, selectors.EVENT_READ)
            sel.register(self._waker_r, selectors.EVENT_READ)
            try:
                while not self._stop.is_set():
                    for key, _ in sel.select():
                        if key.fileobj is self._listener:
                            conn, _ = self._listener.accept()
                            conns.append(conn)
                            sel.register(conn, selectors.EVENT_READ)
                            self.accepted += 1
                        elif key.fileobj is not self._waker_r:
                            conn = key.fileobj  # type: ignore[assignment]
                            if not conn.recv(4096):  # Asterisk gave up: forget it
                                sel.unregister(conn)
                                conn.close()
                                conns.remove(conn)
            finally:
                for conn in conns:
                    conn.close()
                for sock in (self._listener, self._waker_r, self._waker_w):
                    sock.close()


class HeaderAbortClient(_Threaded):
    """Connects to the gate over and over and drops each connection inside the header block:
    right after connecting, mid-line, after some lines, and with a TCP reset. Connection
    refusals (the gate restarting between calls) are counted, not raised."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port
        self.aborted = 0
        self.refused = 0

    def __enter__(self) -> HeaderAbortClient:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        cuts = (0, 7, 40, len(_HEADER))
        attempt = 0
        while not self._stop.is_set():
            cut = cuts[attempt % len(cuts)]
            reset = attempt % 2 == 1
            attempt += 1
            try:
                with socket.create_connection((LOOPBACK, self.port), timeout=2) as sock:
                    sock.sendall(_HEADER[:cut])
                    if reset:  # close with RST instead of FIN
                        linger = struct.pack("ii", 1, 0)
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                self.aborted += 1
            except OSError:
                self.refused += 1
            self._stop.wait(0.005)  # pacing, so the abuse does not starve the real calls
