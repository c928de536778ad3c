"""The register of access numbers a tenant may present, as filed with the regulator (码号).

One operation per change of a filing; each is audited with the registration before and after and
the evidence of the ``registered_numbers`` row. The number is the tenant's own, not a person's:
it stays in clear in the entry (subject and detail).

A number is recognised by the book's numbering plans (E.164, or a class of access code such as
China's 95xxx or 106 ports: :mod:`dialguard.policy.numbering`) and held by one tenant at a time:
a transfer is :func:`end_number` then :func:`register_number`, each audited. Every change is a
version with its own effective instant; :func:`report_change` records when it was reported to
the regulator, and :func:`overdue_changes` names those reported too late or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..policy.calendar import HolidayCalendar
from ..policy.filings import FilingChange, Overdue, filing_day, overdue, start_of
from ..policy.model import NumberType, RegisteredNumber
from ..policy.numbering import Classified, Numbering
from ..storage.records import Outcome
from ..storage.store import Store
from .audited import Actor, Invalid, record
from .tenants import ensure_tenant

DEFAULT_PURPOSES = ("callback",)


@dataclass(frozen=True)
class Filing:
    """A registration (or a new version of one) as requested; ``number`` as typed. ``None``
    takes the default (``purposes``: callback; inbound, outbound and active: true;
    ``number_type``: the class's default, else call-centre; ``effective_from``: a change from
    now, a new registration from the start of ``filed_on`` in Beijing time; without either, no
    effective instant is recorded and the filing is in force at any instant, as before)."""

    number: str
    tenant: str
    purposes: tuple[str, ...] | None = None
    inbound: bool | None = None
    outbound: bool | None = None
    number_type: str | None = None
    filing_ref: str | None = None
    filed_on: date | None = None
    active: bool | None = None
    effective_from: datetime | date | None = None
    """An instant, or a day (from its start in Beijing time)."""
    expires_on: date | None = None

    def registration(self, found: Classified, effective_from: datetime | None) -> RegisteredNumber:
        number_class = found.number_class
        try:
            number_type = NumberType(
                self.number_type
                or (number_class.default_type if number_class else NumberType.CALL_CENTRE)
            )
        except ValueError:
            kinds = ", ".join(t.value for t in NumberType)
            raise Invalid("type", f"must be one of {kinds}") from None
        if number_class is not None and number_type not in number_class.number_types:
            allowed = ", ".join(sorted(number_class.number_types))
            raise Invalid(
                "type",
                f"a {number_class.name} number ({number_class.description}) is filed as "
                f"{allowed}, not {number_type.value}",
            )
        purposes = frozenset(p.strip() for p in self.purposes or DEFAULT_PURPOSES)
        if not all(purposes):
            raise Invalid("purposes", "must not be blank")
        expires = self.expires_on
        if expires is not None and effective_from and expires < filing_day(effective_from):
            raise Invalid("expires_on", f"{expires} is before the filing takes effect")
        return RegisteredNumber(
            number=found.number,
            tenant=self.tenant,
            purposes=purposes,
            inbound_enabled=True if self.inbound is None else self.inbound,
            outbound_enabled=True if self.outbound is None else self.outbound,
            number_type=number_type,
            filing_ref=self.filing_ref,
            filed_on=self.filed_on,
            active=True if self.active is None else self.active,
            number_class=number_class.name if number_class else None,
            effective_from=effective_from,
            expires_on=self.expires_on,
        )


def recognise(numbering: Numbering, raw: str, region: str) -> Classified:
    """``raw`` as the registry stores it, and its class; ValueError naming it otherwise."""
    return numbering.canonical(raw, region)


def _instant(value: datetime | date | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        if isinstance(value, datetime) and value.tzinfo is None:
            raise Invalid("effective_from", "needs a UTC offset (or give a day)")
        return value
    return start_of(value)


async def register_number(
    store: Store, actor: Actor, filing: Filing, numbering: Numbering
) -> tuple[Outcome, RegisteredNumber]:
    """Register ``filing.number`` for its tenant (created if new), or record a new version of
    that registration's filing; audited ``numbers.add``. Refused (:class:`NumberHeld`, a
    ValueError naming the holder) when another tenant holds the number."""
    found = recognise(numbering, filing.number, actor.region)
    async with store.transaction() as tx:
        await ensure_tenant(tx, actor, filing.tenant)
        before = await tx.numbers.get(found.number)
        held = before[0] if before and before[0].tenant == filing.tenant else None
        effective = _instant(filing.effective_from)
        if effective is None and held is not None:
            effective = actor.now
        elif effective is None and filing.filed_on is not None:
            effective = start_of(filing.filed_on)
        registration = filing.registration(found, effective)
        outcome = await tx.numbers.add(registration, at=actor.now, by=actor.name)
        detail = {
            "before": held,
            "after": registration,
            "outcome": outcome.value,
            "class": found.class_name,
        }
        await record(tx, actor, "numbers.add", registration.number, detail, ours=[found.number])
    return outcome, registration


async def end_number(
    store: Store,
    actor: Actor,
    number: str,
    tenant: str,
    numbering: Numbering,
    filed_on: date | None = None,
) -> RegisteredNumber:
    """End ``tenant``'s registration of ``number`` now (the number is then free for another
    tenant; its history stays); audited ``numbers.end``. ``filed_on``: the day the ending was
    reported to the regulator, if it already was."""
    found = recognise(numbering, number, actor.region)
    async with store.transaction() as tx:
        holder = await tx.numbers.holder(found.number)
        if holder != tenant:
            why = f"is held by tenant {holder!r}" if holder else "is not registered"
            raise Invalid("number", f"{found.number} {why}, not by {tenant!r}")
        ended = await tx.numbers.end(
            found.number, tenant, at=actor.now, by=actor.name, filed_on=filed_on
        )
        assert ended is not None
        detail = {"before": ended, "after": None, "ended_at": actor.now, "filed_on": filed_on}
        await record(tx, actor, "numbers.end", found.number, detail, ours=[found.number])
    return ended


async def report_change(store: Store, actor: Actor, change_id: int, filed_on: date) -> FilingChange:
    """Record that change ``change_id`` (``numbers history``) was reported to the regulator on
    ``filed_on``; audited ``numbers.report``."""
    if filed_on > filing_day(actor.now):
        raise Invalid("filed_on", f"{filed_on} is in the future")
    async with store.transaction() as tx:
        before = await tx.numbers.change(change_id)
        if before is None:
            raise Invalid("change", f"no filing change #{change_id}")
        after = await tx.numbers.report(change_id, filed_on)
        assert after is not None
        number = after.terms.number
        detail = {"change": change_id, "before": before, "after": after}
        await record(tx, actor, "numbers.report", number, detail, ours=[number])
    return after


async def number_history(
    store: Store, number: str, numbering: Numbering, region: str
) -> tuple[FilingChange, ...]:
    """Every version of every registration of ``number``, in the order recorded."""
    found = recognise(numbering, number, region)
    async with store.transaction(readonly=True) as tx:
        return await tx.numbers.history(found.number)


async def overdue_changes(
    store: Store, calendar: HolidayCalendar, now: datetime, tenant: str | None = None
) -> tuple[Overdue, ...]:
    """Changes not reported to the regulator within 10 working days (CN calendar)."""
    async with store.transaction(readonly=True) as tx:
        changes = await tx.numbers.changes(tenant)
    return overdue(changes, calendar, filing_day(now))


async def expiring(
    store: Store, now: datetime, within: timedelta, tenant: str | None = None
) -> tuple[RegisteredNumber, ...]:
    """Live registrations whose filing expires (or has expired) by ``now + within``, soonest
    first."""
    last = filing_day(now + within)
    async with store.transaction(readonly=True) as tx:
        rows = await tx.numbers.list(tenant)
    due = [r for r in rows if r.expires_on is not None and r.expires_on <= last]
    return tuple(sorted(due, key=lambda r: (r.expires_on or last, r.number)))
