"""Persistence: the number registry, DNC lists, consents, the decision log and the audit chain.

SQLite (embedded) or PostgreSQL (several nodes) behind one API; nothing outside this package
imports SQLAlchemy. Typical use::

    await init_database(settings)              # create or upgrade the schema
    store = await Store.open(settings)
    async with store.transaction() as tx:
        await tx.dnc.add(entry)
"""

from .decision_log import DecisionLog
from .errors import SchemaOutOfDate, StorageError, UnknownTenant
from .facts import lookup_facts
from .migrate import head_revision, init_database
from .records import (
    AuditEntry,
    DncRecord,
    FrequencyReset,
    ImportCounts,
    Outcome,
    Tenant,
    require_e164,
)
from .store import Store, Transaction

__all__ = [
    "AuditEntry",
    "DecisionLog",
    "DncRecord",
    "FrequencyReset",
    "ImportCounts",
    "Outcome",
    "SchemaOutOfDate",
    "StorageError",
    "Store",
    "Tenant",
    "Transaction",
    "UnknownTenant",
    "head_revision",
    "init_database",
    "lookup_facts",
    "require_e164",
]
