"""``dnc import`` as an operator runs it: audited chunks that survive Ctrl-C with every kept row
accounted for, files that are not UTF-8 text refused in one line, ``--dry-run`` and
``--max-bad-lines``, and progress lines when nobody watches a terminal."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from builders import DIALGUARD_PROCESS, Run

from dialguard.ops.dnc import IMPORT_BATCH


def _rows_and_audited(db: Path) -> tuple[int, int, list[dict[str, object]]]:
    with closing(sqlite3.connect(db)) as conn:
        (rows,) = conn.execute("SELECT count(*) FROM dnc_entries").fetchone()
        details = [
            (action, json.loads(detail))
            for action, detail in conn.execute("SELECT action, detail FROM audit_log ORDER BY seq")
        ]
    batches = sum(int(d["inserted"]) for action, d in details if action == "dnc.import.batch")
    summaries = [d for action, d in details if action == "dnc.import"]
    return rows, batches, summaries


@contextmanager
def sigint_heard_by_children() -> Iterator[None]:
    """A shell starts a background job (``./dev test &``, ``nohup``) with SIGINT ignored, an
    ignored signal stays ignored across ``exec``, and Python then never raises
    ``KeyboardInterrupt``: the import would run to its end. A handled signal is reset to its
    default in the child, so the child hears Ctrl-C as a command in a terminal does."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_an_interrupted_import_keeps_only_audited_chunks(
    dg_env: dict[str, str], dg: Run, tmp_path: Path
) -> None:
    # Far more chunks than the interrupt needs: on a loaded machine this process may be
    # descheduled for seconds between the first progress line and the signal, and the import
    # must still be running when it arrives.
    chunks = 200
    big = tmp_path / "big.txt"
    big.write_text("".join(f"+86139{i:08d}\n" for i in range(IMPORT_BATCH * chunks)))
    with sigint_heard_by_children():
        importing = subprocess.Popen(
            [*DIALGUARD_PROCESS, "dnc", "import", str(big)],  # a process of its own for SIGINT
            env=dg_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    assert importing.stderr is not None
    first = importing.stderr.readline()  # not a terminal: a progress line after the first chunk
    assert f"{big}: up to line {IMPORT_BATCH}: {IMPORT_BATCH} new" in first, first
    importing.send_signal(signal.SIGINT)
    out, err = importing.communicate(timeout=120)
    assert importing.returncode == 130, (out, err)
    assert "interrupted: kept" in err and "Import the file again to add the rest" in err
    assert "Traceback" not in err

    rows, audited, summaries = _rows_and_audited(tmp_path / "dg.db")
    assert 0 < rows < IMPORT_BATCH * chunks and rows % IMPORT_BATCH == 0
    assert rows == audited
    assert summaries == [
        {
            "label": "big.txt", "tenant": None, "source": "import", "reason": None,
            "batches": rows // IMPORT_BATCH, "inserted": rows, "unchanged": 0, "bad_lines": 0,
            "interrupted": True, "last_line": rows,
        }
    ]  # fmt: skip
    assert f"kept {rows} new entries (0 already listed) from lines 1-{rows}" in err
    dg("audit", "verify")


def test_files_that_are_not_utf8_text_are_named(dg: Run, tmp_path: Path) -> None:
    utf16 = tmp_path / "export.txt"
    utf16.write_bytes("13800138000\n13900139000\n".encode("utf-16"))
    result = dg("dnc", "import", str(utf16), expect=2)
    assert result.stderr == (
        f"error: {utf16}: UTF-16 text (byte-order mark); save it as UTF-8 and import again\n"
    )
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 4)
    result = dg("dnc", "import", str(junk), expect=2)
    assert result.stderr == f"error: {junk}: binary data (NUL byte at offset 0), not a text list\n"
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("姓名,number\n王,13800138000\n".encode("gbk"))
    result = dg("dnc", "import", str(gbk), expect=2)
    assert result.stderr.startswith(f"error: {gbk}: not UTF-8 text (byte 0xd0 at offset 0)")
    assert len(result.stderr.splitlines()) == 1


def test_dry_run_and_max_bad_lines_import_nothing(dg: Run, tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text("13800138000\nnot a number\n13900139000\n12345\n")
    dry = dg("dnc", "import", str(listing), "--dry-run", expect=1)
    assert dry.stdout == "dry run: 2 numbers, 2 bad lines; nothing imported\n"
    assert f"{listing}:2:" in dry.stderr and f"{listing}:4:" in dry.stderr
    over = dg("dnc", "import", str(listing), "--max-bad-lines", "1", expect=2)
    assert over.stderr.endswith(
        f"error: {listing}: 2 bad lines, more than --max-bad-lines 1; nothing imported\n"
    )
    assert "not listed anywhere" in dg("dnc", "check", "13800138000").stdout
    done = dg("dnc", "import", str(listing), "--max-bad-lines", "2", expect=1)
    assert done.stdout == "imported 2 new, 0 already listed, 2 bad lines\n"
    assert done.stderr.count(f"{listing}:2:") == 1  # each bad line reported once
