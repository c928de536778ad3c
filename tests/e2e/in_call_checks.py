"""What the in-call tests of both PBXs share: an RTP listener for the callee's audio, and the
checks of a keypad opt-out's decisions and audit entry."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator

from devkit.gate import Gate
from dialguard.ops.dnc import KEYPAD_SOURCE

RTP_HEADER = 12


@contextlib.contextmanager
def rtp_listener() -> Iterator[tuple[int, list[float]]]:
    """A UDP port the call's SDP offers for the PBX's audio; yields it and the wall-clock
    arrival times of the RTP packets that reach it (until the PBX's symmetric RTP follows the
    caller's own audio elsewhere)."""
    arrivals: list[float] = []
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def receive() -> None:
        while not stop.is_set():
            try:
                packet = sock.recv(2048)
            except TimeoutError:
                continue
            if len(packet) > RTP_HEADER and packet[0] >> 6 == 2:  # RTP version 2
                arrivals.append(time.time())

    thread = threading.Thread(target=receive, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1], arrivals
    finally:
        stop.set()
        thread.join()
        sock.close()


def assert_keypad_optout(gate: Gate, callee: str, tenant: str) -> None:
    """The callee's first call was allowed, the next one denied ``callee.dnc``, and one audited
    ``dnc.optout`` from the keypad names the allowed call's decision and never the number."""
    allowed, denied = gate.decisions(callee=callee)[::-1]
    assert allowed["verdict"] == "allow", allowed
    assert (denied["verdict"], denied["reasons"][0]["code"]) == ("deny", "callee.dnc"), denied
    entries = json.loads(gate.cli("audit", "tail", "-n", "50", "--json"))
    optouts = [e for e in entries if e["action"] == "dnc.optout"]
    assert len(optouts) == 1, entries
    detail = optouts[0]["detail"]
    assert detail["channel"] == KEYPAD_SOURCE, detail
    assert detail["decision_id"] == allowed["decision_id"], detail
    assert detail["after"]["source"] == KEYPAD_SOURCE, detail
    assert detail["after"]["tenant"] == tenant, detail
    assert callee[-11:] not in json.dumps(optouts[0]), optouts[0]
