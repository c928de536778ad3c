"""Phrase files: banned phrases per pack as versioned TOML data.

The shipped packs live in ``dialguard/phrases/data/<pack>.toml``; an operator's extra file has
the same layout and may add phrases to shipped packs or define packs of its own::

    version = "2026.1"
    description = "what the file is and where its phrases come from"

    [[phrases.finance]]
    text = "保本"
    note = "广告法第二十五条"              # optional
    not_within = ["确保本"]               # optional

Phrases are compared by their folded form (see :mod:`.fold`), so writing the same phrase in
full-width, traditional or with spaces gives the same phrase.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .model import Phrase, PhraseError

SHIPPED_PACKS = ("education", "finance", "healthcare")

_PACK_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_FILE_KEYS = frozenset({"version", "description", "phrases"})
_ENTRY_KEYS = frozenset({"text", "note", "not_within"})


@dataclass(frozen=True)
class PhraseFile:
    version: str
    digest: str
    """First 12 hex digits of the file's SHA-256: which exact list produced a hit."""
    phrases: dict[str, list[Phrase]]
    """Pack name → its phrases, in file order."""


def load_shipped(pack: str) -> PhraseFile:
    if pack not in SHIPPED_PACKS:
        raise PhraseError(f"no shipped phrase pack {pack!r} (shipped: {', '.join(SHIPPED_PACKS)})")
    resource = resources.files(__package__).joinpath("data", f"{pack}.toml")
    loaded = parse_phrase_file(resource.read_bytes(), f"{pack}.toml")
    if set(loaded.phrases) != {pack}:
        raise PhraseError(f"{pack}.toml: must define phrases for pack {pack!r} only")
    return loaded


def load_phrase_file(path: Path) -> PhraseFile:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PhraseError(f"{path}: cannot read phrase file: {exc.strerror}") from None
    return parse_phrase_file(raw, str(path))


def parse_phrase_file(raw: bytes, origin: str) -> PhraseFile:
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PhraseError(f"{origin}: not UTF-8: {exc.reason} at byte {exc.start}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PhraseError(f"{origin}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - _FILE_KEYS)
    if unknown:
        raise PhraseError(f"{origin}: unknown key {unknown[0]!r} (expected {sorted(_FILE_KEYS)})")
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise PhraseError(f"{origin}: 'version' must be a non-empty string")
    if not isinstance(data.get("description", ""), str):
        raise PhraseError(f"{origin}: 'description' must be a string")
    table = data.get("phrases")
    if not isinstance(table, Mapping) or not table:
        raise PhraseError(f"{origin}: needs at least one [[phrases.<pack>]] entry")
    phrases = {pack: _pack_entries(entries, pack, origin) for pack, entries in table.items()}
    digest = hashlib.sha256(raw).hexdigest()[:12]
    return PhraseFile(version, digest, phrases)


def _pack_entries(entries: Any, pack: str, origin: str) -> list[Phrase]:
    if not _PACK_NAME.fullmatch(pack):
        raise PhraseError(f"{origin}: phrases.{pack}: pack names are lower-case a-z, 0-9, - and _")
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise PhraseError(f"{origin}: phrases.{pack} must be an array of tables [[phrases.{pack}]]")
    return [_entry(e, f"{origin}: phrases.{pack}[{i}]", pack) for i, e in enumerate(entries)]


def _entry(entry: Mapping[str, Any], where: str, pack: str) -> Phrase:
    text = entry.get("text")
    if not isinstance(text, str) or not text.strip():
        raise PhraseError(f"{where}: 'text' must be a non-empty string, got {text!r}")
    where = f"{where} ({text!r})"
    unknown = sorted(set(entry) - _ENTRY_KEYS)
    if unknown:
        raise PhraseError(f"{where}: unknown key {unknown[0]!r} (expected {sorted(_ENTRY_KEYS)})")
    note = entry.get("note")
    if note is not None and not isinstance(note, str):
        raise PhraseError(f"{where}: 'note' must be a string, got {note!r}")
    contexts = entry.get("not_within", [])
    if not isinstance(contexts, list) or not all(isinstance(c, str) for c in contexts):
        raise PhraseError(f"{where}: 'not_within' must be a list of strings, got {contexts!r}")
    return Phrase(text, pack, note, tuple(contexts), where)
