"""The skeleton of a text: what the matcher compares, with a map back to the original.

Every code point of the original contributes one of three things:

* **content** — letters and digits after NFKD (full-width → half-width, ①/⑴/𝐫 → plain),
  casefolding, dropping combining marks and folding variants (traditional → simplified, Latin
  look-alikes). One code point can contribute several characters (``ﬁ`` → ``fi``).
* **nothing** — spaces, tabs, zero-width characters, combining marks, variation selectors,
  emoji, symbols and punctuation that does not end a clause (``. · * - _ / | % " ( )``…). These
  are what an evader puts between the characters of a phrase, so they never break a match.
* **a break** — punctuation that ends a sentence or clause (``。！？；，、：`` and their ASCII
  forms) and line or paragraph separators. A match never spans a break: "确保。本周" is two
  clauses and does not contain 保本. The ASCII full stop is *not* a break because it is the
  commonest filler ("保.本") and a decimal point; the ideographic full stop 。 is.

Breaks appear in the skeleton as :data:`BREAK`, which no phrase can contain.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .variants import VARIANTS

BREAK = "\n"
"""Stands in the skeleton for any run of clause-ending separators."""

_BREAKERS = frozenset("。!?;,、:\n\r\v\f\x85\u2028\u2029")
"""Checked after NFKD, so ！？；，：｡︒﹐ and friends are covered by their plain forms."""

# CJK scripts write words without spaces; letters and digits below this code point are
# "word characters" that must not continue across the edge of a Latin-script phrase.
_FIRST_CJK = 0x2E80


@lru_cache(maxsize=8192)
def fold_char(ch: str) -> str:
    """Content of one code point: folded letters/digits, ``""`` if ignorable, or BREAK."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", ch).casefold())
    if any(c in _BREAKERS for c in decomposed):
        return BREAK
    kept = "".join(c for c in decomposed if unicodedata.category(c)[0] in "LN")
    return kept.translate(VARIANTS)


def fold(text: str) -> str:
    """The skeleton of ``text`` without the position map (used for phrases)."""
    return build(text).text


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() and ord(ch) < _FIRST_CJK


@dataclass(frozen=True)
class Skeleton:
    text: str
    origin: list[int]
    """``origin[k]``: index in the original text of the code point skeleton char ``k`` came from."""

    def bounded(self, start: int, end: int) -> bool:
        """Whether ``text[start:end]`` stands as whole words where its edges are Latin/digits.

        "no risk" must not match inside "casino risk": an edge is rejected when the characters
        on both sides of it are word characters that were adjacent in the original (nothing
        ignorable between them). CJK edges need no boundary.
        """
        joined_before = start > 0 and self._joined(start - 1)
        joined_after = end < len(self.text) and self._joined(end - 1)
        return not (joined_before or joined_after)

    def _joined(self, left: int) -> bool:
        """Skeleton chars ``left`` and ``left + 1`` are word characters adjacent in the original."""
        text, origin = self.text, self.origin
        return (
            _is_word_char(text[left])
            and _is_word_char(text[left + 1])
            and origin[left + 1] - origin[left] <= 1
        )


def build(text: str) -> Skeleton:
    chars: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        folded = fold_char(ch)
        if not folded:
            continue
        if folded == BREAK and (not chars or chars[-1] == BREAK):
            continue
        for c in folded:
            chars.append(c)
            origin.append(index)
    return Skeleton("".join(chars), origin)
