"""Banned-phrase screening for a tenant: the phrase packs its industry's rule packs name, plus
the operator's extra phrase file, compiled once per set of packs and shared between calls.

Used by ``dialguard scripts add`` (a script is refused with every hit) and by
``POST /v1/text/check`` (agent desktops and SMS gateways, in real time).
"""

from __future__ import annotations

from pathlib import Path

from ..phrases import PhraseSet
from ..policy.book import PolicyBook
from ..storage.script_records import TextCheck


class PhraseScreen:
    def __init__(self, book: PolicyBook, extra_file: Path | None = None) -> None:
        self._book = book
        self._extra = extra_file
        self._sets: dict[tuple[str, ...], PhraseSet] = {}

    def packs_for(self, industry: str) -> tuple[str, ...]:
        return self._book.phrase_packs(industry)

    def check(self, industry: str, text: str) -> TextCheck:
        packs = self.packs_for(industry)
        if not packs:
            return TextCheck((), "", ())
        phrases = self._sets.get(packs)
        if phrases is None:
            phrases = self._sets[packs] = PhraseSet.load(packs, self._extra)
        return TextCheck(packs, phrases.version, tuple(phrases.find(text)))
