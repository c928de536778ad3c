"""``dialguard dialplan``: print the snippets a PBX loads (also shipped in ``dialplan/``)."""

from __future__ import annotations

from importlib import resources

import click

SNIPPETS = {
    "asterisk": ("asterisk", "extensions_dialguard.conf"),
    "freeswitch": ("freeswitch", "dialguard.xml"),
}


def snippet_text(pbx: str) -> str:
    folder, name = SNIPPETS[pbx]
    return (resources.files("dialguard") / "dialplan" / folder / name).read_text(encoding="utf-8")


@click.group("dialplan")
def group() -> None:
    """Dialplan snippets for Asterisk and FreeSWITCH."""


@group.command("asterisk")
def asterisk() -> None:
    """The Asterisk snippet: #include it from extensions.conf."""
    click.echo(snippet_text("asterisk"), nl=False)


@group.command("freeswitch")
def freeswitch() -> None:
    """The FreeSWITCH snippet: put it in your dialplan before the bridge."""
    click.echo(snippet_text("freeswitch"), nl=False)
