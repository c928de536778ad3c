"""The campaign script table, on the shared :data:`dialguard.storage.columns.metadata`.

Every registration is kept, refused ones too (with their hits): the refusal is evidence that
the banned wording never went live. A campaign is approved while it has at least one
``approved`` row; a later refused script does not withdraw the earlier approved one, which is
what stays in use. Migration ``0004_campaigns`` creates it.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text

from .columns import Id, UTCDateTime, metadata

campaign_scripts = Table(
    "campaign_scripts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant", String(64), ForeignKey("tenants.name"), nullable=False),
    Column("campaign", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("phrase_packs", JSON, nullable=False),
    Column("phrase_version", Text, nullable=False),
    Column("hits", JSON, nullable=False),
    Column("registered_at", UTCDateTime(), nullable=False),
    Column("registered_by", Text, nullable=False),
    # The gate's lookup: does this tenant's campaign have an approved script?
    Index(None, "tenant", "campaign", "status"),
)
