"""The shipped dialplan snippets' emergency fast paths: parsed from the files and evaluated the
way the PBX would (Asterisk ``REGEX()`` is POSIX ERE, extension patterns have their own
``_X.`` language, FreeSWITCH conditions are PCRE), they match exactly the pack's emergency
numbers, and none of the hostile spellings."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from emergency_spellings import HOSTILE

from dialguard.cli.dialplan import snippet_text
from dialguard.cli.main import cli
from dialguard.policy.book import load_pack
from dialguard.policy.emergency import emergency_forms

ROOT = Path(__file__).resolve().parents[2]
ASTERISK = ROOT / "dialplan" / "asterisk" / "extensions_dialguard.conf"
FREESWITCH = ROOT / "dialplan" / "freeswitch" / "dialguard.xml"
CN = emergency_forms(load_pack("cn"))


def asterisk_pattern(pattern: str) -> re.Pattern[str]:
    """An Asterisk extension pattern as a regex: ``_`` starts a pattern (X 0-9, Z 1-9, N 2-9,
    ``[...]`` a class, ``.`` one or more of anything, ``!`` zero or more); else a literal."""
    if not pattern.startswith("_"):
        return re.compile(re.escape(pattern))
    out = []
    rest = pattern[1:]
    i = 0
    while i < len(rest):
        ch = rest[i]
        upper = ch.upper()
        if upper == "X":
            out.append("[0-9]")
        elif upper == "Z":
            out.append("[1-9]")
        elif upper == "N":
            out.append("[2-9]")
        elif ch == "[":
            end = rest.index("]", i)
            out.append("[" + rest[i + 1 : end].replace("\\", "\\\\") + "]")
            i = end
        elif ch == ".":
            out.append(".+")
        elif ch == "!":
            out.append(".*")
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out))


def test_asterisk_pattern_semantics() -> None:
    assert asterisk_pattern("_X.").fullmatch("110")
    assert not asterisk_pattern("_X.").fullmatch("+110")
    assert asterisk_pattern("_[+0-9].").fullmatch("+110")
    assert not asterisk_pattern("_NXX").fullmatch("110")
    assert not asterisk_pattern("s").fullmatch("s1")


def _asterisk_lines(text: str) -> list[str]:
    return [line.split(";", 1)[0] for line in text.splitlines()]


def asterisk_emergency_regexes(text: str) -> list[re.Pattern[str]]:
    """Every ``REGEX("…" ${ARG1})`` whose GotoIf leads to the ``emergency`` label."""
    found = re.findall(r'REGEX\("([^"]*)" \$\{ARG1\}\)\}\]\?emergency\)', text)
    return [re.compile(pattern) for pattern in found]


def asterisk_extension_patterns(text: str) -> list[re.Pattern[str]]:
    patterns = re.findall(r"^\s*exten\s*=>\s*([^,]+),", "\n".join(_asterisk_lines(text)), re.M)
    return [asterisk_pattern(p.strip()) for p in patterns]


def freeswitch_bypass_conditions(text: str) -> list[re.Pattern[str]]:
    """Conditions of extensions that let a call through without the gate: they mark it allowed
    or send it to ``dialguard_allowed`` themselves."""
    found = []
    for extension in ET.fromstring(text).iter("extension"):
        actions = [a.get("data", "") for a in extension.iter("action")]
        if any("dialguard_verdict=ALLOW" in a or "XML dialguard_allowed" in a for a in actions):
            for condition in extension.iter("condition"):
                if condition.get("field") == "destination_number":
                    found.append(re.compile(condition.get("expression", "")))
    return found


def test_asterisk_fast_path_is_exactly_the_packs_list() -> None:
    text = ASTERISK.read_text(encoding="utf-8")
    (regex,) = asterisk_emergency_regexes(text)
    assert all(regex.search(number) for number in CN)
    for dialled in HOSTILE:
        assert not regex.search(dialled), dialled
        for pattern in asterisk_extension_patterns(text):
            assert not pattern.fullmatch(dialled), (pattern.pattern, dialled)
    assert regex.pattern == "^(" + "|".join(CN) + ")$"


def test_freeswitch_fast_path_is_exactly_the_packs_list() -> None:
    (regex,) = freeswitch_bypass_conditions(FREESWITCH.read_text(encoding="utf-8"))
    assert all(regex.search(number) for number in CN)
    for dialled in HOSTILE:
        assert not regex.search(dialled), dialled
    assert regex.pattern == "^(" + "|".join(CN) + ")$"


@pytest.mark.parametrize("pbx", ["asterisk", "freeswitch"])
def test_shipped_snippet_is_the_rendering_for_the_default_pack(pbx: str) -> None:
    assert snippet_text(pbx, load_pack("cn")) == snippet_text(pbx)


def test_dialplan_command_prints_the_configured_packs_numbers() -> None:
    runner = CliRunner()
    asterisk = runner.invoke(cli, ["--set", "policy.pack=us", "dialplan", "asterisk"])
    freeswitch = runner.invoke(cli, ["--set", "policy.pack=us", "dialplan", "freeswitch"])
    assert asterisk.exit_code == 0 and freeswitch.exit_code == 0, asterisk.output
    (regex,) = asterisk_emergency_regexes(asterisk.output)
    assert regex.pattern == "^(112|911|988)$"
    (condition,) = freeswitch_bypass_conditions(freeswitch.output)
    assert condition.pattern == "^(112|911|988)$"
