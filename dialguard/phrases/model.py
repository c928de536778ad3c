"""Records of the phrase matcher: a banned phrase, a hit, and the loader's error."""

from __future__ import annotations

from dataclasses import dataclass


class PhraseError(ValueError):
    """A phrase file or phrase that cannot be used; names the file and the entry."""


@dataclass(frozen=True)
class Phrase:
    text: str
    """As written in the data file; reported in hits."""
    pack: str
    note: str | None = None
    not_within: tuple[str, ...] = ()
    """Longer contexts that contain the phrase's characters without meaning it (确保本 for 保本:
    确保 + 本次). A hit lying inside a match of one of these is dropped."""
    origin: str = ""
    """Where the phrase was defined (``file: phrases.pack[i]``), for error messages."""


@dataclass(frozen=True)
class Hit:
    """One occurrence of a phrase. Positions are in the original text, in code points.

    ``line``/``column`` are the first matched character and ``end_line``/``end_column`` the last
    one (inclusive), all 1-based; lines are separated by ``\\n``. ``start``/``end`` are the same
    span as 0-based, end-exclusive offsets, so ``text[hit.start:hit.end] == hit.matched_text``.
    The span runs from the first to the last character that forms the phrase: filler inside it
    is included, filler around it is not.
    """

    line: int
    column: int
    end_line: int
    end_column: int
    start: int
    end: int
    phrase: str
    pack: str
    matched_text: str
    note: str | None
