"""Upgrading a database whose rows predate row evidence (migration ``i13ev``).

Before it, audit entries did not vouch for the rows they describe, and decisions that were not
recorded did not store their retention class. The migration, in the same transaction as the new
columns:

1. gives every row that names a person an ``evidence_salt`` (random, made by the database);
2. sets the retention class of old decisions that lack one to the industry their tenant had
   *when the call was decided*, read back from the audit log's ``tenants.add`` entries (the
   packs name an industry's retention class after the industry; :mod:`dialguard.rights.erase`
   resolves a name the pack lacks to its default class, as it always did);
3. appends ``audit.baseline`` entries vouching for every evidentiary row as it stands, so the
   deployment verifies cleanly from then on. What was changed *before* the upgrade cannot be
   told from an honest row; the baseline says so (``rows_as_of``) rather than pretending.

Synchronous: Alembic runs migrations on a plain connection.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.engine import Connection

from .audit import NewEntry, append_many_sync
from .evidence import ORDER, UnreadableRow, evidence_table, read_row, rows_query
from .row_digests import EVIDENCE_FIELDS, SALT, Evidence, evidence
from .schema import audit_log, decisions, tenants

ACTOR = "migration"
ACTION = "audit.baseline"
PAGE = 1000
"""Rows vouched for per baseline entry."""

SALTED = tuple(name for name, fields in EVIDENCE_FIELDS.items() if SALT in fields)


def backfill_salts(conn: Connection) -> None:
    """128 random bits per row, from the database's own strong random source."""
    if conn.dialect.name == "postgresql":
        salt = "replace(gen_random_uuid()::text, '-', '')"  # 122 random bits
    else:
        salt = "lower(hex(randomblob(16)))"
    for table in SALTED:
        conn.execute(text(f"UPDATE {table} SET {SALT} = {salt} WHERE {SALT} IS NULL"))


def _industry_history(conn: Connection) -> dict[str, list[tuple[datetime, str]]]:
    """Per tenant, each industry change as (when, the industry before it), oldest first."""
    a = audit_log.c
    history: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    rows = conn.execute(
        select(a.at, a.subject, a.detail).where(a.action == "tenants.add").order_by(a.seq)
    )
    for at, tenant, detail_json in rows:
        try:
            detail = json.loads(detail_json)
            before = (detail.get("before") or {}).get("industry")
            after = detail["after"]["industry"]
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if before is not None and before != after:
            history[tenant].append((at, before))
    return history


def backfill_retention_classes(conn: Connection) -> None:
    """Old decisions without a class get their tenant's industry at the time they were made."""
    current = dict(conn.execute(select(tenants.c.name, tenants.c.industry)).all())
    history = _industry_history(conn)
    d = decisions.c
    legacy = d.retention_class.is_(None)
    for tenant in conn.execute(select(d.tenant).where(legacy).distinct()).scalars():
        changes = history.get(tenant, [])
        bounds = [None, *(at for at, _ in changes), None]
        industries = [*(before for _, before in changes), current.get(tenant, "general")]
        for index, industry in enumerate(industries):
            lower, upper = bounds[index], bounds[index + 1]
            condition = legacy & (d.tenant == tenant)
            if lower is not None:
                condition &= d.decided_at >= lower
            if upper is not None:
                condition &= d.decided_at < upper
            conn.execute(update(decisions).where(condition).values(retention_class=industry))


def write_baseline(conn: Connection, at: datetime) -> int:
    """Append baseline entries for every evidentiary row; returns how many rows were vouched."""
    vouched = 0
    for table in EVIDENCE_FIELDS:
        after = 0
        while True:
            query = rows_query(table, evidence_table(table).c[ORDER] > after).limit(PAGE)
            page = list(conn.execute(query).mappings())
            if not page:
                break
            after = int(page[-1][ORDER])
            items, unreadable = _page_items(table, page)
            detail: dict[str, Any] = {"rows_as_of": "upgrade", "evidence": items}
            if unreadable:
                detail["unreadable"] = unreadable
            append_many_sync(conn, [NewEntry(ACTOR, ACTION, table, detail, at)])
            vouched += len(items)
    return vouched


def _page_items(table: str, page: list[Any]) -> tuple[list[Evidence], list[str]]:
    items: list[Evidence] = []
    unreadable: list[str] = []
    for raw in page:
        try:
            items.append(evidence(table, read_row(table, raw)))
        except UnreadableRow:
            unreadable.append(str(raw[ORDER]))
    return items, unreadable
