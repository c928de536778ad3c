"""The shipped Asterisk snippet's contexts hold the extensions their comments promise: an
extension belongs to the last ``[context]`` above it, so a context inserted in the wrong place
silently moves ``T`` (the gate's timeout), ``h`` and ``invalid`` out of the check."""

from __future__ import annotations

import re
from pathlib import Path

ASTERISK = (
    Path(__file__).resolve().parents[2] / "dialplan" / "asterisk" / "extensions_dialguard.conf"
)


def extensions_by_context(text: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    context = ""
    for line in text.splitlines():
        if header := re.match(r"\[([^\]]+)\]", line):
            context = header.group(1)
            found.setdefault(context, set())
        elif exten := re.match(r"exten\s*=>\s*([^,]+),", line):
            found.setdefault(context, set()).add(exten.group(1).strip())
    return found


def test_the_check_keeps_its_timeout_hangup_and_invalid_extensions() -> None:
    contexts = extensions_by_context(ASTERISK.read_text())
    assert contexts["dialguard-check"] == {"s", "invalid", "T", "h"}
    for context in ("dialguard-outbound", "dialguard-inbound", "dialguard-answered"):
        assert contexts[context] == {"s"}, context
    assert contexts["dialguard-optout"] == {"s"}
