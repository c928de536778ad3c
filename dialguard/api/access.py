"""Who may call what: the one table from an endpoint's access class to the roles allowed it.

Every endpoint declares one :class:`Access`; nothing else in the API decides authorisation.
``admin`` is in every set on purpose (it may do everything) rather than special-cased in code.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from ..tokens.tokens import Role


class Access(enum.StrEnum):
    PUBLIC = "public"
    """No token: the public opt-out and the API description."""
    OPERATE = "operate"
    """Running the gate: tenants, numbers, DNC, consent, frequency, the pre-dial check, scripts
    and text checks, legal holds and retention anchors of recordings."""
    AUDIT = "audit"
    """Reading the evidence: audit log and its verification, decisions, recording metadata."""
    RIGHTS = "rights"
    """Data-subject requests (export, correct, erase)."""
    ADMIN = "admin"
    """Who may use the API: creating, listing and revoking tokens."""


ALLOWED: Mapping[Access, frozenset[Role]] = {
    Access.PUBLIC: frozenset(Role),
    Access.OPERATE: frozenset({Role.ADMIN, Role.OPERATOR}),
    Access.AUDIT: frozenset({Role.ADMIN, Role.AUDITOR}),
    Access.RIGHTS: frozenset({Role.ADMIN, Role.DSR}),
    Access.ADMIN: frozenset({Role.ADMIN}),
}


def allows(access: Access, role: Role) -> bool:
    return role in ALLOWED[access]
