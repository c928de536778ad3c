"""The on-disk layout of a DNC index file, number plans, and the errors the package raises.

One index file holds one national list. Every number is first mapped to a *key* in
``[0, 10**10)`` by its :class:`NumberPlan`; the key space is cut into 10**6 buckets of 10**4
keys (for the NANP a bucket is one NPA-NXX exchange, the key's low four digits are the line
number).

File layout (all integers little-endian)::

    offset 0      header, HEADER_SIZE bytes (see :class:`Header`; the rest is zero)
    offset 4096   offsets table: BUCKETS + 1 uint32, byte offsets into the data region;
                  bucket b occupies data[off[b]:off[b+1]]
    data_pos      data region (8-byte aligned), containers back to back, every one of even
                  length so that uint16 runs stay 2-byte aligned

A bucket's container type follows from its length alone, so no type table is stored:

    ``0``                  empty bucket
    ``2..80``              RUN16: sorted uint16 low parts, ``length / 2`` of them (<= 40 numbers)
    ``82..1248``           GROUPED: 40 uint8 counts, one per group of 256 low values
                           (group g = low >> 8), then the low bytes (low & 255) sorted, group by
                           group, then one zero pad byte if needed to keep the length even
    ``1250``               BITMAP: 10,000 bits, bit ``low`` (LSB first) set for each member

The builder picks the smallest of these per bucket: RUN16 costs 2 bytes a number, GROUPED one
byte a number plus 40 (a group count must fit a byte, so a group with all 256 values set forces a
BITMAP), BITMAP 1,250 bytes whatever the count.

The header carries a CRC-32 of itself, of the offsets table and of the data region; opening
checks the header always and the rest when asked to (see :meth:`DncIndex.open`).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

MAGIC = b"DGDNCIX\x00"
VERSION = 1
HEADER_SIZE = 4096
OFFSETS_POS = HEADER_SIZE
BUCKETS = 10**6
BUCKET_SPAN = 10**4
KEY_SPACE = BUCKETS * BUCKET_SPAN
OFFSETS_SIZE = (BUCKETS + 1) * 4
DATA_POS = OFFSETS_POS + OFFSETS_SIZE  # already a multiple of 8

RUN16_MAX_LEN = 80
GROUPS = 40
GROUP_BITS = 8
BITMAP_LEN = BUCKET_SPAN // 8

_HEADER = struct.Struct("<8sIIQQQQQIIQ")
# magic, version, plan code, generation, count, source lines, data_pos, data_len,
# offsets crc, data crc, (reserved) ; followed by the header crc (uint32)
_HEADER_CRC = struct.Struct("<I")


class DncIndexError(Exception):
    """Base of the errors this package raises."""


class CorruptIndexError(DncIndexError):
    """An index or journal file fails a structural or checksum check; the message says which."""


@dataclass(frozen=True, slots=True)
class NumberPlan:
    """How the national numbers of one list map to keys in ``[0, KEY_SPACE)``.

    ``key = national - key_base``. A number outside ``[low, high]``, or whose exchange (the three
    digits before the last four, for the NANP the NXX) is below ``min_exchange``, is not a
    number of the plan.
    """

    code: int
    name: str
    country_code: str
    national_digits: int
    key_base: int
    low: int
    high: int
    min_exchange: int

    @property
    def e164_prefix(self) -> str:
        return "+" + self.country_code

    def is_valid(self, national: int) -> bool:
        """Whether ``national`` is a number this plan can hold."""
        if not self.low <= national <= self.high:
            return False
        exchange = (national // BUCKET_SPAN) % 1000
        return exchange >= self.min_exchange


NANP = NumberPlan(
    code=1,
    name="nanp",
    country_code="1",
    national_digits=10,
    key_base=0,
    low=2_000_000_000,
    high=9_999_999_999,
    min_exchange=200,
)
"""US/Canada: ``NPA-NXX-nnnn`` (ten digits), NPA and NXX starting with 2-9."""

CN_MOBILE = NumberPlan(
    code=2,
    name="cn-mobile",
    country_code="86",
    national_digits=11,
    key_base=10**10,
    low=13_000_000_000,
    high=19_999_999_999,
    min_exchange=0,
)
"""Chinese mobile numbers ``1[3-9]n-nnnn-nnnn``; the leading 1 is dropped to form the key."""

PLANS: dict[int, NumberPlan] = {NANP.code: NANP, CN_MOBILE.code: CN_MOBILE}


@dataclass(frozen=True, slots=True)
class Header:
    """The fixed fields at the start of an index file."""

    plan: NumberPlan
    generation: int
    count: int
    source_lines: int
    data_len: int
    offsets_crc: int
    data_crc: int
    data_pos: int = DATA_POS

    @property
    def file_size(self) -> int:
        return self.data_pos + self.data_len

    def pack(self) -> bytes:
        """The header as HEADER_SIZE bytes, its own CRC-32 after the fields."""
        fields = _HEADER.pack(
            MAGIC,
            VERSION,
            self.plan.code,
            self.generation,
            self.count,
            self.source_lines,
            self.data_pos,
            self.data_len,
            self.offsets_crc,
            self.data_crc,
            0,
        )
        body = fields + _HEADER_CRC.pack(zlib.crc32(fields))
        return body + bytes(HEADER_SIZE - len(body))

    @classmethod
    def unpack(cls, raw: bytes, where: str) -> Header:
        """Parse and check a header read from ``where`` (named in every error)."""
        if len(raw) < _HEADER.size + _HEADER_CRC.size:
            raise CorruptIndexError(f"{where}: file too short for a DNC index header")
        fields = raw[: _HEADER.size]
        (magic, version, plan_code, generation, count, source_lines, data_pos, data_len,
         offsets_crc, data_crc, _reserved) = _HEADER.unpack(fields)  # fmt: skip
        if magic != MAGIC:
            raise CorruptIndexError(f"{where}: not a dialguard DNC index (bad magic {magic!r})")
        (stored_crc,) = _HEADER_CRC.unpack_from(raw, _HEADER.size)
        if zlib.crc32(fields) != stored_crc:
            raise CorruptIndexError(f"{where}: header checksum mismatch (header is corrupt)")
        if version != VERSION:
            raise CorruptIndexError(f"{where}: index format version {version}, expected {VERSION}")
        if plan_code not in PLANS:
            raise CorruptIndexError(f"{where}: unknown number plan code {plan_code}")
        if data_pos != DATA_POS:
            raise CorruptIndexError(f"{where}: data region at {data_pos}, expected {DATA_POS}")
        return cls(
            plan=PLANS[plan_code],
            generation=generation,
            count=count,
            source_lines=source_lines,
            data_len=data_len,
            offsets_crc=offsets_crc,
            data_crc=data_crc,
            data_pos=data_pos,
        )
