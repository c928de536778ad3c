"""Audit settings: the ``[audit]`` section (``DIALGUARD_AUDIT_*`` in the environment)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AuditSettings:
    """``[audit]``: the signed checkpoints of the tamper-evident audit log."""

    checkpoint_file: str = "/var/lib/dialguard/audit-checkpoints.jsonl"
    """Signed checkpoints, one JSON object a line, appended and fsync'd. Ship it elsewhere (or
    point it at storage the database administrators cannot write) so the log cannot be rewritten
    together with its checkpoints."""
    signing_key_file: str = "/etc/dialguard/audit-signing.key"
    """Ed25519 private key (PEM, mode 0600); ``dialguard audit init-key`` or ``dialguard init``."""
    checkpoint_interval_s: int = 2
    """How often ``dialguard serve`` signs a checkpoint of what was appended since the last one
    (0: only ``dialguard audit checkpoint``). It bounds the unsigned tail: an entry committed
    more than this (plus the few milliseconds of signing) ago is covered by a checkpoint that
    nobody can re-sign, so cutting or re-hashing it shows in ``audit verify``."""
