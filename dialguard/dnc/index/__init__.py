"""A memory-mapped national do-not-call index for lookups in the live call path.

Typical use::

    build_index(Path("dnc-full.txt"), Path("/var/lib/dialguard/us.dnc"), NANP)   # importer
    index = DncIndex.open("/var/lib/dialguard/us.dnc")                            # each gate
    index.contains("+12015550123")
    index.apply_change_list("dnc-changes.txt")                                   # importer
    compact(Path("/var/lib/dialguard/us.dnc"))                                   # weekly

File layout: :mod:`.format`; journal and cross-process visibility: :mod:`.journal`; list
formats: :mod:`.parse`; builds and the atomic swap: :mod:`.build`.
"""

from .build import BuildResult, build_index, compact, read_blocks, read_header
from .format import CN_MOBILE, NANP, CorruptIndexError, DncIndexError, Header, NumberPlan
from .index import DncIndex
from .parse import BadLine, ChangeList, DncFormatError, ParseReport, read_change_list

__all__ = [
    "CN_MOBILE",
    "NANP",
    "BadLine",
    "BuildResult",
    "ChangeList",
    "CorruptIndexError",
    "DncFormatError",
    "DncIndex",
    "DncIndexError",
    "Header",
    "NumberPlan",
    "ParseReport",
    "build_index",
    "compact",
    "read_blocks",
    "read_change_list",
    "read_header",
]
