"""Data-subject tables, on the shared :data:`dialguard.storage.columns.metadata` (migration 0003).

Neither table holds a phone number. ``dsr_requests`` names its subject by keyed hash (and a
masked form for people); ``dnc_hashed`` is what is left of an erased person's opt-outs: the keyed
hash of the number, so the gate can still refuse to call it, and nothing that identifies them.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, String, Table, Text

from .columns import Id, UTCDateTime, metadata

HASH = String(64)

dsr_requests = Table(
    "dsr_requests",
    metadata,
    Column("id", Id, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("subject_hash", HASH, nullable=False, index=True),
    Column("subject_masked", String(32), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("deadline", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("completed_at", UTCDateTime()),
    Column("handled_by", Text, nullable=False),
    Column("outcome", JSON),
)

dnc_hashed = Table(
    "dnc_hashed",
    metadata,
    Column("id", Id, primary_key=True),
    Column("number_hash", HASH, nullable=False),
    Column("scope", String(16), nullable=False),
    Column("tenant", String(64)),
    Column("campaign", String(128)),
    Column("added_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime()),
    Column("erased_at", UTCDateTime(), nullable=False),
    Column("removed_at", UTCDateTime()),
    Column("removed_by", Text),
    Column("removal_reason", Text),
    Index(None, "number_hash"),
)
