"""Access requests (PIPL Art 45, GDPR Art 15): everything held about a number, as JSON.

Restricted rows are included and marked (``restricted: true``): the subject's own access is one
of the uses restriction still allows. Audio is decrypted only on request, next to the JSON, and
the export is written like every evidence file: complete or not at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from ..files.durable import atomic_write
from ..recording.vault import Vault
from ..storage.dsr_requests import DsrStatus
from ..storage.store import Transaction
from ..views import jsonable
from .sensitive import ExportRole

FORMAT = "dialguard-subject-export/1"


@dataclass(frozen=True)
class Export:
    request_id: int
    data: dict[str, Any]
    counts: dict[str, int]
    """Rows exported, per kind."""


async def export_subject(
    tx: Transaction,
    number: str,
    request_id: int,
    *,
    by: str,
    now: datetime,
    as_role: ExportRole | None = None,
) -> Export:
    """Collect everything held about ``number`` and complete request ``request_id`` with the
    counts; writing it out is the caller's job (:func:`write_export` for a file, or an API
    response), auditing it :mod:`dialguard.ops.dsr`'s.

    ``as_role`` (the API) checks the requester's role against the packs of every tenant the
    export holds records of; :class:`~dialguard.rights.sensitive.ExportRefused` then rolls the
    whole transaction back, so a received request stays open and nothing is marked exported.
    None (the CLI: the operator on the gate host) exports everything."""
    key = tx.subject_key
    held = await tx.subject_data.export(number, key.digest(number), key.subject(number))
    if as_role is not None:
        await as_role.check(tx, held)
    counts = {name: len(rows) for name, rows in held.items()}
    await tx.dsr.finish(request_id, DsrStatus.COMPLETED, at=now, by=by, outcome=counts)
    data = {
        "format": FORMAT,
        "subject": number,
        "request": request_id,
        "generated_at": now.isoformat(),
        **jsonable(held),
    }
    return Export(request_id, data, counts)


def write_export(export: Export, out: Path, vault: Vault | None = None) -> list[Path]:
    """Write the JSON to ``out``; with a ``vault``, decrypt each live recording into
    ``<out stem>-audio/<name>.wav``. Returns the files written."""
    written: list[Path] = []
    if vault is not None:
        audio_dir = out.with_name(f"{out.stem}-audio")
        for recording in export.data["recordings"]:
            if recording["deleted_at"] is not None:
                continue
            target = audio_dir / f"{recording['name']}.wav"

            def write(handle: BinaryIO, recording: dict[str, Any] = recording) -> None:
                for chunk in vault.plaintext(recording["region"], recording["vault_path"]):
                    handle.write(chunk)

            atomic_write(target, write)
            written.append(target)
    payload = json.dumps(export.data, ensure_ascii=False, indent=2).encode() + b"\n"
    atomic_write(out, lambda handle: handle.write(payload))
    written.insert(0, out)
    return written
