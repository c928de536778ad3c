"""The register of access numbers a tenant may present, as filed with the regulator (码号).

One operation per change of a filing; each is audited with the registration before and after and
the evidence of the ``registered_numbers`` row. The number is the tenant's own, not a person's:
it stays in clear in the entry (subject and detail).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..policy.model import NumberType, RegisteredNumber
from ..storage.records import Outcome
from ..storage.store import Store
from .audited import Actor, Invalid, record
from .vocabulary import Vocabulary, known_tenant

DEFAULT_PURPOSES = ("callback",)


@dataclass(frozen=True)
class Filing:
    """A registration as requested; ``None`` takes the default (``purposes``: callback; inbound,
    outbound and active: true; ``number_type``: call-centre)."""

    number: str
    tenant: str
    purposes: tuple[str, ...] | None = None
    inbound: bool | None = None
    outbound: bool | None = None
    number_type: str | None = None
    filing_ref: str | None = None
    filed_on: date | None = None
    active: bool | None = None

    def registration(self) -> RegisteredNumber:
        try:
            number_type = NumberType(self.number_type or NumberType.CALL_CENTRE)
        except ValueError:
            kinds = ", ".join(t.value for t in NumberType)
            raise Invalid("type", f"must be one of {kinds}") from None
        purposes = frozenset(p.strip() for p in self.purposes or DEFAULT_PURPOSES)
        if not all(purposes):
            raise Invalid("purposes", "must not be blank")
        return RegisteredNumber(
            number=self.number,
            tenant=self.tenant,
            purposes=purposes,
            inbound_enabled=True if self.inbound is None else self.inbound,
            outbound_enabled=True if self.outbound is None else self.outbound,
            number_type=number_type,
            filing_ref=self.filing_ref,
            filed_on=self.filed_on,
            active=True if self.active is None else self.active,
        )


async def register_number(
    store: Store, actor: Actor, filing: Filing, *, vocabulary: Vocabulary
) -> tuple[Outcome, RegisteredNumber]:
    """Register ``filing.number`` for its tenant (which must exist) and purposes (of
    ``vocabulary``), or replace that registration's filing; audited ``numbers.add``."""
    registration = filing.registration()
    for purpose in sorted(registration.purposes):
        vocabulary.purpose(purpose, "purposes")
    async with store.transaction() as tx:
        await known_tenant(tx, registration.tenant)
        before = [r for r in await tx.numbers.get(registration.number) if r.tenant == filing.tenant]
        outcome = await tx.numbers.add(registration, at=actor.now)
        detail = {
            "before": before[0] if before else None,
            "after": registration,
            "outcome": outcome.value,
        }
        await record(
            tx,
            actor,
            "numbers.add",
            registration.number,
            detail,
            ours=[registration.number],
        )
    return outcome, registration
