"""How the API names people in the audit chain, which cannot be edited after an erasure: a phone
number appears only as the subject key's pseudonym (an entry's subject) or masked (its detail),
as the decision log and the data-subject code write them."""

from __future__ import annotations

from typing import Any

from ..numbers import mask_text
from ..storage.store import Transaction
from ..views import jsonable


def subject(tx: Transaction, number: str) -> str:
    """``n:<keyed hash>``: whoever holds the subject key can find the person's entries."""
    return tx.subject_key.subject(number)


def masked(value: Any) -> Any:
    """``value`` as JSON with every phone number in its text masked."""
    plain = jsonable(value)
    if isinstance(plain, str):
        return mask_text(plain)
    if isinstance(plain, dict):
        return {key: masked(item) for key, item in plain.items()}
    if isinstance(plain, list):
        return [masked(item) for item in plain]
    return plain
