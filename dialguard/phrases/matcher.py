"""Find banned phrases in a text, however they are disguised.

Each text is folded once into a skeleton (:mod:`.fold`) with a map back to the original, and
phrases and their ``not_within`` contexts are matched against it in one Aho–Corasick pass. A
phrase occurrence is a hit unless

* the phrase starts or ends with a Latin letter or digit and the text continues with one
  across that edge ("no risk" in "casino risk", "100%保本" in "2100%保本"), or
* it lies inside an occurrence of one of the phrase's ``not_within`` contexts.

Meaning is not interpreted: "本产品不保本" is a hit for 保本. The matcher flags wording for
review; a disclaimer that must quote the phrase is what ``not_within`` in the operator's file
is for (``not_within = ["不保本"]``). Overlapping phrases are all reported ("100%保本" yields
both 100%保本 and 保本), so a consumer can count every phrase it cares about.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .automaton import Automaton
from .fold import BREAK, build, fold, fold_char
from .loader import SHIPPED_PACKS, load_phrase_file, load_shipped
from .model import Hit, Phrase, PhraseError

_Key = tuple[str, str]
"""(pack, folded phrase): phrases equal under folding are one phrase."""


@dataclass(frozen=True)
class _Target:
    """What one automaton pattern stands for."""

    phrases: tuple[tuple[_Key, Phrase], ...]
    shields: tuple[_Key, ...]
    """Phrases this pattern is a ``not_within`` context of."""


class PhraseSet:
    """Phrases compiled for matching; immutable and safe to share between calls.

    Phrases of one pack that fold to the same skeleton are one phrase: their ``not_within``
    contexts are joined and the last note given wins, which is how an operator's file adds
    contexts to a shipped phrase.
    """

    def __init__(self, phrases: Iterable[Phrase], version: str = "") -> None:
        self.version = version
        merged, contexts = _merge(phrases)
        self.phrases: tuple[Phrase, ...] = tuple(merged.values())
        found: dict[str, list[tuple[_Key, Phrase]]] = defaultdict(list)
        shields: dict[str, list[_Key]] = defaultdict(list)
        for key, phrase in merged.items():
            found[key[1]].append((key, phrase))
            for context in contexts[key]:
                shields[context].append(key)
        self._patterns: Sequence[str] = sorted(found.keys() | shields.keys())
        self._targets = [
            _Target(tuple(found.get(p, ())), tuple(shields.get(p, ()))) for p in self._patterns
        ]
        self._automaton = Automaton(self._patterns)

    @classmethod
    def load(cls, packs: Iterable[str], extra: Path | None = None) -> PhraseSet:
        """The shipped phrases of ``packs`` plus, for those packs, the operator's ``extra`` file.

        A pack may also be one the extra file defines. ``version`` names every file used, e.g.
        ``education@2026.1+finance@2026.1+extra@7@1a2b3c4d5e6f`` (version, content digest).
        """
        selected = list(dict.fromkeys(packs))
        if not selected:
            raise PhraseError("no phrase pack selected")
        extra_file = load_phrase_file(extra) if extra is not None else None
        versions: list[str] = []
        phrases: list[Phrase] = []
        for pack in selected:
            if pack in SHIPPED_PACKS or extra_file is None or pack not in extra_file.phrases:
                shipped = load_shipped(pack)
                versions.append(f"{pack}@{shipped.version}")
                phrases += shipped.phrases[pack]
        if extra_file is not None:
            versions.append(f"extra@{extra_file.version}@{extra_file.digest}")
            phrases += [p for pack in selected for p in extra_file.phrases.get(pack, ())]
        return cls(phrases, "+".join(versions))

    def find(self, text: str) -> list[Hit]:
        """Every hit in ``text``, ordered by position, then pack and phrase."""
        skeleton = build(text)
        candidates: list[tuple[int, int, _Key, Phrase]] = []
        shielded: dict[_Key, list[tuple[int, int]]] = defaultdict(list)
        for end, index in self._automaton.search(skeleton.text):
            start = end - len(self._patterns[index])
            target = self._targets[index]
            for key in target.shields:
                shielded[key].append((start, end))
            if target.phrases and skeleton.bounded(start, end):
                candidates.extend((start, end, key, phrase) for key, phrase in target.phrases)
        if not candidates:
            return []
        newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        hits = [
            _hit(text, newlines, skeleton.origin[start], skeleton.origin[end - 1] + 1, phrase)
            for start, end, key, phrase in candidates
            if not any(s <= start and end <= e for s, e in shielded.get(key, ()))
        ]
        return sorted(hits, key=lambda h: (h.start, h.end, h.pack, h.phrase))


def _merge(phrases: Iterable[Phrase]) -> tuple[dict[_Key, Phrase], dict[_Key, set[str]]]:
    """Phrases by key, and each key's folded contexts; every phrase checked where it was given."""
    merged: dict[_Key, Phrase] = {}
    contexts: dict[_Key, set[str]] = defaultdict(set)
    for phrase in phrases:
        key = (phrase.pack, _checked_fold(phrase))
        contexts[key].update(_checked_context(phrase, key[1], c) for c in phrase.not_within)
        earlier = merged.get(key)
        if earlier is not None:
            phrase = replace(
                earlier,
                note=phrase.note if phrase.note is not None else earlier.note,
                not_within=tuple(dict.fromkeys(earlier.not_within + phrase.not_within)),
            )
        merged[key] = phrase
    return merged, contexts


def _checked_fold(phrase: Phrase) -> str:
    where = phrase.origin or repr(phrase.text)
    if any(fold_char(ch) == BREAK for ch in phrase.text):
        raise PhraseError(
            f"{where}: phrase contains a clause separator (。！？；，、： or a line break), "
            "so it could never match"
        )
    folded = fold(phrase.text)
    if not folded:
        raise PhraseError(f"{where}: phrase has no letters or digits")
    return folded


def _checked_context(phrase: Phrase, folded: str, context: str) -> str:
    folded_context = fold(context)
    if folded not in folded_context or any(fold_char(ch) == BREAK for ch in context):
        raise PhraseError(
            f"{phrase.origin or repr(phrase.text)}: not_within entry {context!r} must contain the "
            "phrase and no clause separator"
        )
    return folded_context


def _position(newlines: list[int], offset: int) -> tuple[int, int]:
    """1-based (line, column) of the code point at ``offset``."""
    line = bisect_left(newlines, offset)
    line_start = newlines[line - 1] + 1 if line else 0
    return line + 1, offset - line_start + 1


def _hit(text: str, newlines: list[int], start: int, end: int, phrase: Phrase) -> Hit:
    line, column = _position(newlines, start)
    end_line, end_column = _position(newlines, end - 1)
    return Hit(
        line=line,
        column=column,
        end_line=end_line,
        end_column=end_column,
        start=start,
        end=end,
        phrase=phrase.text,
        pack=phrase.pack,
        matched_text=text[start:end],
        note=phrase.note,
    )
