"""``dialguard dialplan``: print the snippets a PBX loads (also shipped in ``dialplan/``).

The shipped files list the default (``cn``) pack's emergency numbers in their fast path; the
command prints them with the emergency numbers of the configured default pack instead, from the
same definition the policy uses (:mod:`dialguard.policy.emergency`).
"""

from __future__ import annotations

import re
from importlib import resources

import click

from ..policy.emergency import emergency_forms, regex_of
from ..policy.pack import RulePack
from .runtime import state

SNIPPETS = {
    "asterisk": ("asterisk", "extensions_dialguard.conf"),
    "freeswitch": ("freeswitch", "dialguard.xml"),
}

EMERGENCY_PATTERNS = {
    "asterisk": re.compile(r'(REGEX\(")(\^\([0-9|]+\)\$)(" \$\{ARG1\}\)\}\]\?emergency\))'),
    "freeswitch": re.compile(
        r'(<extension name="dialguard-emergency">\s*<condition field="destination_number" '
        r'expression=")(\^\([0-9|]+\)\$)(">)'
    ),
}
"""Where each snippet's emergency fast path lists the numbers: group 2 is the regex."""


def snippet_text(pbx: str, pack: RulePack | None = None) -> str:
    """The snippet as shipped, or with ``pack``'s emergency dial strings in its fast path."""
    folder, name = SNIPPETS[pbx]
    text = (resources.files("dialguard") / "dialplan" / folder / name).read_text(encoding="utf-8")
    if pack is None:
        return text
    rendered, count = EMERGENCY_PATTERNS[pbx].subn(
        lambda m: m.group(1) + regex_of(emergency_forms(pack)) + m.group(3), text
    )
    if count != 1:
        raise RuntimeError(f"the {pbx} snippet has {count} emergency fast paths, expected 1")
    return rendered


@click.group("dialplan")
def group() -> None:
    """Dialplan snippets for Asterisk and FreeSWITCH."""


@group.command("asterisk")
@click.pass_context
def asterisk(ctx: click.Context) -> None:
    """The Asterisk snippet: #include it from extensions.conf."""
    click.echo(snippet_text("asterisk", state(ctx).pack), nl=False)


@group.command("freeswitch")
@click.pass_context
def freeswitch(ctx: click.Context) -> None:
    """The FreeSWITCH snippet: put it in your dialplan before the bridge."""
    click.echo(snippet_text("freeswitch", state(ctx).pack), nl=False)
