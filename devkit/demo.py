"""The README's run command (``./dev demo``): dialguard deciding real calls through a PBX.

    .venv/bin/python -m devkit.demo [--pbx asterisk|freeswitch] [--keep]

Boots the devkit Asterisk (the cached Debian sid rootfs; built once if missing) or, with
``--pbx freeswitch``, FreeSWITCH 1.11.1 with the shipped ``dialguard.xml``; seeds a fresh
SQLite store through the ``dialguard`` CLI with :data:`DEMO`, runs ``dialguard serve`` with its
clock frozen by ``DIALGUARD_NOW`` (so the verdicts are the same on every run, whatever the time
of day), places one SIPp call per row of :data:`DEMO`, and prints a table: the call, what SIP
answered, and the decision dialguard recorded for it with every reason. Then everything stops.

Exit status 0 when every call came out as :data:`DEMO` says; 1 with the failing rows and the
logs when one did not; 1 with a one-line cause when Asterisk, SIPp or the gate could not run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from dialguard.numbers import InvalidNumber, normalize

from .asterisk import AsteriskContainer, AsteriskError
from .cases import SCENARIOS_DIR
from .freeswitch import FreeSwitch, FreeSwitchError
from .gate import Gate, GateError
from .net import free_port
from .rootfs import RootfsError, is_complete, rootfs_path
from .sipp import SippError, SippResult, run_scenario


@dataclass(frozen=True)
class DemoCall:
    title: str
    caller: str
    callee: str
    scenario: str
    """Folder in ``sipp-scenarios/``: ``allowed`` (answered, 3 s of G.711 audio), ``dnc`` (a
    plain call that expects 403) or ``hidden_callerid`` (``Privacy: id``)."""
    sip: int
    verdict: str
    """``allow``, ``deny``, or ``none`` when the dialplan answers without asking the gate."""
    reason: str | None = None
    now: str = "2026-11-25T10:00:00+08:00"  # a Wednesday, 10:00 in Beijing: a working hour


@dataclass(frozen=True)
class DemoData:
    tenant: str
    numbers: tuple[tuple[str, str], ...]
    """(access number, filed purpose) registered to the tenant, outbound enabled."""
    consents: tuple[tuple[str, str], ...]
    """(callee, evidence) consenting to ``callback`` calls from the tenant."""
    dnc: tuple[tuple[str, str], ...]
    """(callee, reason) on the tenant's do-not-call list."""
    calls: tuple[DemoCall, ...]


# Every callee is called once, so no call counts towards another's frequency cap.
DEMO = DemoData(
    tenant="acme",
    numbers=(("010-6234-5678", "callback"),),
    consents=(
        ("138 0013 8000", "crm-ticket-4711"),
        ("139 0013 9000", "crm-ticket-4712"),
        ("137 0013 7000", "crm-ticket-4713"),
        ("135 0013 5000", "crm-ticket-4715"),
        ("133 0013 3000", "crm-ticket-4717"),
    ),
    dnc=(("139 0013 9000", "asked not to be called again on 2026-11-20"),),
    calls=(
        DemoCall(
            "allowed callback", caller="01062345678", callee="13800138000",
            scenario="allowed", sip=200, verdict="allow",
        ),
        DemoCall(
            "callee on the DNC list", caller="01062345678", callee="13900139000",
            scenario="dnc", sip=403, verdict="deny", reason="callee.dnc",
        ),
        DemoCall(
            "caller ID not registered", caller="01099998888", callee="13500135000",
            scenario="dnc", sip=403, verdict="deny", reason="callerid.unregistered",
        ),
        DemoCall(
            "caller ID hidden (Privacy: id)", caller="01062345678", callee="13300133000",
            scenario="hidden_callerid", sip=403, verdict="deny", reason="callerid.hidden",
        ),
        DemoCall(
            "no consent on file", caller="01062345678", callee="13600136000",
            scenario="dnc", sip=403, verdict="deny", reason="consent.missing",
        ),
        DemoCall(
            "emergency number (police)", caller="01062345678", callee="110",
            scenario="allowed", sip=200, verdict="none",
        ),
        DemoCall(
            "quiet hours (22:30 in Beijing)", caller="01062345678", callee="13700137000",
            scenario="dnc", sip=403, verdict="deny", reason="time.quiet_hours",
            now="2026-11-25T22:30:00+08:00",
        ),
    ),
)  # fmt: skip


CALL_TIMEOUT_S = 30.0
_SIP_PHRASES = {200: "answered", 403: "Forbidden", 480: "Unavailable", 503: "Unavailable"}


@dataclass(frozen=True)
class Outcome:
    call: DemoCall
    sip: SippResult
    decision: dict[str, Any] | None

    @property
    def sip_code(self) -> int | None:
        codes = self.sip.final_codes
        return codes[0] if len(codes) == 1 else None

    def problems(self) -> list[str]:
        found = []
        if self.sip_code != self.call.sip:
            found.append(f"SIP {self.sip_code}, expected {self.call.sip}")
        if self.call.verdict == "none":
            if self.decision is not None:
                found.append("the gate recorded a decision for a call it should not see")
            return found
        if self.decision is None:
            found.append("no decision recorded")
            return found
        if self.decision.get("verdict") != self.call.verdict:
            found.append(f"decision {self.decision.get('verdict')}, expected {self.call.verdict}")
        codes = [reason["code"] for reason in self.decision.get("reasons", [])]
        if self.call.reason is not None and codes[:1] != [self.call.reason]:
            found.append(f"reasons {codes}, expected {self.call.reason} first")
        return found


def seed(gate: Gate, data: DemoData) -> None:
    """Through the CLI, at the clock of the first call: consents given "now" are in force."""
    gate.now = data.calls[0].now
    gate.init()
    gate.cli("tenants", "add", data.tenant)
    for number, purpose in data.numbers:
        gate.add_number(number, tenant=data.tenant, purpose=purpose, number_type="call-centre")
    for callee, evidence in data.consents:
        gate.add_consent(callee, tenant=data.tenant, purpose="callback", evidence=evidence)
    for callee, reason in data.dnc:
        gate.add_dnc(callee, tenant=data.tenant, reason=reason)


@contextmanager
def _serving(gate: Gate, now: str) -> Iterator[None]:
    gate.now = now
    with gate:
        yield


def place_calls(pbx: Any, gate: Gate, data: DemoData, work: Path) -> list[Outcome]:
    """One call per row, grouped by frozen clock (one ``serve`` per clock), in table order."""
    outcomes: dict[int, Outcome] = {}
    for now in dict.fromkeys(call.now for call in data.calls):
        with _serving(gate, now):
            for index, call in enumerate(data.calls):
                if call.now == now:
                    outcomes[index] = _place(pbx.sip_port, gate, call, work / f"call-{index}")
    return [outcomes[index] for index in range(len(data.calls))]


def _decisions_for(gate: Gate, callee: str) -> list[dict[str, Any]]:
    """The callee's decisions, newest first; a number such as ``110`` (no E.164 number, which
    ``decisions list --callee`` refuses) is stored as dialled."""
    try:
        normalize(callee)
    except InvalidNumber:
        return [row for row in gate.decisions() if row.get("callee") == callee]
    return gate.decisions(callee=callee)


def _place(sip_port: int, gate: Gate, call: DemoCall, work: Path) -> Outcome:
    before = len(_decisions_for(gate, call.callee)) if call.verdict != "none" else 0
    sip = run_scenario(
        SCENARIOS_DIR / call.scenario / "scenario.xml",
        port=sip_port,
        service=call.callee,
        keys={"caller": call.caller},
        timeout_s=CALL_TIMEOUT_S,
        workdir=work,
    )
    if call.verdict == "none":
        rows = [row for row in gate.decisions() if row.get("callee") == call.callee]
        return Outcome(call, sip, rows[0] if rows else None)
    rows = _decisions_for(gate, call.callee)
    return Outcome(call, sip, rows[0] if len(rows) > before else None)


def _sip_text(outcome: Outcome) -> str:
    code = outcome.sip_code
    if code is None:
        return "[red]no final response[/red]"
    setup = outcome.sip.calls[0].setup_s
    took = f" [dim]{setup * 1000:.0f} ms[/dim]" if setup is not None else ""
    colour = "green" if code == 200 else "red"
    return f"[{colour}]{code} {_SIP_PHRASES.get(code, '')}[/{colour}]{took}"


def _decision_text(outcome: Outcome) -> str:
    row = outcome.decision
    if row is None:
        if outcome.call.verdict == "none":
            return "[green]not asked[/green]: the dialplan lets emergency numbers through"
        return "[red]no decision recorded[/red]"
    colour = "green" if row.get("verdict") == "allow" else "red"
    lines = [f"[{colour}]{str(row.get('verdict', '?')).upper()}[/{colour}]"]
    if row.get("verdict") == "allow":
        extras = [f"consent {row['consent_ref']}"] if row.get("consent_ref") else []
        extras += ["recorded"] if row.get("record") else []
        lines[0] += "".join(f" [dim]· {extra}[/dim]" for extra in extras)
    for reason in row.get("reasons", []):
        lines.append(f"• [bold]{reason['code']}[/bold]: {reason['message']}")
    return "\n".join(lines)


def render(outcomes: list[Outcome], data: DemoData) -> Table:
    table = Table(title=f"dialguard demo: tenant {data.tenant!r}", show_lines=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("call", min_width=28)
    table.add_column("SIP", no_wrap=True)
    table.add_column("dialguard decision and reasons", min_width=40)
    table.add_column("ok", max_width=30)
    for index, outcome in enumerate(outcomes, start=1):
        call = outcome.call
        problems = outcome.problems()
        table.add_row(
            str(index),
            f"[bold]{call.title}[/bold]\n{call.caller} → {call.callee}\n"
            f"[dim]clock {call.now}[/dim]",
            _sip_text(outcome),
            _decision_text(outcome),
            "[green]✓[/green]" if not problems else "[red]✗ " + "; ".join(problems) + "[/red]",
        )
    return table


WIDE_ENOUGH = 120
"""Columns the table needs to show every reason whole; narrower consoles get one block per call."""


def show_outcomes(console: Console, outcomes: list[Outcome], data: DemoData) -> None:
    """The table on a wide console; on a narrow one (an 80-column terminal) one block per
    call, so no reason is cut."""
    if console.width >= WIDE_ENOUGH:
        console.print(render(outcomes, data))
        return
    console.print(f"[bold]dialguard demo: tenant {data.tenant!r}[/bold]")
    for index, outcome in enumerate(outcomes, start=1):
        call, problems = outcome.call, outcome.problems()
        ok = "[green]✓[/green]" if not problems else "[red]✗ " + "; ".join(problems) + "[/red]"
        console.print(f"\n{index}. [bold]{call.title}[/bold] {ok}")
        console.print(f"   {call.caller} → {call.callee}  [dim]clock {call.now}[/dim]")
        console.print(f"   SIP {_sip_text(outcome)}")
        for line in _decision_text(outcome).splitlines():
            console.print(f"   {line}")


@contextmanager
def _pbx_and_gate(pbx: str, work: Path) -> Iterator[tuple[Any, Gate]]:
    if pbx == "freeswitch":
        esl_port = free_port()
        with FreeSwitch(tenant=DEMO.tenant, workdir=work / "freeswitch") as freeswitch:
            freeswitch.set_global("dialguard_socket", f"127.0.0.1:{esl_port}")
            yield freeswitch, Gate(work / "gate", free_port(), esl_port=esl_port)
        return
    with AsteriskContainer(accountcode=DEMO.tenant, workdir=work / "asterisk") as asterisk:
        port = free_port()
        asterisk.set_global("DIALGUARD_AGI", f"agi://127.0.0.1:{port}")
        yield asterisk, Gate(work / "gate", port)


def run_demo(console: Console, keep: bool, pbx: str = "asterisk") -> int:
    work = Path(tempfile.mkdtemp(prefix="dialguard-demo-"))
    started = time.monotonic()
    data = DEMO
    name = "FreeSWITCH 1.11.1" if pbx == "freeswitch" else "Asterisk 22"
    try:
        if pbx == "freeswitch":
            console.print(f"[bold]1/4[/bold] {name} in /opt/freeswitch…")
        elif is_complete(rootfs_path()):
            console.print(f"[bold]1/4[/bold] {name} in a container (cached rootfs)…")
        else:
            console.print(
                f"[bold]1/4[/bold] {name} in a container: building its rootfs once "
                f"(debootstrap into {rootfs_path()}, about 2 min; cached for later runs)…"
            )
        with _pbx_and_gate(pbx, work) as (server, gate):
            console.print(f"[bold]2/4[/bold] seeding {gate.database} through the dialguard CLI…")
            seed(gate, data)
            clocks = ", ".join(dict.fromkeys(call.now for call in data.calls))
            console.print(
                "[bold]3/4[/bold] dialguard serve with its clock [yellow]frozen[/yellow] by "
                f"DIALGUARD_NOW ({clocks}) so every run decides the same; placing "
                f"{len(data.calls)} SIPp calls…"
            )
            outcomes = place_calls(server, gate, data, work / "sipp")
            show_outcomes(console, outcomes, data)
            failed = [(i, o) for i, o in enumerate(outcomes, start=1) if o.problems()]
            if failed:
                console.print(
                    f"[red bold]demo FAILED[/red bold]: {len(failed)} call(s) did not come out "
                    "as expected"
                )
                for index, outcome in failed:
                    console.print(f"call {index}: sipp errors: {outcome.sip.errors[-800:]}")
                console.print(server.log_tail(25), markup=False)
                console.print(gate.log_tail(25), markup=False)
                return 1
        console.print(
            f"[bold]4/4[/bold] stopped {name} and the gate; all {len(outcomes)} calls as "
            f"expected in {time.monotonic() - started:.0f} s"
        )
        return 0
    finally:
        if keep:
            console.print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devkit.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, db)")
    parser.add_argument("--pbx", choices=("asterisk", "freeswitch"), default="asterisk")
    args = parser.parse_args(argv)
    console = Console()
    if not console.is_terminal:
        console = Console(width=140)  # a log or a pipe: do not squeeze the table into 80 columns
    tools = ("sipp",) if args.pbx == "freeswitch" else ("sipp", "unshare", "nsenter")
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        console.print(
            f"[red bold]demo cannot run[/red bold]: missing {', '.join(missing)} "
            "(apt-get install sip-tester util-linux)"
        )
        return 1
    try:
        return run_demo(console, args.keep, args.pbx)
    except (AsteriskError, FreeSwitchError, RootfsError, GateError, SippError) as exc:
        console.print(f"[red bold]demo FAILED[/red bold]: {type(exc).__name__}")
        console.print(str(exc), markup=False)
        return 1


if __name__ == "__main__":
    sys.exit(main())
