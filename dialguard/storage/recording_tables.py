"""The recording tables, on the shared :data:`dialguard.storage.columns.metadata`.

``recordings`` rows are never deleted: deleting a recording removes its file and turns the row
into a tombstone (``deleted_at``/``deleted_by``/``deleted_hash``), which is the evidence that it
was kept as long as the law required and then removed. Retention terms are copied from the rule
pack when the recording is ingested, so a later pack change never silently shortens what an
existing recording was promised. ``recording_events`` is the hold/release/anchor/delete history.
Migration ``0002_recordings`` creates both; ``i20`` adds ``notice``/``notice_prompt`` (the
recording notice: ``played``/``missing`` and the sound, NULL when none was required).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from .columns import Id, UTCDateTime, metadata, restriction_columns, salt_column

recordings = Table(
    "recordings",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("decision_id", String(36), nullable=False, index=True),
    Column("call_id", Text),
    Column("caller", Text, nullable=False),
    Column("callee", Text, nullable=False),
    Column("tenant", String(64), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime(), nullable=False),
    Column("duration_ms", Integer),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("region", String(16), nullable=False),
    Column("vault_path", Text, nullable=False),
    Column("retention_class", String(64), nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("anchor_event", String(64), nullable=False),
    Column("anchor_at", UTCDateTime()),
    Column("min_days", Integer, nullable=False),
    Column("retain_until", UTCDateTime(), index=True),
    Column("legal_hold", Boolean, nullable=False),
    Column("hold_reason", Text),
    Column("hold_by", Text),
    Column("hold_at", UTCDateTime()),
    Column("ingested_at", UTCDateTime(), nullable=False),
    Column("deleted_at", UTCDateTime()),
    Column("deleted_by", Text),
    Column("deleted_hash", String(64)),
    Column("notice", String(16)),
    Column("notice_prompt", Text),
    *restriction_columns(),
    salt_column(),
    Index(None, "tenant", "ended_at"),
)

recording_events = Table(
    "recording_events",
    metadata,
    Column("id", Id, primary_key=True),
    Column("recording_id", Id, ForeignKey("recordings.id"), nullable=False, index=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("action", String(32), nullable=False),
    Column("actor", Text, nullable=False),
    Column("reason", Text, nullable=False),
)
