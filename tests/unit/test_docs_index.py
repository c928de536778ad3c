"""The README is the index of the docs: it links every page under ``docs/``, and every relative
link in the README and the docs resolves to a file (and, with ``#anchor``, to a heading in it)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
EXPECTED = {
    "docs/developers/README.md",
    "docs/developers/architecture.md",
    "docs/developers/performance.md",
    "docs/developers/testing.md",
    "docs/operators/api.md",
    "docs/operators/asterisk.md",
    "docs/operators/audit-and-dsr.md",
    "docs/operators/cli.md",
    "docs/operators/configuration.md",
    "docs/operators/console.md",
    "docs/operators/decisions.md",
    "docs/operators/freeswitch.md",
    "docs/operators/install.md",
    "docs/operators/recording.md",
    "docs/operators/rule-packs.md",
    "docs/operators/security.md",
}
"""The pages the README must link (``architecture.md`` included: the layering rules live there)."""
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def _pages() -> list[Path]:
    return sorted((ROOT / "docs").rglob("*.md"))


def _links(page: Path) -> list[str]:
    """Link targets outside code blocks, web addresses left out."""
    text = _FENCE.sub("", page.read_text("utf-8"))
    return [t for t in _LINK.findall(text) if not re.match(r"[a-z]+:", t)]


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    kept = "".join(c for c in text if c in "-_ " or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text("utf-8"))
    return {_anchor(m) for m in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}


def _relative(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def test_the_readme_links_every_docs_page() -> None:
    linked = {
        _relative((ROOT / target.partition("#")[0]).resolve())
        for target in _links(README)
        if target.startswith("docs/") and target.partition("#")[0].endswith(".md")
    }
    pages = {_relative(page) for page in _pages()}
    assert sorted(pages - linked) == [], "pages under docs/ the README does not link"
    assert sorted(EXPECTED - linked) == [], "pages the README must link"
    assert sorted(EXPECTED - pages) == [], "expected pages that are missing"


@pytest.mark.parametrize("page", [README, *_pages()], ids=_relative)
def test_every_link_resolves(page: Path) -> None:
    broken = []
    for target in _links(page):
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if path and not resolved.exists():
            broken.append(target)
            continue
        if anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(target)
    assert broken == []


def test_the_anchor_rule_follows_github() -> None:
    assert _anchor("When to retry: `next_allowed_at` (for dialer integrators)") == (
        "when-to-retry-next_allowed_at-for-dialer-integrators"
    )
    assert _anchor("In the call: keypad opt-out, recording notice, STIR/SHAKEN") == (
        "in-the-call-keypad-opt-out-recording-notice-stirshaken"
    )
