"""Records from rows: how a row of a table (a SQLAlchemy row, or the call path's named tuple from
:class:`~dialguard.storage.precompiled.SqliteSelect`) becomes the frozen record the rest of
dialguard sees. Free of SQLAlchemy, so the call path can run without importing it."""

from __future__ import annotations

from typing import Any

from ..policy.model import (
    ConsentRecord,
    ContactFlags,
    DncEntry,
    DncScope,
    NumberType,
    RegisteredNumber,
)
from .records import Tenant

ERASED_SOURCE = "kept after erasure"
"""The source and author of a DNC entry kept, by pseudonym, after its subject's erasure."""


def tenant_from(row: Any) -> Tenant:
    """A row of ``tenants`` (a SQLAlchemy row or the call path's named tuple)."""
    return Tenant(id=row.id, name=row.name, industry=row.industry, created_at=row.created_at)


def registration_from(row: Any) -> RegisteredNumber:
    """A row of ``registered_numbers`` or a version of ``number_filings``."""
    return RegisteredNumber(
        number=row.number,
        tenant=row.tenant,
        purposes=frozenset(row.purposes),
        inbound_enabled=row.inbound_enabled,
        outbound_enabled=row.outbound_enabled,
        number_type=NumberType(row.number_type),
        filing_ref=row.filing_ref,
        filed_on=row.filed_on,
        active=row.active,
        number_class=row.number_class,
        effective_from=row.effective_from,
        expires_on=row.expires_on,
    )


def entry_from(row: Any) -> DncEntry:
    """A row of ``dnc_entries`` (a SQLAlchemy row or the call path's named tuple)."""
    return DncEntry(
        number=row.number,
        scope=DncScope(row.scope),
        tenant=row.tenant,
        campaign=row.campaign,
        source=row.source,
        reason=row.reason,
        added_at=row.added_at,
        expires_at=row.expires_at,
        added_by=row.added_by,
    )


def erased_entry_from(number: str, row: Any) -> DncEntry:
    """A row of ``dnc_hashed``, matched by the pseudonym of ``number``."""
    return DncEntry(
        number=number,
        scope=DncScope(row.scope),
        tenant=row.tenant,
        campaign=row.campaign,
        source=ERASED_SOURCE,
        reason=None,
        added_at=row.added_at,
        expires_at=row.expires_at,
        added_by=ERASED_SOURCE,
    )


def consent_from(row: Any) -> ConsentRecord:
    """A row of ``consents`` (a SQLAlchemy row or the call path's named tuple)."""
    return ConsentRecord(
        consent_id=row.id,
        callee=row.callee,
        tenant=row.tenant,
        purpose=row.purpose,
        evidence_ref=row.evidence_ref,
        channel=row.channel,
        given_at=row.given_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def contact_from(row: Any) -> ContactFlags:
    """A row of ``contacts``."""
    return ContactFlags(number=row.number, minor=row.minor, guardian=row.guardian)
