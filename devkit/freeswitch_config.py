"""The configuration of one devkit FreeSWITCH run, as one XML file.

Modelled on the shipped test config (``../shared/freeswitch/test/conf/freeswitch.xml``): the
same minimal modules, loopback only, no authentication. Two sofia profiles: ``test`` takes the
SIPp calls in context ``default``, which does what the snippet's install notes ask of an
operator (every call into ``dialguard``; ``in<number>`` into ``dialguard_inbound``), and
``carrier`` plays the far end of the bridge: the snippet's ``sofia/gateway/carrier/...`` points
at it, and it answers and echoes the caller's audio back, so a recording holds the caller's
speech; or, while the global ``devkit_callee`` names a SIPp UAS (``host:port``), it passes the
call on to it, so a test can play the callee (hear the notice, press a key). Both profiles
parse P-Asserted-Identity verbatim, as the snippet asks of a carrier's profile (verstat). The
snippet itself is included byte for byte (``X-PRE-PROCESS include``), never copied or edited.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SNIPPET = Path(__file__).resolve().parent.parent / "dialplan/freeswitch/dialguard.xml"
ESL_PASSWORD = "ClueCon"
"""mod_event_socket's inbound password; the port is on 127.0.0.1 and lives as long as a test."""

MODULES = (
    "mod_console", "mod_logfile", "mod_event_socket", "mod_sofia", "mod_loopback",
    "mod_commands", "mod_dptools", "mod_db", "mod_hash", "mod_dialplan_xml", "mod_sndfile",
    "mod_native_file", "mod_tone_stream", "mod_say_en",
)  # fmt: skip


INBOUND_DIDS = ("+12025550143",)
"""Our numbers that answer an allowed inbound call (directory users the snippet's
``bridge user/<DID>`` reaches): the US DID of the in-call verstat tests."""


@dataclass(frozen=True)
class FreeSwitchConfig:
    sip_port: int
    carrier_port: int
    esl_port: int
    rtp_start: int
    rtp_end: int
    tenant: str
    snippet: Path = SNIPPET
    dialguard_socket: str = "127.0.0.1:8084"
    """Initial ``dialguard_socket`` global (tests change it per case with ``global_setvar``)."""
    no_gate_prefix: str = ""
    """Benchmarks: ``<prefix><number>`` goes straight to ``dialguard_allowed`` (the same dialplan
    minus the gate), with the variables the gate's ALLOW of a recorded call sets, set statically:
    the notice (``no_gate_notice``) the callee leg plays before the bridge and the recording on
    answer (into ``$${recordings_dir}``, thrown away with the run). So both paths do the same
    media work and the difference is the gate's own. Empty: no such shortcut."""
    no_gate_notice: str = "tone_stream://%(1,0,1000)"
    """The notice sound of the no-gate path: the gate's ``esl.notice_sound`` in the same run."""
    bare_prefix: str = ""
    """Benchmarks: ``<prefix><number>`` goes to ``dialguard_allowed`` with the verdict only (no
    notice, no recording): what the PBX costs without any of the gate's work. Empty: none."""
    log_level: str = "info"

    def xml(self) -> str:
        modules = "\n".join(f'        <load module="{m}"/>' for m in MODULES)
        return _TEMPLATE.format(
            modules=modules,
            sip_port=self.sip_port,
            carrier_port=self.carrier_port,
            esl_port=self.esl_port,
            esl_password=ESL_PASSWORD,
            rtp_start=self.rtp_start,
            rtp_end=self.rtp_end,
            tenant=self.tenant,
            snippet=self.snippet,
            socket=self.dialguard_socket,
            log_level=self.log_level,
            log_levels=",".join(_LEVELS[_LEVELS.index(self.log_level) :]),
            no_gate=self._shortcuts(),
            users="".join(f'<user id="{did}"/>' for did in INBOUND_DIDS),
        )

    def _shortcuts(self) -> str:
        shortcuts = ""
        if self.no_gate_prefix:
            shortcuts += _NO_GATE.format(
                name="no-gate", prefix=self.no_gate_prefix, media=_ALLOW_MEDIA
            ).replace("{notice}", self.no_gate_notice)
        if self.bare_prefix:
            shortcuts += _NO_GATE.format(name="bare", prefix=self.bare_prefix, media="")
        return shortcuts


def _profile(name: str, port: str, context: str, extra: str = "") -> str:
    return f"""
        <profile name="{name}">
          <aliases/>
          <gateways>{extra}</gateways>
          <domains/>
          <settings>
            <param name="context" value="{context}"/>
            <param name="dialplan" value="XML"/>
            <param name="sip-ip" value="127.0.0.1"/>
            <param name="sip-port" value="{port}"/>
            <param name="rtp-ip" value="127.0.0.1"/>
            <param name="ext-sip-ip" value="127.0.0.1"/>
            <param name="ext-rtp-ip" value="127.0.0.1"/>
            <param name="auth-calls" value="false"/>
            <param name="inbound-codec-prefs" value="PCMA,PCMU"/>
            <param name="outbound-codec-prefs" value="PCMA,PCMU"/>
            <param name="rtp-timer-name" value="soft"/>
            <param name="dtmf-type" value="rfc2833"/>
            <param name="disable-register" value="true"/>
            <param name="manage-presence" value="false"/>
            <param name="caller-id-type" value="pid"/>
            <param name="p-asserted-id-parse" value="verbatim"/>
          </settings>
        </profile>"""


_GATEWAY = """
            <gateway name="carrier">
              <param name="proxy" value="127.0.0.1:{carrier_port}"/>
              <param name="register" value="false"/>
              <param name="caller-id-in-from" value="true"/>
            </gateway>"""

_LEVELS = ("debug", "info", "notice", "warning", "err", "crit", "alert")
_NO_GATE = """
      <extension name="{name}">
        <condition field="destination_number" expression="^{prefix}([0-9]+)$">{media}
          <action application="set" data="dialguard_verdict=ALLOW"/>
          <action application="transfer" data="$1 XML dialguard_allowed"/>
        </condition>
      </extension>"""

_ALLOW_MEDIA = (
    """
          <action application="set" data="dialguard_reason=allow"/>
          <action application="set" data="dialguard_decision_id=no-gate-${uuid}"/>
          <action application="set" data="dialguard_recording=no-gate-${uuid}"/>
          <action application="set" data="group_confirm_key=exec"/>
          <action application="set" data="group_confirm_file=playback {notice}"/>
          <action application="set" data="execute_on_answer_dialguard=record_session """
    """$${recordings_dir}/no-gate-${uuid}.wav"/>"""
)
"""What the gate's ALLOW of a recorded call with a notice sets (``EslCall._apply``), as ``set``
actions; ``{notice}`` is replaced with the sound (it holds ``%(…)``)."""

_TEMPLATE = (
    """<?xml version="1.0"?>
<document type="freeswitch/xml">
  <X-PRE-PROCESS cmd="set" data="dialguard_socket={socket}"/>
  <X-PRE-PROCESS cmd="set" data="domain=127.0.0.1"/>
  <section name="configuration" description="Various Configuration">
    <configuration name="switch.conf" description="Core Configuration">
      <settings>
        <param name="colorize-console" value="false"/>
        <param name="max-sessions" value="2000"/>
        <param name="sessions-per-second" value="1000"/>
        <param name="loglevel" value="{log_level}"/>
        <param name="rtp-start-port" value="{rtp_start}"/>
        <param name="rtp-end-port" value="{rtp_end}"/>
        <param name="dump-cores" value="no"/>
      </settings>
    </configuration>
    <configuration name="modules.conf" description="Modules">
      <modules>
{modules}
      </modules>
    </configuration>
    <configuration name="db.conf" description="mod_db"><settings/></configuration>
    <configuration name="console.conf" description="Console Logger">
      <mappings><map name="all" value="console,info,notice,warning,err,crit,alert"/></mappings>
      <settings>
        <param name="colorize" value="false"/><param name="loglevel" value="warning"/>
      </settings>
    </configuration>
    <configuration name="logfile.conf" description="File Logging">
      <settings><param name="rotate-on-hup" value="true"/></settings>
      <profiles>
        <profile name="default">
          <settings><param name="rollover" value="104857600"/></settings>
          <mappings><map name="all" value="{log_levels}"/></mappings>
        </profile>
      </profiles>
    </configuration>
    <configuration name="event_socket.conf" description="Socket Client">
      <settings>
        <param name="nat-map" value="false"/>
        <param name="listen-ip" value="127.0.0.1"/>
        <param name="listen-port" value="{esl_port}"/>
        <param name="password" value="{esl_password}"/>
      </settings>
    </configuration>
    <configuration name="sofia.conf" description="sofia Endpoint">
      <global_settings><param name="log-level" value="0"/></global_settings>
      <profiles>"""
    + _profile("test", "{sip_port}", "default", _GATEWAY)
    + _profile("carrier", "{carrier_port}", "carrier")
    + """
      </profiles>
    </configuration>
  </section>
  <section name="dialplan" description="Regex/XML Dialplan">
    <context name="default">{no_gate}
      <!-- A call from a carrier to our number <n> (SIPp dials in<n>): screened inbound. -->
      <extension name="inbound">
        <condition field="destination_number" expression="^in(.+)$">
          <action application="set" data="dialguard_tenant={tenant}"/>
          <action application="transfer" data="$1 XML dialguard_inbound"/>
        </condition>
      </extension>
      <!-- What an operator's outbound extension does: tenant, then into the gate's context. -->
      <extension name="outbound">
        <condition field="destination_number" expression="^(.+)$">
          <action application="set" data="dialguard_tenant={tenant}"/>
          <action application="transfer" data="$1 XML dialguard"/>
        </condition>
      </extension>
    </context>
    <context name="carrier">
      <!-- A test that plays the callee itself (a SIPp UAS) names it in the global
           devkit_callee (host:port): the far end passes the call on to it. -->
      <extension name="callee">
        <condition field="${{devkit_callee}}" expression="^(.+)$">
          <action application="bridge" data="sofia/carrier/${{destination_number}}@$1"/>
        </condition>
      </extension>
      <!-- Else the far end of the bridge: answers and sends the caller's audio back. -->
      <extension name="echo">
        <condition field="destination_number" expression="^.*$">
          <action application="answer"/>
          <action application="echo"/>
        </condition>
      </extension>
    </context>
    <X-PRE-PROCESS cmd="include" data="{snippet}"/>
  </section>
  <section name="directory" description="User Directory">
    <domain name="127.0.0.1">
      <!-- The snippet's dialguard_allowed_inbound bridges user/<DID>: our DIDs' "agents" are
           the carrier's far end, so an allowed inbound call is answered. -->
      <params>
        <param name="dial-string" value="sofia/gateway/carrier/${{dialed_user}}"/>
      </params>
      <groups><group name="default"><users>{users}</users></group></groups>
    </domain>
  </section>
</document>
"""
)
