"""The snippet in ``dialplan/asterisk/`` (what the e2e cases load into Asterisk) is the one
the package ships and ``dialguard dialplan asterisk`` prints."""

from __future__ import annotations

from devkit.asterisk_config import SNIPPET
from devkit.freeswitch_config import SNIPPET as FS_SNIPPET
from dialguard.cli.dialplan import snippet_text


def test_packaged_snippet_is_the_tested_one() -> None:
    assert snippet_text("asterisk") == SNIPPET.read_text(encoding="utf-8"), (
        f"dialguard/dialplan/asterisk/ is out of date: copy {SNIPPET} there"
    )


def test_packaged_freeswitch_snippet_is_the_tested_one() -> None:
    assert snippet_text("freeswitch") == FS_SNIPPET.read_text(encoding="utf-8")
