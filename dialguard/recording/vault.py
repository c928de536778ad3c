"""The recording vault: one encrypted file per recording under its region's root.

Paths handed around are *relative* to a region root and are resolved here, so nothing outside
this module can put a recording outside its region. Every write is durable and atomic
(:mod:`dialguard.files.durable`); the file format is :mod:`.container`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from ..files.durable import atomic_write, remove_durably, remove_temps
from ..settings.recording import RecordingSettings
from . import container
from .keys import Keyring, load_keyring


class RegionViolation(PermissionError):
    """A path that would take a recording out of its region (or outside any root)."""


@dataclass(frozen=True)
class Sealed:
    """What :meth:`Vault.seal` learnt about the original while encrypting it."""

    sha256: str
    size: int
    key_id: str


class _HashingReader:
    """Hashes and counts what is read through it: one pass both hashes and encrypts."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


class Vault:
    def __init__(
        self,
        roots: Mapping[str, Path],
        keyring: Keyring,
        chunk_size: int = container.DEFAULT_CHUNK,
    ) -> None:
        self.roots = {region: root.resolve() for region, root in roots.items()}
        self.keyring = keyring
        self.chunk_size = chunk_size

    def path(self, region: str, relative: str) -> Path:
        """The absolute path of ``relative`` in ``region``; refuses anything that escapes it."""
        try:
            root = self.roots[region]
        except KeyError:
            raise RegionViolation(f"unknown region {region!r}") from None
        rel = PurePosixPath(relative)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise RegionViolation(f"{relative!r} is not a path inside a region root")
        return root.joinpath(*rel.parts)

    def region_of(self, path: Path) -> str | None:
        """The region whose root contains ``path`` (resolved), if any."""
        resolved = path.resolve()
        for region, root in self.roots.items():
            if resolved == root or root in resolved.parents:
                return region
        return None

    def seal(
        self,
        region: str,
        relative: str,
        source: BinaryIO,
        before_rename: Callable[[], None] | None = None,
    ) -> Sealed:
        """Hash and encrypt ``source`` into the vault, replacing any earlier (unreferenced) file
        and temp files of the same entry."""
        target = self.path(region, relative)
        remove_temps(target)
        reader = _HashingReader(source)

        def write(handle: BinaryIO) -> str:
            return container.encrypt(reader, handle, self.keyring, self.chunk_size)

        key_id = atomic_write(target, write, before_rename=before_rename)
        return Sealed(reader.digest.hexdigest(), reader.size, key_id)

    def plaintext(self, region: str, relative: str) -> Iterator[bytes]:
        """Decrypted chunks; raises :class:`~.container.Tampered` or ``FileNotFoundError``."""
        with self.path(region, relative).open("rb") as handle:
            yield from container.decrypt(handle, self.keyring)

    def key_id(self, region: str, relative: str) -> str:
        with self.path(region, relative).open("rb") as handle:
            return container.key_id_of(handle)

    def rewrap(self, region: str, relative: str) -> str | None:
        """Rewrap under the current master key; None if it already is (nothing written)."""
        target = self.path(region, relative)
        if self.key_id(region, relative) == self.keyring.current:
            return None
        with target.open("rb") as source:
            return atomic_write(
                target, lambda handle: container.rewrap(source, handle, self.keyring)
            )

    def remove(self, region: str, relative: str) -> str | None:
        """Delete durably; returns the SHA-256 of the encrypted file removed, None if absent."""
        target = self.path(region, relative)
        digest = hashlib.sha256()
        try:
            with target.open("rb") as handle:
                while block := handle.read(1024 * 1024):
                    digest.update(block)
        except FileNotFoundError:
            return None
        return digest.hexdigest() if remove_durably(target) else None


def open_vault(settings: RecordingSettings) -> Vault:
    """The vault over every configured region, its keyring loaded; checks the tenant map too."""
    settings.tenant_region_map()
    return Vault(settings.regions_map(), load_keyring(Path(settings.keyring_file)))
