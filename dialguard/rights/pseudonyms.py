"""How audit entries name people. The hash chain cannot be edited after an erasure, so a phone
number appears in it only as the subject key's pseudonym (an entry's subject, ``n:<hmac>``) or
masked (``+86 138****8000``, in its detail, free text included). Whoever holds the key can still
find a person's entries; a copy of the database alone cannot."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from ..numbers import mask_text
from ..views import jsonable

if TYPE_CHECKING:
    from ..storage.store import Transaction


def subject(tx: Transaction, number: str) -> str:
    return tx.subject_key.subject(number)


def masked(value: Any, region: str = "CN", keep: Collection[str] = ()) -> Any:
    """``value`` as JSON with every phone number in its text masked (keys included), in any
    spelling :func:`~dialguard.numbers.mask_text` finds, but those in ``keep`` (E.164)."""
    plain = jsonable(value)
    if isinstance(plain, str):
        return mask_text(plain, region, keep)
    if isinstance(plain, dict):
        return {
            mask_text(key, region, keep): masked(item, region, keep) for key, item in plain.items()
        }
    if isinstance(plain, list):
        return [masked(item, region, keep) for item in plain]
    return plain
