"""The devkit Asterisk tuned for load (``bench/pbx_e2e.py``), with a context that skips the gate.

Differences from the test configuration, all for rate and none in the dialplan under test:

- no verbose logging: at the default ``verbose = 3`` every dialplan step of every call is
  written to ``messages.log``, which costs more than the call itself at 100+ calls/s;
- ``maxcalls`` and ``maxload`` explicitly off, and PJSIP's thread pool allowed to grow to
  ``threadpool_max`` threads;
- ``_9.`` in ``from-sipp``: the number after the ``9`` goes straight to the far end, the same
  dialplan minus the ``Gosub`` to the gate. Patterns with a literal first digit sort before
  ``_[+0-9].``, so ``9<number>`` is the baseline and ``<number>`` the gated call.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .asterisk import AsteriskContainer
from .asterisk_config import AsteriskConfig

NO_GATE_PREFIX = "9"

_ASTERISK = """\
[directories]
astrundir => /run/asterisk
astdbdir => /run/asterisk
[options]
verbose = 0
maxcalls = 0
maxload = 0
"""

_LOGGER = """\
[general]
dateformat = %F %T.%3q
[logfiles]
messages.log => warning,error
"""

_SYSTEM = """\
[system]
type = system
threadpool_initial_size = 8
threadpool_auto_increment = 8
threadpool_max_size = {threadpool_max}

"""

_NO_GATE = """\
exten => _{prefix}.,1,GotoIf($["${{PJSIP_HEADER(read,X-Dialguard-Direction)}}" = "inbound"]?inbound)
 same => n,NoOp(bench: no gate for ${{EXTEN:1}})
 same => n,Goto(far-end,s,1)
 same => n(inbound),Goto(far-end,s,1)
"""


@dataclass(frozen=True)
class BenchAsteriskConfig(AsteriskConfig):
    threadpool_max: int = 64

    def files(self) -> dict[str, str]:
        files = super().files()
        files["asterisk.conf"] = _ASTERISK
        files["logger.conf"] = _LOGGER
        files["pjsip.conf"] = (
            _SYSTEM.format(threadpool_max=self.threadpool_max) + files["pjsip.conf"]
        )
        extensions = files["extensions.conf"]
        marker = "[from-sipp]\n"
        if marker not in extensions:
            raise RuntimeError("devkit extensions.conf has no [from-sipp] context to extend")
        files["extensions.conf"] = extensions.replace(
            marker, marker + _NO_GATE.format(prefix=NO_GATE_PREFIX), 1
        )
        return files


def bench_container(accountcode: str, threadpool_max: int = 64) -> AsteriskContainer:
    """A devkit container (not started) whose configuration is :class:`BenchAsteriskConfig`."""
    container = AsteriskContainer(accountcode=accountcode)
    base = {f.name: getattr(container.config, f.name) for f in dataclasses.fields(AsteriskConfig)}
    container.config = BenchAsteriskConfig(**base, threadpool_max=threadpool_max)
    return container
