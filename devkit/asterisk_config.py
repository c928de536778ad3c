"""The configuration files of one devkit Asterisk run, as text.

Only what the tests need is configured; modules that would bind well-known ports (and so
clash between parallel runs) are not loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SNIPPET = Path(__file__).resolve().parent.parent / "dialplan/asterisk/extensions_dialguard.conf"

# Channel drivers and services that listen on fixed ports or talk to outside systems.
_NOLOAD = (
    "chan_iax2.so",
    "chan_skinny.so",
    "chan_mgcp.so",
    "chan_unistim.so",
    "chan_ooh323.so",
    "chan_dahdi.so",
    "chan_mobile.so",
    "chan_motif.so",
    "chan_console.so",
    "chan_alsa.so",
    "chan_oss.so",
    "pbx_dundi.so",
    "res_xmpp.so",
    "res_snmp.so",
    "res_corosync.so",
    "res_hep.so",
    "res_hep_pjsip.so",
    "res_hep_rtcp.so",
    "res_phoneprov.so",
    "res_pjsip_phoneprov_provider.so",
    "res_stir_shaken.so",
    "res_prometheus.so",
    "cdr_radius.so",
    "cel_radius.so",
)


@dataclass(frozen=True)
class AsteriskConfig:
    sip_port: int
    ami_port: int
    ami_username: str
    ami_secret: str
    agi_address: str | None = None
    """``DIALGUARD_AGI``; ``None`` leaves the snippet's default in force."""
    agi_timeout_s: int | None = None
    """``DIALGUARD_TIMEOUT``; ``None`` leaves the snippet's default (3 s)."""
    accountcode: str | None = None
    """Accountcode of the test endpoint, which the snippet uses as the tenant."""

    def files(self) -> dict[str, str]:
        return {
            "asterisk.conf": _ASTERISK,
            "modules.conf": "[modules]\nautoload=yes\n"
            + "".join(f"noload => {name}\n" for name in _NOLOAD),
            "logger.conf": _LOGGER,
            "pjsip.conf": self._pjsip(),
            "manager.conf": self._manager(),
            "extensions.conf": self._extensions(),
            "extensions_dialguard.conf": SNIPPET.read_text(encoding="utf-8"),
        }

    def _pjsip(self) -> str:
        accountcode = f"accountcode={self.accountcode}\n" if self.accountcode else ""
        return _PJSIP.format(sip_port=self.sip_port, accountcode=accountcode)

    def _manager(self) -> str:
        return _MANAGER.format(
            ami_port=self.ami_port, username=self.ami_username, secret=self.ami_secret
        )

    def _extensions(self) -> str:
        globals_ = ""
        if self.agi_address is not None:
            globals_ += f"DIALGUARD_AGI={self.agi_address}\n"
        if self.agi_timeout_s is not None:
            globals_ += f"DIALGUARD_TIMEOUT={self.agi_timeout_s}\n"
        return _EXTENSIONS.format(globals=globals_)


# astdbdir moves the internal database off the read-only rootfs into the per-run /run.
_ASTERISK = """\
[directories]
astrundir => /run/asterisk
astdbdir => /run/asterisk
[options]
verbose = 3
"""

_LOGGER = """\
[general]
dateformat = %F %T.%3q
[logfiles]
messages.log => notice,warning,error,verbose(3)
"""

# trust_id_inbound: take the caller ID and its presentation from P-Asserted-Identity and
# Privacy, as a PBX does for its own phones or a trusted carrier.
_PJSIP = """\
[global]
type = global
user_agent = dialguard-devkit

[transport-udp]
type = transport
protocol = udp
bind = 127.0.0.1:{sip_port}

[sipp]
type = endpoint
transport = transport-udp
context = from-sipp
disallow = all
allow = alaw,ulaw
direct_media = no
rtp_symmetric = yes
trust_id_inbound = yes
{accountcode}aors = sipp

[sipp]
type = aor

[sipp]
type = identify
endpoint = sipp
match = 127.0.0.1
"""

_MANAGER = """\
[general]
enabled = yes
bindaddr = 127.0.0.1
port = {ami_port}

; What docs/operators/asterisk.md tells operators to give dialguard: call events (Hangup,
; MixMonitorStop) and the active-channel list (CoreShowChannels needs "reporting"), nothing
; that acts.
[{username}]
secret = {secret}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = call
write = reporting
eventfilter = Event: Hangup
eventfilter = Event: MixMonitorStop
"""

# from-sipp plays the PBX: every call runs the shipped check, then "the far end" answers,
# runs the shipped dialguard-answered as a callee's channel would (with the opt-out prompt
# when the header X-Dialguard-Optout-Wait asks for it) and echoes the caller's audio back
# for at most a minute. A test call marks itself as
# arriving from the carrier with the header X-Dialguard-Direction: inbound.
_EXTENSIONS = """\
[general]
static = yes
writeprotect = yes

[globals]
{globals}
#include extensions_dialguard.conf

[from-sipp]
exten => _[+0-9].,1,GotoIf($["${{PJSIP_HEADER(read,X-Dialguard-Direction)}}" = "inbound"]?inbound)
 same => n,Gosub(dialguard-outbound,s,1(${{EXTEN}}))
 same => n,Goto(far-end,s,1)
 same => n(inbound),Gosub(dialguard-inbound,s,1(${{EXTEN}}))
 same => n,Goto(far-end,s,1)

[far-end]
exten => s,1,Answer()
 same => n,Set(TIMEOUT(absolute)=60)
 same => n,GotoIf($[${{LEN(${{DIALGUARD_DECISION_ID}})}} = 0]?echo)
 same => n,Set(DIALGUARD_OPTOUT_WAIT=${{PJSIP_HEADER(read,X-Dialguard-Optout-Wait)}})
 same => n,Gosub(dialguard-answered,s,1(${{DIALGUARD_DECISION_ID}}))
 same => n(echo),Echo()
"""
