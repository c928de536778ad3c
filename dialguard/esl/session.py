"""One outbound-socket connection: one call, from the first command to CHANNEL_HANGUP_COMPLETE.

The gate never sends ``connect``. After ``connect`` FreeSWITCH parks the channel, and the park
loop of a channel without media sleeps 20 ms before it takes the commands queued for it
(``switch_ivr_park``), so every verdict sent as ``sendmsg`` waited for that tick. ``api``
commands run at once in mod_event_socket's listener thread (the snippet's ``full``), and a
channel transferred or hung up that way is no longer ready: ``socket_function`` stops waiting
for ``connect`` and never parks it.

So three round trips before the verdict is acted on. First one write: ``linger`` (FreeSWITCH
answers no first command but ``connect``) and ``getvar uuid``. Then ``api uuid_dump <uuid>``
(the channel data: the headers ``connect`` would have replied with) and, in the same write, the
subscription: a ``filter`` on ``Unique-ID`` and one on ``Other-Leg-Unique-ID`` (both our uuid:
our channel's events and those of the callee leg it bridges to) and ``event plain
CHANNEL_HANGUP_COMPLETE RECORD_STOP DTMF``. The decision starts as soon as the dump is in. Then
the verdict in one write: ``api uuid_setvar_multi`` (reason, decision id, recording, the verdict
last) and ``api uuid_transfer`` or ``api uuid_kill``. Then we linger until our
CHANNEL_HANGUP_COMPLETE (RECORD_STOP comes before it) and close, which lets FreeSWITCH release
the channel. Replies (``command/reply`` and ``api/response`` alike) come back in command order,
so the oldest pending command takes the next reply.

A recording starts when the call is answered (``execute_on_answer_dialguard``), or, for a
channel that was already answered, when it is bridged (``bridge_pre_execute_aleg_*``): the file
holds the conversation, never the ringing. When the pack requires the recording notice, the
verdict also sets ``group_confirm_key=exec`` and ``group_confirm_file=playback
<esl.notice_sound>``: ``bridge`` has the callee leg play it once the callee answers and only then
bridges and answers our channel, so the recording starts after the notice. The callee leg's
CHANNEL_EXECUTE_COMPLETE of that playback says whether it played; the gate writes it beside the
recording (``dg-<id>.notice``, read by the ingest) before handing the file over.

While we linger, the opt-out key (``esl.optout_key``) in a DTMF event of the callee leg of an
allowed outbound call runs the callee's keypad opt-out, then the confirmation and a hangup on
that leg (``sendmsg <its uuid>``).

A reader task owns the read side: it resolves replies, keeps the events we need and notices a
``text/disconnect-notice`` or EOF at any moment. When the peer goes during the decision, the
decision (stored by the decision maker) is kept and nothing more is sent. A broken frame, a
refused or unanswered command ends the connection after a blind ``uuid_kill`` (a ``sendmsg``
``hangup`` before the uuid is known, which the channel takes once the closed socket lets it
park); a gate that goes away without a verdict leaves the call to the snippet's ``hangup``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ..gate.budget import DecisionGate
from ..gate.verdict import GATE_BAD_REQUEST, INSTANT_VALUE, GateVerdict
from ..logs import bind_call
from ..policy.model import Direction, Verdict
from ..recording.notice import write_notice
from ..settings.esl import EslSettings
from . import commands as cmd
from .channel import Channel, ChannelDataError, channel_from
from .parser import (
    ApiResponse,
    CommandReply,
    EslParser,
    EslProtocolError,
    Event,
    Frame,
    Limits,
    Reply,
    parse_dump,
)
from .recording import RecordingSink, UnsafeRecordingPath, event_time, is_ours, recording_file

log = logging.getLogger("dialguard.esl")

ANSWERED = "Caller-Channel-Answered-Time"
FILE_PLAYED = "FILE PLAYED"
"""``playback``'s ``Application-Response`` when the sound played (else ``FILE NOT FOUND``, …)."""

Alert = Callable[..., None]
"""``alert(kind, message, **fields)``: counted per kind, the first of each kind logged."""
OptOut = Callable[[str], Awaitable[str]]
"""``optout(decision_id)``: the callee's keypad opt-out (:class:`~dialguard.gate.optout.
KeypadOptOut`); :data:`OPTED_OUT` once stored, else the failure code. Never raises."""
OPTED_OUT = "callee.optout"
Timing = Callable[[str, float], None]
"""``timing(phase, seconds)``: how long after the connection was accepted the conversation
reached ``phase``: ``uuid`` (known), ``dump`` (channel data in), ``decided`` (decision stored),
``sent`` (verdict written), ``acted`` (FreeSWITCH answered the verdict's commands)."""


class PeerGone(Exception):
    """FreeSWITCH closed the connection (or said it would) before we were done."""


class CommandRefused(Exception):
    """FreeSWITCH answered ``-ERR``."""


class EslCall:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        settings: EslSettings,
        gate: DecisionGate,
        sink: RecordingSink | None,
        alert: Alert,
        optout: OptOut | None = None,
        timing: Timing | None = None,
    ) -> None:
        self._accepted = time.perf_counter()
        self._timing = timing
        self._reader = reader
        self._writer = writer
        self._settings = settings
        self._gate = gate
        self._sink = sink
        self._alert = alert
        self._limits = Limits(
            settings.max_header_bytes, settings.max_headers, settings.max_body_bytes
        )
        self._parser = EslParser(self._limits)
        self._pending: deque[asyncio.Future[Reply]] = deque()
        self._sent: list[asyncio.Future[Reply]] = []
        self._down = asyncio.Event()
        """The channel hung up, or the connection ended."""
        self._finished = asyncio.Event()
        """CHANNEL_HANGUP_COMPLETE arrived, or the connection ended."""
        self._closed = False
        self._failure: EslProtocolError | None = None
        self._uniqueid = ""
        self._own_uuid = ""
        """Our channel's uuid (``getvar uuid``): what the commands and the filters name."""
        self._verdict: GateVerdict | None = None
        self._recording = ""
        self._record_stop: Event | None = None
        self._hangup_complete: Event | None = None
        self._cause = cmd.OUTGOING_CALL_BARRED
        self._optout = optout if settings.optout_key else None
        self._optout_task: asyncio.Task[None] | None = None
        """Started by the first opt-out key after an ALLOW; at most one per call."""
        self._allowed = False
        self._outbound = False
        self._notice = ""
        """The notice sound the callee leg plays first, when the pack requires one."""
        self._notice_played: bool | None = None
        """From the callee leg's CHANNEL_EXECUTE_COMPLETE of that playback; None: not seen."""

    async def run(self) -> None:
        reader_task = asyncio.create_task(self._read_loop())
        try:
            await self._converse()
        except EslProtocolError as exc:
            await self._reject(f"protocol.{exc.kind}", "bad frame from FreeSWITCH", str(exc))
        except CommandRefused as exc:
            await self._reject("command.refused", "FreeSWITCH refused a command", str(exc))
        except TimeoutError:
            await self._reject("command.timeout", "no reply from FreeSWITCH in time", "")
        except cmd.UnsafeArgument as exc:
            await self._reject("command.unsafe", "refused to send an unsafe argument", str(exc))
        except ChannelDataError as exc:
            await self._reject("channel.bad-data", "unusable channel data", str(exc))
        except (PeerGone, ConnectionError) as exc:
            log.debug("FreeSWITCH went away: %r", exc, extra={"fields": self._fields()})
        finally:
            reader_task.cancel()
            tasks: set[asyncio.Task[None]] = {reader_task}
            if self._optout_task is not None:
                tasks.add(self._optout_task)  # bounded: the op and two commands
            await asyncio.wait(tasks)
            for future in self._sent:  # replies to commands we no longer wait for
                if future.done() and not future.cancelled():
                    future.exception()
                future.cancel()

    async def _converse(self) -> None:
        [getvar] = self._send(cmd.GETVAR_UUID, unanswered=cmd.LINGER)
        uuid = (await self._reply(getvar, cmd.GETVAR_UUID, value=True)).reply_text
        if not cmd.CHANNEL_UUID.fullmatch(uuid):
            raise ChannelDataError("no usable uuid: the channel cannot be named in a command")
        self._uniqueid = self._own_uuid = uuid
        self._reached("uuid")
        bind_call(uuid)
        subscription = cmd.subscribe(uuid)
        dump, *setup = self._send(cmd.dump(uuid), *subscription)
        dumped = await self._reply(dump, cmd.dump(uuid))
        self._reached("dump")
        try:
            channel: Channel | None = channel_from(parse_dump(dumped.reply_text, self._limits))
        except ChannelDataError as exc:
            self._alert("channel.bad-data", "unusable channel data, call denied", error=str(exc))
            channel = None
        if channel is None:
            self._verdict = GateVerdict.deny(GATE_BAD_REQUEST)
        else:
            if channel.attempt.direction is Direction.INBOUND:
                self._cause = cmd.INCOMING_CALL_BARRED
            self._outbound = channel.attempt.direction is Direction.OUTBOUND
            self._verdict = await self._gate.decide(channel.attempt, channel.uniqueid)
            self._reached("decided")
        for future, command in zip(setup, subscription, strict=True):
            await self._reply(future, command)
        self._raise_failure()
        allowed = False
        if self._down.is_set():
            log.info(
                "call ended during the decision; decision kept", extra={"fields": self._fields()}
            )
        else:
            allowed = await self._apply(self._verdict, channel)
        await self._linger_out(allowed)

    async def _apply(self, verdict: GateVerdict, channel: Channel | None) -> bool:
        """The verdict in one write: every variable in one ``uuid_setvar_multi`` (the verdict
        last, so a half-applied one never reads ALLOW), then ``uuid_transfer`` or ``uuid_kill``.
        True when the call was transferred (it may now last hours)."""
        uuid = self._own_uuid
        allow = verdict.verdict is Verdict.ALLOW and channel is not None
        variables = [(cmd.REASON, verdict.reason), (cmd.DECISION_ID, verdict.decision_id)]
        subscriptions: list[bytes] = []
        if allow and channel is not None:
            directory = self._settings.recordings_dir
            if verdict.recording:
                self._recording = verdict.recording
                variables.append((cmd.RECORDING, verdict.recording))
                if verdict.notice:  # required (it names agi.notice_prompt; FreeSWITCH plays ours)
                    self._notice = self._settings.notice_sound
                    variables.extend(cmd.notice_confirm(self._notice))
                    subscriptions.append(cmd.SUBSCRIBE_NOTICE)
                if channel.answered:
                    variables.extend(cmd.record_before_bridge(directory, verdict.recording))
                else:
                    variables.append(cmd.record_on_answer(directory, verdict.recording))
            act = cmd.transfer(uuid, channel.attempt.callee, self._allowed_context(channel))
        else:
            if verdict.next_allowed:
                variables.append((cmd.NEXT_ALLOWED, verdict.next_allowed))
            act = cmd.kill(uuid, self._cause)
        variables.append((cmd.VERDICT, cmd.ALLOW if allow else cmd.DENY))
        patterns = {cmd.NEXT_ALLOWED: INSTANT_VALUE}
        batch = (*subscriptions, cmd.set_variables(uuid, *variables, allowed=patterns), act)
        # From here the callee's key counts: its DTMF event may come before the reply to the
        # transfer is handled (the reader dispatches both in one go).
        self._allowed = allow
        try:
            futures = self._send(*batch)
            self._reached("sent")
            for future, command in zip(futures, batch, strict=True):
                await self._reply(future, command)
            self._reached("acted")
        except CommandRefused:
            if not self._down.is_set():
                raise
            log.info(
                "call ended as the verdict was sent; decision kept",
                extra={"fields": self._fields()},
            )
            return False
        log.info("verdict sent", extra={"fields": self._fields()})
        return allow

    def _reached(self, phase: str) -> None:
        if self._timing is not None:
            self._timing(phase, time.perf_counter() - self._accepted)

    def _allowed_context(self, channel: Channel) -> str:
        if channel.attempt.direction is Direction.INBOUND:
            return self._settings.allowed_inbound_context
        return self._settings.allowed_context

    async def _opt_out(self, optout: OptOut, decision_id: str, leg: str) -> None:
        """The callee pressed the opt-out key on ``leg``: store it, confirm to the callee only if
        stored, hang up their leg (which ends the bridge)."""
        reason = await optout(decision_id)
        try:
            if reason == OPTED_OUT:
                await self._command(cmd.playback(self._settings.optout_confirm, leg))
            else:
                self._alert(
                    "optout.not-stored", "keypad opt-out NOT stored", why=reason, **self._fields()
                )
            await self._command(cmd.hangup(cmd.NORMAL_CLEARING, leg))
        except (PeerGone, ConnectionError, TimeoutError, CommandRefused) as exc:
            log.debug("could not confirm the opt-out: %r", exc, extra={"fields": self._fields()})

    async def _linger_out(self, allowed: bool) -> None:
        """Wait for the call to end, then for CHANNEL_HANGUP_COMPLETE, then hand over the
        recording. An allowed call may last hours: only its tail is bounded. After a DENY (or a
        call that ended during the decision) the whole wait is: the hangup was sent, so a peer
        still silent after ``linger_timeout_ms`` is not going to say more, and keeping its
        socket would let a quiet peer hold connections forever."""
        if allowed:
            await self._down.wait()
        try:
            async with asyncio.timeout(self._settings.linger_timeout_ms / 1000):
                await self._finished.wait()
        except TimeoutError:
            self._alert(
                "event.no-hangup-complete",
                "no CHANNEL_HANGUP_COMPLETE in time, closing",
                **self._fields(),
            )
        await self._deliver_recording()
        self._raise_failure()

    async def _deliver_recording(self) -> None:
        """Hand the finished file to the sink, if it is one the gate may take (see
        :func:`~dialguard.esl.recording.recording_file`); anything else is logged and left."""
        if not self._recording or self._verdict is None or self._sink is None:
            return
        stop = self._record_stop
        done = self._hangup_complete
        if stop is None and done is not None and not event_time(done, ANSWERED):
            return  # never answered: a recording started on answer never started
        if stop is None:
            self._alert(
                "recording.no-stop", "recording started but no RECORD_STOP", **self._fields()
            )
            return
        started = event_time(done, ANSWERED)
        ended = event_time(done, "Caller-Channel-Hangup-Time") or event_time(
            stop, "Event-Date-Timestamp"
        )
        named = stop.get("Record-File-Path")
        try:
            path = await asyncio.to_thread(recording_file, named, self._settings.recordings_dir)
        except UnsafeRecordingPath as exc:
            log.warning(
                "RECORD_STOP names a file the gate does not take; left where it is",
                extra={"fields": {"path": named[:300], "why": str(exc), **self._fields()}},
            )
            return
        if self._notice:
            await self._report_notice(path)
        try:
            await self._sink.recording_finished(
                self._verdict.decision_id, self._uniqueid, str(path), started, ended
            )
        except Exception as exc:  # the vault's failure must not take the server with it
            self._alert("recording.sink-error", "recording sink failed", error=repr(exc)[:300])

    async def _report_notice(self, recording: Path) -> None:
        """Beside the recording, for the ingest: whether the callee leg played the notice. A
        notice not seen to play is reported missing, and the vault entry is flagged."""
        if not self._notice_played:
            self._alert("notice.missing", "recording notice did not play", **self._fields())
        try:
            await asyncio.to_thread(
                write_notice, recording, bool(self._notice_played), self._notice
            )
        except OSError as exc:
            self._alert("notice.report-error", "cannot write the notice report", error=str(exc))

    def _send(self, *frames: bytes, unanswered: bytes = b"") -> list[asyncio.Future[Reply]]:
        """Write ``unanswered`` (a command FreeSWITCH gives no reply) and ``frames`` at once; one
        future per frame, resolved by its reply."""
        self._raise_failure()
        if self._closed:
            raise PeerGone("connection closed")
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Reply]] = [loop.create_future() for _ in frames]
        self._pending.extend(futures)
        self._sent.extend(futures)
        self._writer.write(unanswered + b"".join(frames))
        return futures

    async def _command(self, data: bytes) -> Reply:
        """One command on its own (the keypad opt-out's playback and hangup)."""
        [future] = self._send(data)
        return await self._reply(future, data)

    async def _reply(
        self, future: asyncio.Future[Reply], data: bytes, *, value: bool = False
    ) -> Reply:
        """The reply to ``data``; refused unless it says ``+OK`` (an ``api/response`` unless
        it says ``-ERR``), or, with ``value``, unless it is a ``command/reply`` at all."""
        try:
            async with asyncio.timeout(self._settings.command_timeout_ms / 1000):
                await self._writer.drain()
                reply = await future
        finally:
            future.cancel()  # no-op once resolved; a late reply then finds it cancelled
        if not (isinstance(reply, CommandReply) if value else reply.ok):
            name = " ".join(data.split(b"\n", 1)[0].decode("ascii").split()[:2])
            raise CommandRefused(f"{name}: {reply.reply_text[:120]}")
        return reply

    async def _reject(self, kind: str, message: str, error: str) -> None:
        """Out of step with the peer: alert, send ``hangup`` without awaiting its reply."""
        self._alert(kind, f"{message}, call rejected", error=error[:300], **self._fields())
        if self._closed:
            return
        own = self._own_uuid
        with contextlib.suppress(ConnectionError, TimeoutError):
            async with asyncio.timeout(self._settings.command_timeout_ms / 1000):
                self._writer.write(cmd.kill(own, self._cause) if own else cmd.hangup(self._cause))
                await self._writer.drain()

    async def _read_loop(self) -> None:
        try:
            while data := await self._reader.read(65536):
                self._parser.feed(data)
                for frame in self._parser.frames():
                    self._dispatch(frame)
            self._closed = True
        except EslProtocolError as exc:
            self._failure = exc  # the socket is still open: the blind hangup can be sent
        except ConnectionError:
            self._closed = True
        finally:
            self._end_of_input()

    def _dispatch(self, frame: Frame) -> None:
        if isinstance(frame, CommandReply | ApiResponse):
            while self._pending and self._pending[0].done():
                self._pending.popleft()  # its command timed out; the call is ending anyway
            if not self._pending:
                raise EslProtocolError("unexpected-reply", "a reply with no command pending")
            self._pending.popleft().set_result(frame)
        elif isinstance(frame, Event):
            self._on_event(frame)
        else:
            self._down.set()
            if not frame.lingering:
                self._closed = True
                self._end_of_input()

    def _on_event(self, event: Event) -> None:
        if self._own_uuid and event.get("Unique-ID") != self._own_uuid:
            if event.get(cmd.OTHER_LEG) == self._own_uuid:
                self._on_callee_leg(event)
        elif event.name == "CHANNEL_HANGUP":
            self._down.set()
        elif event.name == "CHANNEL_HANGUP_COMPLETE":
            self._hangup_complete = event
            self._down.set()
            self._finished.set()
        elif event.name == "RECORD_STOP" and self._recording and is_ours(event, self._recording):
            self._record_stop = event

    def _on_callee_leg(self, event: Event) -> None:
        """An event of the leg our channel bridged to: the callee's keys, the notice's end."""
        if event.name == "DTMF":
            self._on_dtmf(event)
        elif event.name == cmd.NOTICE_EVENT and self._is_notice(event):
            self._notice_played = event.get("Application-Response") == FILE_PLAYED

    def _is_notice(self, event: Event) -> bool:
        """The callee leg's first ``playback`` of the notice sound (as FreeSWITCH expanded it,
        when the setting names a ``$${global}``)."""
        if not self._notice or self._notice_played is not None:
            return False
        if event.get("Application") != "playback":
            return False
        return "$" in self._notice or event.get("Application-Data") == self._notice

    def _on_dtmf(self, event: Event) -> None:
        """Only the callee leg of an outbound call, only after the ALLOW, only once."""
        verdict, optout = self._verdict, self._optout
        if optout is None or verdict is None or not self._allowed or self._optout_task:
            return
        if not self._outbound or self._down.is_set():
            return
        leg = event.get("Unique-ID")
        if event.get("DTMF-Digit") != self._settings.optout_key or not cmd.CHANNEL_UUID.fullmatch(
            leg
        ):
            return
        self._optout_task = asyncio.create_task(self._opt_out(optout, verdict.decision_id, leg))

    def _end_of_input(self) -> None:
        """Nothing more will be read: wake every waiter."""
        self._down.set()
        self._finished.set()
        while self._pending:
            future = self._pending.popleft()
            if not future.done():
                future.set_exception(self._failure or PeerGone("connection closed"))

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _fields(self) -> dict[str, Any]:
        verdict = self._verdict
        if verdict is None:
            return {"uniqueid": self._uniqueid}
        return {
            "uniqueid": self._uniqueid,
            "verdict": verdict.verdict.value,
            "reason": verdict.reason,
            "decision_id": verdict.decision_id,
        }
