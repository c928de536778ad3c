"""Sensitive personal data (healthcare patients, PIPL Art 28): which tenants' records the rule
packs mark sensitive, how their numbers are masked in read views, and who may export them.

A tenant's data follows its industry's pack in *every* jurisdiction (``[data] sensitive``,
``[data] export_roles``): a patient stays a patient whichever country the call went to, so one
pack that says "sensitive" is enough, and an export needs a role that every restricting pack
allows (healthcare: ``dsr`` only, not even ``admin``).

These rules bind the admin API, where roles exist. The CLI passes no role: it is the operator
with shell access on the gate host, who can read the database and the key files directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..numbers import mask, mask_text
from ..policy.book import PolicyBook
from ..storage.store import Transaction


@dataclass(frozen=True)
class DataRules:
    """What the packs of one industry say about its tenants' personal data."""

    sensitive: bool = False
    export_roles: frozenset[str] | None = None
    """None: any role that may handle data-subject requests may export."""
    packs: tuple[str, ...] = ()
    """The policy versions (``cn-2026.1+cn-healthcare-2026.1``) that set either rule, named in
    refusals."""


UNRESTRICTED = DataRules()


def data_rules(book: PolicyBook, industry: str) -> DataRules:
    packs = [p for p in book.industry_packs(industry) if p.sensitive_data or p.export_roles]
    if not packs:
        return UNRESTRICTED
    restricting = [p.export_roles for p in packs if p.export_roles]
    return DataRules(
        sensitive=any(p.sensitive_data for p in packs),
        export_roles=frozenset.intersection(*restricting) if restricting else None,
        packs=tuple(sorted({p.policy_version for p in packs})),
    )


class ExportRefused(Exception):
    """The export holds records of a tenant whose packs keep exports to roles the requester
    does not have; the message names the packs and the roles allowed. (Not a
    ``PermissionError``: that is an ``OSError``, which the store reports as an outage.)"""


@dataclass(frozen=True)
class TenantRules:
    """The data rules of every tenant that has any (the others have none)."""

    by_tenant: Mapping[str, DataRules]

    def of(self, tenant: str | None) -> DataRules:
        return self.by_tenant.get(tenant or "", UNRESTRICTED)

    def masks(self, tenant: str | None) -> bool:
        return self.of(tenant).sensitive

    def view(self, tenant: str | None, view: Mapping[str, Any]) -> Mapping[str, Any]:
        """``view`` as a read endpoint shows it: :func:`masked_view` for a sensitive tenant."""
        return masked_view(view) if self.masks(tenant) else view

    def check_export(self, tenants: Iterable[str], role: str) -> None:
        """Raise :class:`ExportRefused` unless ``role`` may export records of all ``tenants``."""
        refusing = [
            rules
            for rules in (self.of(t) for t in sorted(set(tenants)))
            if rules.export_roles is not None and role not in rules.export_roles
        ]
        if refusing:
            packs = sorted({name for rules in refusing for name in rules.packs})
            allowed = frozenset.intersection(*(r.export_roles or frozenset() for r in refusing))
            raise ExportRefused(
                f"the export holds sensitive personal data (rule pack {', '.join(packs)}): "
                f"only role {', '.join(sorted(allowed)) or '(none)'} may export it, "
                f"not {role!r}"
            )


async def tenant_rules(tx: Transaction, book: PolicyBook) -> TenantRules:
    rules: dict[str, DataRules] = {}
    cache: dict[str, DataRules] = {}
    for tenant, industry in (await tx.subject_data.industries()).items():
        if industry not in cache:
            cache[industry] = data_rules(book, industry)
        if cache[industry] is not UNRESTRICTED:
            rules[tenant] = cache[industry]
    return TenantRules(rules)


@dataclass(frozen=True)
class ExportRole:
    """An export requested through the API: the requester's role, checked against the packs of
    every tenant the export holds records of, inside the export's transaction."""

    role: str
    book: PolicyBook

    async def check(self, tx: Transaction, export: Mapping[str, Any]) -> None:
        (await tenant_rules(tx, self.book)).check_export(tenants_in(export), self.role)


def tenants_in(export: Mapping[str, Any]) -> set[str]:
    """Every tenant named by a record of a subject export (rows with a ``tenant`` column)."""
    found: set[str] = set()
    for rows in export.values():
        if isinstance(rows, Sequence) and not isinstance(rows, str):
            found.update(
                row["tenant"] for row in rows if isinstance(row, Mapping) and row.get("tenant")
            )
    return found


def masked_view(view: Mapping[str, Any]) -> dict[str, Any]:
    """A decision or recording view (:mod:`dialguard.views`, :mod:`dialguard.recording.views`)
    with caller and callee masked, and digit runs masked in the free text that may repeat them
    (reason messages, recording names and vault paths, custody event reasons)."""
    out = dict(view)
    for key in ("caller", "callee"):
        if isinstance(out.get(key), str):
            out[key] = mask(out[key])
    for key in ("name", "vault_path"):
        if isinstance(out.get(key), str):
            out[key] = mask_text(out[key])
    for key in ("reasons", "events"):
        if isinstance(out.get(key), list):
            out[key] = [_masked_text_fields(item) for item in out[key]]
    return out


def _masked_text_fields(item: Any) -> Any:
    if not isinstance(item, Mapping):
        return item
    return {
        k: mask_text(v) if k in ("message", "reason") and isinstance(v, str) else v
        for k, v in item.items()
    }
