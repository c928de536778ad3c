"""Finding a recorded decision by what a person types: its id, or the first characters of it.

A read shared by the CLI (``decisions show``, ``policy show --decision``) and the API
(``GET /v1/decisions/{id}``), so both accept the same shortened ids and refuse the same
ambiguous ones. Nothing is changed and nothing is audited here.
"""

from __future__ import annotations

from ..policy.model import Decision
from ..storage.store import Transaction
from .audited import Invalid, required_text

MIN_PREFIX = 4
"""Fewer characters of an id than this are refused rather than matched."""
CANDIDATES_SHOWN = 5


async def find_decision(tx: Transaction, typed: str, field: str = "decision") -> Decision | None:
    """The decision whose id is ``typed`` or, failing that, the one whose id starts with it;
    None when none does. :class:`Invalid` naming the candidates when several do."""
    typed = required_text(field, typed).lower()
    exact = await tx.decisions.get(typed)
    if exact is not None:
        return exact
    if len(typed) < MIN_PREFIX:
        raise Invalid(field, f"give at least {MIN_PREFIX} characters of a decision id")
    ids = await tx.decisions.ids_starting(typed, limit=CANDIDATES_SHOWN + 1)
    if not ids:
        return None
    if len(ids) > 1:
        shown = ", ".join(ids[:CANDIDATES_SHOWN]) + (", …" if len(ids) > CANDIDATES_SHOWN else "")
        raise Invalid(field, f"{typed!r} is the start of several decision ids: {shown}")
    return await tx.decisions.get(ids[0])
