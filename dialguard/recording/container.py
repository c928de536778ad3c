"""The encrypted recording file format (version 1): streamed AES-256-GCM in chunks.

Layout (integers big-endian)::

    "DGRV"  version:u8=1  chunk_size:u32  nonce_prefix:7 bytes          (the fixed header)
    key_id_len:u8  key_id:ascii  wrapped_len:u8  wrapped_key            (the key slot)
    chunk 0 … chunk n: ciphertext (chunk_size bytes, the last 0…chunk_size) + 16-byte GCM tag

Chunk ``i`` is sealed with nonce ``nonce_prefix ‖ i:u32 ‖ final:u8`` and associated data
``fixed header ‖ i:u32 ‖ final:u8`` (the STREAM construction): reordered, dropped, truncated or
appended chunks fail authentication, and the last chunk must carry the final flag. There is always
at least one (final) chunk, so an empty recording is still authenticated.

The key slot is *not* associated data: key rotation rewrites it (:func:`rewrap`) without touching
a byte of the chunks. It is protected by the key wrap's own integrity check instead.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .keys import BadWrappedKey, Keyring

MAGIC = b"DGRV"
VERSION = 1
TAG_BYTES = 16
PREFIX_BYTES = 7
DEFAULT_CHUNK = 64 * 1024
_FIXED = struct.Struct(">4sBI7s")
_COUNTER = struct.Struct(">IB")


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Tampered(ValueError):
    """The file fails authentication: modified, truncated, reordered or a bad header."""


@dataclass(frozen=True)
class Header:
    chunk_size: int
    nonce_prefix: bytes
    key_id: str
    wrapped_key: bytes

    @property
    def fixed(self) -> bytes:
        return _FIXED.pack(MAGIC, VERSION, self.chunk_size, self.nonce_prefix)

    def encode(self) -> bytes:
        key_id = self.key_id.encode("ascii")
        return (
            self.fixed
            + bytes([len(key_id)])
            + key_id
            + bytes([len(self.wrapped_key)])
            + self.wrapped_key
        )


def _read_exact(source: BinaryIO, size: int) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise Tampered("file ends inside the header")
    return data


def read_header(source: BinaryIO) -> Header:
    magic, version, chunk_size, prefix = _FIXED.unpack(_read_exact(source, _FIXED.size))
    if magic != MAGIC:
        raise Tampered("not a dialguard recording (bad magic)")
    if version != VERSION:
        raise Tampered(f"unsupported format version {version}")
    if not 0 < chunk_size <= 16 * 1024 * 1024:
        raise Tampered(f"implausible chunk size {chunk_size}")
    key_id = _read_exact(source, _read_exact(source, 1)[0])
    wrapped = _read_exact(source, _read_exact(source, 1)[0])
    try:
        return Header(chunk_size, prefix, key_id.decode("ascii"), wrapped)
    except UnicodeDecodeError:
        raise Tampered("key id is not ASCII") from None


def _seal_args(header: Header, index: int, final: bool) -> tuple[bytes, bytes]:
    counter = _COUNTER.pack(index, final)
    return header.nonce_prefix + counter, header.fixed + counter


def _lookahead(source: Readable, size: int) -> Iterator[tuple[bytes, bool]]:
    """Blocks of ``size`` bytes, each with "is this the last one"; at least one block."""
    block = source.read(size)
    while True:
        following = source.read(size)
        yield block, not following
        if not following:
            return
        block = following


def encrypt(
    source: Readable, target: BinaryIO, keyring: Keyring, chunk_size: int = DEFAULT_CHUNK
) -> str:
    """Encrypt ``source`` into ``target`` under a fresh data key; returns the master key id."""
    data_key = AESGCM.generate_key(bit_length=256)
    key_id, wrapped = keyring.wrap(data_key)
    header = Header(chunk_size, os.urandom(PREFIX_BYTES), key_id, wrapped)
    target.write(header.encode())
    aead = AESGCM(data_key)
    for index, (block, final) in enumerate(_lookahead(source, chunk_size)):
        nonce, aad = _seal_args(header, index, final)
        target.write(aead.encrypt(nonce, block, aad))
    return key_id


def decrypt(source: BinaryIO, keyring: Keyring) -> Iterator[bytes]:
    """The plaintext, chunk by chunk. Raises :class:`Tampered` (possibly after some chunks) if
    any part fails authentication, and :class:`~.keys.UnknownKey` if the master key is gone."""
    header = read_header(source)
    try:
        aead = AESGCM(keyring.unwrap(header.key_id, header.wrapped_key))
    except BadWrappedKey as exc:
        raise Tampered(str(exc)) from None
    for index, (block, final) in enumerate(_lookahead(source, header.chunk_size + TAG_BYTES)):
        if len(block) < TAG_BYTES:
            raise Tampered(f"chunk {index} is truncated")
        nonce, aad = _seal_args(header, index, final)
        try:
            yield aead.decrypt(nonce, block, aad)
        except InvalidTag:
            raise Tampered(f"chunk {index} fails authentication") from None


def rewrap(source: BinaryIO, target: BinaryIO, keyring: Keyring) -> str:
    """Copy ``source`` to ``target`` with its data key rewrapped under the current master key;
    the chunks are copied byte for byte. Returns the new key id."""
    header = read_header(source)
    try:
        data_key = keyring.unwrap(header.key_id, header.wrapped_key)
    except BadWrappedKey as exc:
        raise Tampered(str(exc)) from None
    key_id, wrapped = keyring.wrap(data_key)
    target.write(Header(header.chunk_size, header.nonce_prefix, key_id, wrapped).encode())
    while block := source.read(1024 * 1024):
        target.write(block)
    return key_id


def key_id_of(source: BinaryIO) -> str:
    return read_header(source).key_id
