"""Log lines through both formats: hostile caller names and free text stay on one line, cannot
forge a field, and every phone number in them is masked, whatever escaping it needed."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator

import pytest

from dialguard.logs import MaskingFormatter, bind_call, configure

NUMBER = "13800138000"
MASKED = "138****8000"
HOSTILE = {
    "newline": f"Mallory\n{NUMBER} level=critical event=forged",
    "carriage return": f"Eve\r\nts=2020-01-01 level=error call={NUMBER}",
    "escape sequence": f"\x1b[2J\x1b[31m {NUMBER}\x07",
    "unicode line separators": f"a\u2028{NUMBER}\u2029b\x85c",
    "quotes and equals": f'x" reason="forged" {NUMBER}=1 \\',
    "surrogate-escaped bytes": f"caller\udcff\udcfe{NUMBER}",
    "tab and DEL": f"\t{NUMBER}\x7f",
}
TEXT_PAIR = re.compile(r'([^\s=]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)(?:\s|$)')


def make_record(
    message: str, args: tuple[object, ...], fields: dict[str, object]
) -> logging.LogRecord:
    entry = logging.LogRecord("dialguard.agi", logging.WARNING, __file__, 1, message, args, None)
    entry.fields = fields
    return entry


def parse_text(line: str) -> dict[str, str]:
    """A text-format line back into its fields; fails on anything that is not ``key=value``."""
    pairs: dict[str, str] = {}
    position = 0
    for match in TEXT_PAIR.finditer(line):
        assert match.start() == position, line[position:]
        key, raw = match.groups()
        assert key not in pairs, f"field {key} given twice: {line}"
        pairs[key] = json.loads(raw) if raw.startswith('"') else raw
        position = match.end()
    assert position == len(line), line[position:]
    return pairs


def masked(value: str) -> str:
    return value.replace(NUMBER, MASKED)


@pytest.mark.parametrize("hostile", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
def test_hostile_caller_names_and_reasons_stay_one_masked_line(hostile: str, as_json: bool) -> None:
    entry = make_record(
        "call denied for %s", (hostile,), {"caller_name": hostile, "reason": [hostile], "n": 7}
    )
    bind_call(f"1754470000.7\n{NUMBER}")
    try:
        line = MaskingFormatter(as_json=as_json).format(entry)
    finally:
        bind_call(None)
    assert len(line.splitlines()) == 1, line
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]", line), repr(line)
    assert NUMBER not in line and MASKED in line
    line.encode("utf-8")  # what stderr will be asked to write
    fields = json.loads(line) if as_json else parse_text(line)
    assert set(fields) == {"ts", "level", "logger", "event", "call", "caller_name", "reason", "n"}
    assert fields["level"] == "warning"
    assert fields["event"] == masked(f"call denied for {hostile}")
    assert fields["caller_name"] == masked(hostile)
    assert fields["call"] == masked(f"1754470000.7\n{NUMBER}")
    reason = fields["reason"] if as_json else json.loads(fields["reason"])
    assert reason == [masked(hostile)]


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
def test_a_traceback_is_masked_and_kept_on_the_line(as_json: bool) -> None:
    try:
        raise ValueError(f"no route for {NUMBER}\nlevel=info")
    except ValueError:
        entry = make_record("failed", (), {})
        entry.exc_info = sys.exc_info()
    line = MaskingFormatter(as_json=as_json).format(entry)
    assert len(line.splitlines()) == 1 and NUMBER not in line
    fields = json.loads(line) if as_json else parse_text(line)
    assert f"ValueError: no route for {MASKED}\nlevel=info" in fields["exc"]


@pytest.fixture
def restored_logging() -> Iterator[None]:
    loggers = [logging.getLogger(), logging.getLogger("dialguard")]
    saved = [(lg, lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    try:
        yield
    finally:
        for lg, handlers, level, propagate in saved:
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate = propagate


def test_other_libraries_warnings_go_through_the_masking_formatter(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure("INFO", "text")
    logging.getLogger("panoramisk.manager").warning("login failed for %s\nforged", NUMBER)
    logging.getLogger("panoramisk.manager").info("not shown: below the libraries' level")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and NUMBER not in lines[0]
    assert parse_text(lines[0])["event"] == f"login failed for {MASKED}\nforged"
