"""The one canonical JSON text: what the audit chain hashes and what row digests are taken over.

A leaf module (it imports nothing of dialguard), so the evidence contract can be imported from
storage, the recording services and the verifier alike without an import cycle.
"""

from __future__ import annotations

import json
from typing import Any

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
"""Made once: ``json.dumps`` with these options builds an encoder per call, which costs more
than encoding a row's digest payload."""


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no insignificant whitespace and UTF-8 kept as is."""
    return _ENCODER.encode(value)
