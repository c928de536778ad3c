"""Sensitive-word interception: banned phrases per industry pack, matched through disguises.

``PhraseSet.load(["finance"], extra=operator_file).find(script)`` returns every :class:`Hit`
with its position in the original text. See :mod:`.fold` for what counts as a disguise and
:mod:`.matcher` for what counts as a hit.
"""

from .loader import SHIPPED_PACKS
from .matcher import PhraseSet
from .model import Hit, Phrase, PhraseError

__all__ = ["SHIPPED_PACKS", "Hit", "Phrase", "PhraseError", "PhraseSet"]
