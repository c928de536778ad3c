"""Do-not-call lists: add, remove, the public opt-out and list imports.

An opt-out is immediate and permanent; a removal needs a reason and keeps the history. Every
change is audited with the entries before and after (numbers masked, free text included) and the
evidence of each ``dnc_entries`` row it created or changed — an expired entry retired by a new
one included.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from ..dnc.importer import BadLine
from ..dnc.national import NationalDnc
from ..policy.model import DncEntry, DncScope
from ..storage.records import DncRecord, ImportCounts, Outcome
from ..storage.store import Store, Transaction
from .audited import Actor, Invalid, person, record, required_text
from .vocabulary import known_tenant

DEFAULT_SOURCE = "admin"
OPTOUT_CHANNELS = ("web", "sms", "ivr", "email", "app")
KEYPAD_SOURCE = "callee-keypad"
"""Source of an entry the callee made by pressing the opt-out key during a call
(:func:`keypad_opt_out`); only the PBX transports use it, never the API's or CLI's opt-out."""
IMPORT_BATCH = 5000
"""Entries per import transaction (each with its own audit entry and evidence)."""


async def listings(
    store: Store,
    number: str,
    now: datetime,
    *,
    tenant: str | None = None,
    campaign: str | None = None,
    national: NationalDnc | None = None,
) -> tuple[DncEntry, ...]:
    """What ``dnc check`` and ``GET /v1/dnc`` answer: without ``tenant``, every list ``number``
    is on (global, the national registries, each tenant's and campaign's); with it, the entries
    that bar that (existing) tenant's (campaign's) calls, as the gate reads them. A read: not
    audited."""
    if campaign and not tenant:
        raise Invalid("campaign", "needs a tenant")
    async with store.transaction(readonly=True) as tx:
        if tenant is None:
            found = await tx.dnc.listed(number, now)
        else:
            await known_tenant(tx, tenant)
            found = await tx.dnc.matching(number, tenant, campaign, now)
    return found + (national.entries(number, now) if national is not None else ())


def scope_of(tenant: str | None, campaign: str | None) -> DncScope:
    """The list an entry belongs to: a campaign's (needs its tenant), a tenant's, or global."""
    if campaign and not tenant:
        raise Invalid("campaign", "needs a tenant")
    if campaign:
        return DncScope.CAMPAIGN
    return DncScope.TENANT if tenant else DncScope.GLOBAL


async def _live(
    tx: Transaction, number: str, scope: DncScope, tenant: str | None, campaign: str | None
) -> list[DncRecord]:
    """The number's live entries on that one list, as stored (at most one, by the index)."""
    return [
        r
        for r in await tx.dnc.history(number)
        if r.removed_at is None
        and (r.entry.scope, r.entry.tenant, r.entry.campaign) == (scope, tenant, campaign)
    ]


async def _add(
    tx: Transaction, actor: Actor, action: str, entry: DncEntry, extra: dict[str, Any]
) -> Outcome:
    before = await _live(tx, entry.number, entry.scope, entry.tenant, entry.campaign)
    outcome = await tx.dnc.add(entry)
    after = await _live(tx, entry.number, entry.scope, entry.tenant, entry.campaign)
    detail = {
        "before": before[0].entry if before else None,
        "after": after[0].entry,
        "outcome": outcome.value,
        **extra,
    }
    await record(tx, actor, action, person(tx, entry.number), detail)
    return outcome


async def add_dnc(
    store: Store,
    actor: Actor,
    number: str,
    *,
    tenant: str | None = None,
    campaign: str | None = None,
    reason: str | None = None,
    source: str | None = None,
    expires: datetime | None = None,
) -> tuple[Outcome, DncEntry]:
    """Put ``number`` on a list (an existing tenant's, or global; effective for the next call);
    an entry already live there is left as it is (``unchanged``); one that would already have
    lapsed is refused. Audited ``dnc.add``."""
    if expires is not None and expires <= actor.now:
        raise Invalid("expires", "is already past: the entry would never block a call")
    entry = DncEntry(
        number=number,
        scope=scope_of(tenant, campaign),
        tenant=tenant,
        campaign=campaign,
        source=(source or "").strip() or DEFAULT_SOURCE,
        reason=reason,
        added_at=actor.now,
        expires_at=expires,
        added_by=actor.name,
    )
    async with store.transaction() as tx:
        if tenant is not None:
            await known_tenant(tx, tenant)
        outcome = await _add(tx, actor, "dnc.add", entry, {})
    return outcome, entry


async def opt_out(
    store: Store,
    actor: Actor,
    number: str,
    *,
    channel: str,
    tenant: str | None = None,
    reference: str | None = None,
) -> Outcome:
    """A callee's own opt-out, from ``channel`` (a web form, an SMS, the IVR…): on the global
    list, or ``tenant``'s (which must exist). Audited ``dnc.optout`` with the channel's
    ``reference`` (masked)."""
    if channel not in OPTOUT_CHANNELS:
        raise Invalid("channel", f"must be one of {', '.join(OPTOUT_CHANNELS)}")
    entry = DncEntry(
        number=number,
        scope=DncScope.TENANT if tenant else DncScope.GLOBAL,
        tenant=tenant,
        campaign=None,
        source=channel,
        reason=f"opt-out via {channel}" + (f" (ref {reference})" if reference else ""),
        added_at=actor.now,
        expires_at=None,
        added_by=actor.name,
    )
    async with store.transaction() as tx:
        if tenant is not None:
            await known_tenant(tx, tenant)
        extra = {"channel": channel, "reference": reference}
        return await _add(tx, actor, "dnc.optout", entry, extra)


async def keypad_opt_out(store: Store, actor: Actor, decision_id: str) -> tuple[Outcome, str]:
    """The callee of the call ``decision_id`` pressed the opt-out key: their number goes on
    the call's tenant's list at once (source :data:`KEYPAD_SOURCE`), for good. The number and
    tenant are the stored decision's, never the PBX's word, and only an allowed call (one that
    rang the callee) can opt its callee out. Audited ``dnc.optout`` with the decision id;
    returns the outcome and the tenant."""
    decision_id = required_text("decision_id", decision_id)
    async with store.transaction() as tx:
        decision = await tx.decisions.get(decision_id)
        if decision is None:
            raise Invalid("decision_id", "no such decision")
        if not decision.allowed or decision.callee is None:
            raise Invalid("decision_id", "not an allowed call with a valid callee")
        tenant = decision.attempt.tenant
        entry = DncEntry(
            number=decision.callee,
            scope=DncScope.TENANT,
            tenant=tenant,
            campaign=None,
            source=KEYPAD_SOURCE,
            reason=f"opt-out by keypad during call {decision_id}",
            added_at=actor.now,
            expires_at=None,
            added_by=actor.name,
        )
        await known_tenant(tx, tenant)  # an allowed call: its tenant exists
        extra = {"channel": KEYPAD_SOURCE, "decision_id": decision_id}
        return await _add(tx, actor, "dnc.optout", entry, extra), tenant


async def remove_dnc(
    store: Store,
    actor: Actor,
    number: str,
    *,
    reason: str,
    tenant: str | None = None,
    campaign: str | None = None,
) -> int:
    """Take ``number``'s live entry off one list, keeping it as history; returns how many were
    removed (0: none was live, nothing is audited). Audited ``dnc.remove``."""
    reason = required_text("reason", reason)
    scope = scope_of(tenant, campaign)
    async with store.transaction() as tx:
        before = await _live(tx, number, scope, tenant, campaign)
        removed = await tx.dnc.remove(
            number,
            scope=scope,
            tenant=tenant,
            campaign=campaign,
            reason=reason,
            by=actor.name,
            at=actor.now,
        )
        if removed:
            after = [
                r
                for r in await tx.dnc.history(number)
                if r.removed_at == actor.now and r.removed_by == actor.name
            ]
            detail = {
                "scope": scope.value,
                "tenant": tenant,
                "campaign": campaign,
                "reason": reason,
                "before": before,
                "after": after,
                "removed": removed,
            }
            await record(tx, actor, "dnc.remove", person(tx, number), detail)
    return removed


class _Lines:
    """The good lines of an import, counting and reporting the bad ones as they go by."""

    def __init__(
        self, items: Iterable[tuple[int, str] | BadLine], on_bad_line: Callable[[BadLine], None]
    ) -> None:
        self._items = iter(items)
        self._on_bad_line = on_bad_line
        self.bad = 0

    def __iter__(self) -> Iterator[tuple[int, str]]:
        return self

    def __next__(self) -> tuple[int, str]:
        while True:
            item = next(self._items)
            if not isinstance(item, BadLine):
                return item
            self.bad += 1
            self._on_bad_line(item)


@dataclass(frozen=True)
class ImportReport:
    """How far an import got: entries added and left as they were (already listed), bad lines
    skipped, batches committed (each with its audit entry), the last line they covered."""

    inserted: int
    unchanged: int
    bad_lines: int
    batches: int
    last_line: int = 0
    interrupted: bool = False


async def import_dnc(
    store: Store,
    actor: Actor,
    items: Iterable[tuple[int, str] | BadLine],
    *,
    label: str,
    tenant: str | None = None,
    source: str | None = None,
    reason: str | None = None,
    on_bad_line: Callable[[BadLine], None] = lambda _: None,
    on_batch: Callable[[ImportReport], None] = lambda _: None,
) -> ImportReport:
    """Import numbers (``(line_no, e164)`` items, bad lines reported and skipped) onto the
    global list or an existing ``tenant``'s, in audited chunks of :data:`IMPORT_BATCH` entries:
    each chunk is one transaction with its ``dnc.import.batch`` entry (``label`` — the file —,
    its line range, counts and the evidence of its rows), so every row kept is accounted for
    whenever the import stops; ``dnc.import`` sums them up at the end.

    Cancelled (Ctrl-C), the chunk in flight is finished (its rows and its entry, or neither:
    one transaction), the summary is audited with ``interrupted: true`` and what was kept, and
    :class:`ImportInterrupted` carries the same report. ``on_batch`` sees the running report
    after each chunk."""
    label = required_text("label", label)
    source = (source or "").strip() or "import"
    common = {"label": label, "tenant": tenant, "source": source, "reason": reason}
    if tenant is not None:
        async with store.transaction(readonly=True) as tx:
            await known_tenant(tx, tenant)
    scope = scope_of(tenant, None)
    lines = _Lines(items, on_bad_line)
    counts = ImportCounts()
    batches = last_line = 0

    async def write(batch: list[tuple[int, str]], number: int) -> ImportCounts:
        entries = [
            DncEntry(e164, scope, tenant, None, source, reason, actor.now, None, actor.name)
            for _, e164 in batch
        ]
        async with store.transaction() as tx:
            added = await tx.dnc.add_many(entries)
            detail = {
                **common,
                "batch": number,
                "lines": [batch[0][0], batch[-1][0]],
                "inserted": added.inserted,
                "unchanged": added.already_present,
            }
            await record(tx, actor, "dnc.import.batch", label, detail)
        return added

    interrupted = False
    try:
        while batch := list(islice(lines, IMPORT_BATCH)):
            in_flight = asyncio.ensure_future(write(batch, batches + 1))
            try:
                added = await asyncio.shield(in_flight)
            except asyncio.CancelledError:
                interrupted = True
                added = await in_flight  # the chunk in flight: all of it, or none of it
            counts += added
            batches += 1
            last_line = batch[-1][0]
            report = ImportReport(
                counts.inserted, counts.already_present, lines.bad, batches, last_line
            )
            if interrupted:
                break
            on_batch(report)
            await asyncio.sleep(0)  # a cancellation lands between chunks too
    except asyncio.CancelledError:
        interrupted = True
    report = ImportReport(
        counts.inserted, counts.already_present, lines.bad, batches, last_line, interrupted
    )
    async with store.transaction() as tx:
        detail = {
            **common,
            "batches": batches,
            "inserted": report.inserted,
            "unchanged": report.unchanged,
            "bad_lines": report.bad_lines,
            **({"interrupted": True, "last_line": last_line} if interrupted else {}),
        }
        await record(tx, actor, "dnc.import", label, detail)
    if interrupted:
        raise ImportInterrupted(report)
    return report


class ImportInterrupted(Exception):
    """An import stopped by a cancellation (Ctrl-C) after ``report.batches`` audited chunks."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        super().__init__(
            f"interrupted: kept {report.inserted} new entries ({report.unchanged} already "
            f"listed) from lines 1-{report.last_line} in {report.batches} audited batch(es)"
        )
