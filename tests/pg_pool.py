"""Resetting a migrated PostgreSQL copy to its template's state, so one copy serves many tests.

``CREATE DATABASE … TEMPLATE`` and the ``DROP DATABASE`` after it cost more than most storage
tests. A copy a test has used differs from the template only in what the test did to it, which
for nearly every test is rows and sequence values: :func:`reset` takes those back (every table's
rows deleted, the seed rows the migrations insert, ``alembic_version`` among them, copied in
again, every sequence set to the template's value, in one transaction). Isolation stays exact
because anything else a test may have done refuses the reset, and the caller drops the copy
instead: a session the test left open that will not end, a schema that no longer matches the
template's fingerprint (a test that altered, tampered with or downgraded it), a reset that fails.

Rows are deleted child tables first (PostgreSQL lets only a superuser skip the foreign-key
triggers with ``session_replication_role``); ``DELETE`` of a few rows is cheaper than
``TRUNCATE``, which makes new files for every table and index.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

USER_NAMESPACES = """
    n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
"""

FINGERPRINT_SQL = f"""
SELECT md5(concat_ws(' | ',
  (SELECT string_agg(concat_ws(':', n.nspname, n.nspowner::regrole), ',' ORDER BY n.nspname)
     FROM pg_namespace n WHERE {USER_NAMESPACES}),
  (SELECT string_agg(concat_ws(':', n.nspname, c.relname, c.relkind, c.relpersistence,
                               c.relowner::regrole::text, c.relacl::text, c.relrowsecurity,
                               c.reloptions::text), ','
                     ORDER BY n.nspname, c.relname)
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER_NAMESPACES}),
  (SELECT string_agg(concat_ws(':', a.attrelid::regclass::text, a.attnum, a.attname,
                               format_type(a.atttypid, a.atttypmod), a.attnotnull,
                               a.attidentity, a.attgenerated, a.attisdropped, a.attcollation,
                               pg_get_expr(d.adbin, d.adrelid)), ','
                     ORDER BY a.attrelid::regclass::text, a.attnum)
     FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attnum > 0 AND {USER_NAMESPACES}),
  (SELECT string_agg(concat_ws(':', pg_get_indexdef(i.indexrelid), i.indisvalid), ','
                     ORDER BY pg_get_indexdef(i.indexrelid))
     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER_NAMESPACES}),
  (SELECT string_agg(concat_ws(':', k.conrelid::regclass::text, k.contypid::regtype::text,
                               k.conname, pg_get_constraintdef(k.oid), k.convalidated), ','
                     ORDER BY k.conrelid::regclass::text, k.conname)
     FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
     WHERE {USER_NAMESPACES}),
  (SELECT string_agg(concat_ws(':', pg_get_triggerdef(t.oid), t.tgenabled), ','
                     ORDER BY pg_get_triggerdef(t.oid))
     FROM pg_trigger t WHERE NOT t.tgisinternal),
  (SELECT string_agg(concat_ws(':', p.oid::regprocedure::text, p.prokind,
                               p.prorettype::regtype::text, md5(p.prosrc)), ','
                     ORDER BY p.oid::regprocedure::text)
     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {USER_NAMESPACES}),
  (SELECT string_agg(concat_ws(':', s.seqrelid::regclass::text, s.seqtypid::regtype::text,
                               s.seqstart, s.seqincrement, s.seqmax, s.seqmin, s.seqcache,
                               s.seqcycle), ','
                     ORDER BY s.seqrelid::regclass::text)
     FROM pg_sequence s),
  (SELECT string_agg(concat_ws(':', t.oid::regtype::text, t.typtype,
                               (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                                  FROM pg_enum e WHERE e.enumtypid = t.oid)), ','
                     ORDER BY t.oid::regtype::text)
     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER_NAMESPACES}),
  (SELECT string_agg(pg_get_ruledef(r.oid), ',' ORDER BY pg_get_ruledef(r.oid))
     FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER_NAMESPACES}),
  (SELECT string_agg(concat_ws(':', p.polrelid::regclass::text, p.polname, p.polcmd,
                               pg_get_expr(p.polqual, p.polrelid)), ','
                     ORDER BY p.polrelid::regclass::text, p.polname)
     FROM pg_policy p),
  (SELECT string_agg(concat_ws(':', e.extname, e.extversion), ',' ORDER BY e.extname)
     FROM pg_extension e),
  (SELECT string_agg(array_to_string(s.setconfig, ';'), ',' ORDER BY s.setrole)
     FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
     WHERE d.datname = current_database()),
  (SELECT count(*) FROM pg_largeobject_metadata),
  (SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database())
))
"""
"""A digest of the database's schema from the catalogs: namespaces, relations, columns and
their defaults, indexes, constraints, triggers, functions, sequences' definitions, types,
rules (views), row policies, extensions, the database's settings, and the state no table
holds (large objects, prepared transactions)."""

TABLES_SQL = f"""
SELECT c.oid, n.nspname, c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND {USER_NAMESPACES}
 ORDER BY n.nspname, c.relname
"""

FOREIGN_KEYS_SQL = "SELECT conrelid, confrelid FROM pg_constraint WHERE contype = 'f'"

SEQUENCES_SQL = """
SELECT format('SELECT setval(%L, %s, %L)', format('%I.%I', schemaname, sequencename),
              coalesce(last_value, start_value), last_value IS NOT NULL)
  FROM pg_sequences ORDER BY schemaname, sequencename
"""

END_OTHER_SESSIONS_SQL = """
SELECT count(*) FILTER (WHERE NOT pg_terminate_backend(pid, 5000))
  FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid()
   AND backend_type = 'client backend'
"""
"""Ends the sessions a test left open in the database (their open transactions roll back) and
counts those that did not end within five seconds."""


@dataclass(frozen=True)
class Seed:
    """Rows the migrations leave in one table."""

    schema: str
    table: str
    columns: tuple[str, ...]
    records: tuple[tuple[object, ...], ...]


@dataclass(frozen=True)
class TemplateState:
    """What a freshly migrated copy holds, captured once from the template."""

    fingerprint: str
    clear_sql: str
    """Every table's rows deleted, child tables first, and every sequence set to the
    template's value: one script."""
    seeds: tuple[Seed, ...]


def _quoted(schema: str, table: str) -> str:
    return '"{}"."{}"'.format(schema.replace('"', '""'), table.replace('"', '""'))


async def capture(conn: asyncpg.Connection) -> TemplateState:
    """The state of the migrated database ``conn`` is connected to."""
    tables = {row["oid"]: (row["nspname"], row["relname"]) for row in await conn.fetch(TABLES_SQL)}
    children: dict[int, set[int]] = {oid: set() for oid in tables}
    for row in await conn.fetch(FOREIGN_KEYS_SQL):
        if row["confrelid"] in children and row["conrelid"] != row["confrelid"]:
            children[row["confrelid"]].add(row["conrelid"])
    order: list[int] = []

    def after_children(oid: int, seen: set[int]) -> None:
        if oid in seen:
            return
        seen.add(oid)
        for child in sorted(children[oid]):
            after_children(child, seen)
        order.append(oid)

    seen: set[int] = set()
    for oid in tables:
        after_children(oid, seen)
    deletes = [f"DELETE FROM {_quoted(*tables[oid])}" for oid in order]
    setvals = [row[0] for row in await conn.fetch(SEQUENCES_SQL)]
    seeds = []
    for schema, table in tables.values():
        rows = await conn.fetch(f"SELECT * FROM {_quoted(schema, table)}")
        if rows:
            columns = tuple(rows[0].keys())
            seeds.append(Seed(schema, table, columns, tuple(tuple(row) for row in rows)))
    return TemplateState(
        fingerprint=await conn.fetchval(FINGERPRINT_SQL),
        clear_sql=";\n".join(deletes + setvals),
        seeds=tuple(seeds),
    )


async def reset(conn: asyncpg.Connection, state: TemplateState) -> bool:
    """Bring the database ``conn`` is connected to back to ``state``; ``False`` (and nothing
    changed) when that cannot be done exactly: a session of the test's did not end, or the
    schema is no longer the template's. A failing reset raises; either way the caller drops
    the database."""
    if await conn.fetchval(END_OTHER_SESSIONS_SQL):
        return False
    async with conn.transaction():
        if await conn.fetchval(FINGERPRINT_SQL) != state.fingerprint:
            return False
        await conn.execute(state.clear_sql)
        for seed in state.seeds:
            await conn.copy_records_to_table(
                seed.table, schema_name=seed.schema, columns=seed.columns, records=seed.records
            )
    return True
