"""Data-subject request settings: the ``[dsr]`` section (``DIALGUARD_DSR_*`` in the environment)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DsrSettings:
    """``[dsr]``: data-subject requests (access, correction, erasure) and subject pseudonyms."""

    deadline_days: int = 15
    """Days to answer a request (PIPL practice: 15 working days; GDPR: one month)."""
    hash_key_file: str = "/etc/dialguard/subject-hash.key"
    """Secret HMAC key for subject pseudonyms (kept DNC entries of erased people, audit subjects,
    request subjects). Losing or replacing it un-blocks every erased opt-out: back it up with the
    database, and give every gate node the same file. Created by ``dialguard init``."""
