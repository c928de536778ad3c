"""Sensitive-word matching: the evasion and innocent corpora, the separator rule, positions."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from dialguard.phrases import Phrase, PhraseSet
from dialguard.phrases.automaton import Automaton

CORPUS = Path(__file__).parents[1] / "fixtures" / "phrases"
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|n|t|\\)")


def _unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        return {"n": "\n", "t": "\t", "\\": "\\"}.get(code) or chr(int(code[1:], 16))

    return _ESCAPE.sub(one, text)


def _lines(name: str) -> list[str]:
    lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


EVASIONS = [tuple(line.split("\t")) for line in _lines("evasions.tsv")]
INNOCENT = [_unescape(line) for line in _lines("innocent.txt")]


@pytest.fixture(scope="module")
def everything() -> PhraseSet:
    return PhraseSet.load(["finance", "education", "healthcare"])


def only(*texts: str, not_within: tuple[str, ...] = ()) -> PhraseSet:
    return PhraseSet(Phrase(t, "test", not_within=not_within) for t in texts)


@pytest.mark.parametrize(("phrase", "text"), EVASIONS, ids=[f"{p}|{t}" for p, t in EVASIONS])
def test_evasion_is_caught(everything: PhraseSet, phrase: str, text: str) -> None:
    text = _unescape(text)
    hits = everything.find(text)
    assert phrase in [h.phrase for h in hits]
    for hit in hits:
        assert text[hit.start : hit.end] == hit.matched_text


@pytest.mark.parametrize("text", INNOCENT)
def test_innocent_text_is_not_flagged(everything: PhraseSet, text: str) -> None:
    assert everything.find(text) == []


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        # Filler inside a phrase never breaks it …
        ("确保 本周", "保 本"),
        ("确保·本周", "保·本"),
        ("确保.本周", "保.本"),
        ("确保“本周”", "保“本"),
        # … a clause or sentence ending always does.
        ("确保。本周", None),
        ("确保！本周", None),
        ("确保？本周", None),
        ("确保；本周", None),
        ("确保，本周", None),
        ("确保、本周", None),
        ("确保：本周", None),
        ("确保! 本周", None),
        ("确保｡本周", None),
        ("确保\n本周", None),
        ("确保\r\n本周", None),
        ("确保\u2029本周", None),
        # Filler and a break together: the break wins.
        ("保 💰 。 💰 本", None),
    ],
)
def test_clause_endings_break_a_match_and_filler_does_not(text: str, matched: str | None) -> None:
    hits = only("保本").find(text)
    assert [h.matched_text for h in hits] == ([matched] if matched else [])


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("no risk", True),
        ("There is no-risk here", True),
        ("n o r i s k", True),
        ("casino risk", False),  # "no" ends another word
        ("no risky bets", False),  # "risk" continues
        ("casi no risk", True),  # separated: it is the phrase
        ("ﬁno risk", False),  # a ligature is still a letter before the phrase
        ("无no risk", True),  # CJK before a Latin phrase is a boundary
    ],
)
def test_latin_phrases_match_whole_words(text: str, found: bool) -> None:
    assert bool(only("no risk").find(text)) is found


def test_digits_at_the_edge_of_a_phrase_must_not_continue_a_number() -> None:
    phrases = only("100%保本")
    assert phrases.find("年化100%保本")
    assert not phrases.find("年化2100%保本")
    assert not only("治愈率100%").find("治愈率1000例")


def test_positions_are_code_points_in_the_original_multi_line_text() -> None:
    text = "第一行没有问题\n  客户您好，这款產品 保 💰 本\n\nGuaranteed\u200b Returns!\n"
    hits = only("保本", "guaranteed returns").find(text)
    assert [(h.line, h.column, h.end_line, h.end_column, h.matched_text) for h in hits] == [
        (2, 13, 2, 17, "保 💰 本"),
        (4, 1, 4, 19, "Guaranteed\u200b Returns"),
    ]
    for hit in hits:
        assert text[hit.start : hit.end] == hit.matched_text
        line = text.split("\n")[hit.line - 1]
        assert line[hit.column - 1 : hit.end_column] == hit.matched_text


def test_a_phrase_expanding_from_one_code_point_maps_back_to_it() -> None:
    # ㍲ (SQUARE DA) decomposes to "da"; the hit covers the single original code point.
    hits = only("da").find("x ㍲ y")
    assert [(h.column, h.end_column, h.matched_text) for h in hits] == [(3, 3, "㍲")]


def test_every_occurrence_and_every_overlapping_phrase_is_reported() -> None:
    hits = only("保本", "100%保本", "保本保息").find("１００％保本保息，保本！")
    assert [(h.phrase, h.column) for h in hits] == [
        ("100%保本", 1),
        ("保本", 5),
        ("保本保息", 5),
        ("保本", 10),
    ]


def test_not_within_drops_only_hits_inside_the_context() -> None:
    phrases = only("保本", not_within=("确保本",))
    assert not phrases.find("确保本次通话")
    assert not phrases.find("确 保 本次")
    assert [h.column for h in phrases.find("确保本次，保本")] == [6]
    # Another phrase that is a context of nothing stays a hit.
    assert only("确保").find("确保本次")


def test_same_phrase_in_two_packs_gives_a_hit_per_pack() -> None:
    phrases = PhraseSet([Phrase("保本", "finance"), Phrase("保 本", "insurance")])
    assert [(h.pack, h.phrase) for h in phrases.find("保本")] == [
        ("finance", "保本"),
        ("insurance", "保 本"),
    ]


def test_automaton_agrees_with_naive_search() -> None:
    rng = random.Random(20260302)
    for _ in range(200):
        patterns = sorted({"".join(rng.choices("abc", k=rng.randint(1, 4))) for _ in range(8)})
        text = "".join(rng.choices("abcd", k=40))
        expected = sorted(
            (i + len(p), n)
            for n, p in enumerate(patterns)
            for i in range(len(text))
            if text.startswith(p, i)
        )
        assert sorted(Automaton(patterns).search(text)) == expected


def test_thousands_of_phrases() -> None:
    phrases = PhraseSet(Phrase(f"禁词{n:04d}", "bulk") for n in range(5000))
    hits = phrases.find("正常文本 禁 词 0042 和 禁词4999。")
    assert [h.phrase for h in hits] == ["禁词0042", "禁词4999"]
