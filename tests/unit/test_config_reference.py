"""The configuration reference is generated from the settings classes and kept in the tree: it
must be exactly what the generator prints, name every setting, and refuse an undocumented one."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from dialguard.config import Settings, setting_variables
from dialguard.config_reference import COMMAND, UndocumentedSetting, render

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "operators" / "configuration.md"


def test_the_committed_page_is_what_the_generator_prints() -> None:
    assert PAGE.read_text("utf-8") == render(), f"regenerate it: {COMMAND}"


def test_the_module_prints_the_page() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "dialguard.config_reference"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert printed.stdout == render()


def test_every_setting_has_its_entry_variable_and_default() -> None:
    page = PAGE.read_text("utf-8")
    defaults = Settings()
    for variable, dotted in setting_variables().items():
        section, _, key = dotted.partition(".")
        entry = page.partition(f"### `{dotted}`\n")[2].partition("\n### ")[0]
        assert entry, f"{dotted} has no entry"
        assert f"- environment: `{variable}`" in entry
        assert f"- command line: `--set {dotted}=…`" in entry
        default = getattr(getattr(defaults, section), key)
        shown = str(default).lower() if isinstance(default, bool) else str(default)
        assert f"- default: `{shown}`" in entry or f'- default: `"{shown}"`' in entry, entry
    for key in ("esl.max_connections_per_peer", "esl.optout_confirm", "recording.hangup_settle_s"):
        assert f"### `{key}`" in page


@dataclasses.dataclass(frozen=True)
class _Documented:
    """A section."""

    knob: int = 1
    """What the knob does."""


@dataclasses.dataclass(frozen=True)
class _Undocumented:
    """A section with one undocumented key."""

    knob: int = 1
    """What the knob does."""
    bare: str = ""


@dataclasses.dataclass(frozen=True)
class _NoClassDoc:
    knob: int = 1
    """What the knob does."""


def _settings(section: type) -> type:
    return dataclasses.make_dataclass(
        "Fake", [("only", section, dataclasses.field(default_factory=section))], frozen=True
    )


def test_a_documented_section_renders_its_docs() -> None:
    page = render(_settings(_Documented))
    assert "## only\n\nA section.\n" in page
    assert "### `only.knob`" in page and "What the knob does." in page
    assert "[only]\nknob = 1\n```" in page


@pytest.mark.parametrize(
    ("section", "named"), [(_Undocumented, "only.bare"), (_NoClassDoc, "_NoClassDoc")]
)
def test_an_undocumented_setting_is_refused_by_name(section: type, named: str) -> None:
    with pytest.raises(UndocumentedSetting, match=named):
        render(_settings(section))
