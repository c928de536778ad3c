"""Phrase files: the shipped packs, the operator's extra file, and errors that name the entry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dialguard.phrases import SHIPPED_PACKS, Phrase, PhraseError, PhraseSet
from dialguard.phrases.fold import fold
from dialguard.phrases.variants import VARIANTS

EXTRA = Path(__file__).parents[1] / "fixtures" / "phrases" / "operator-extra.toml"


@pytest.mark.parametrize("pack", SHIPPED_PACKS)
def test_shipped_pack_loads_with_notes_and_version(pack: str) -> None:
    phrases = PhraseSet.load([pack])
    assert phrases.version == f"{pack}@2026.1"
    assert phrases.phrases
    assert all(p.pack == pack and p.note for p in phrases.phrases)


def test_shipped_phrases_fold_to_simplified_forms_already_written() -> None:
    """The variant table must not change what a shipped phrase means."""
    phrases = PhraseSet.load(SHIPPED_PACKS).phrases
    assert all(fold(p.text) == fold(fold(p.text)) for p in phrases)
    assert all(chr(source) != target for source, target in VARIANTS.items())


def test_operator_file_extends_shipped_packs_and_adds_its_own() -> None:
    phrases = PhraseSet.load(["finance", "insurance"], extra=EXTRA)
    assert phrases.version.startswith("finance@2026.1+extra@7@")
    found = phrases.find("本产品不保本。躺 赚！Double your money! 全额赔付")
    assert [(h.pack, h.phrase) for h in found] == [
        ("finance", "躺赚"),
        ("finance", "double your money"),
        ("insurance", "全额赔付"),
    ]
    # The shipped contexts of 保本 are kept alongside the operator's.
    assert not phrases.find("为确保本次服务质量")
    assert phrases.find("保本")


def test_operator_phrases_of_unselected_packs_are_ignored() -> None:
    phrases = PhraseSet.load(["education"], extra=EXTRA)
    assert not phrases.find("躺赚，全额赔付")
    assert phrases.find("保过")


@pytest.mark.parametrize(
    ("packs", "message"),
    [
        ([], "no phrase pack selected"),
        (["lottery"], "no shipped phrase pack 'lottery' (shipped: education, finance, healthcare)"),
    ],
)
def test_unknown_or_missing_pack_selection(packs: list[str], message: str) -> None:
    with pytest.raises(PhraseError, match=f"^{re.escape(message)}"):
        PhraseSet.load(packs)


ENTRY = '[[phrases.finance]]\ntext = "稳赚"\n'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('version = "1"\n[[phrases.finance]\n', "not valid TOML: "),
        ('[[phrases.finance]]\ntext = "x"\n', "'version' must be a non-empty string"),
        (f'version = "1"\nauthor = "me"\n{ENTRY}', "unknown key 'author'"),
        ('version = "1"\n', "needs at least one [[phrases.<pack>]] entry"),
        ('version = "1"\n[[phrases.Finance]]\ntext = "x"\n', "phrases.Finance: pack names are"),
        ('version = "1"\n[phrases]\nfinance = ["保本"]\n', "phrases.finance must be an array"),
        (f'version = "1"\n{ENTRY}[[phrases.finance]]\nnote = "x"\n', "phrases.finance[1]: 'text'"),
        (f'version = "1"\n{ENTRY}[[phrases.finance]]\ntext = " "\n', "phrases.finance[1]: 'text'"),
        (
            f'version = "1"\n{ENTRY}[[phrases.finance]]\ntext = "保本"\nnot_in = ["确保本"]\n',
            "phrases.finance[1] ('保本'): unknown key 'not_in'",
        ),
        (
            f'version = "1"\n{ENTRY}[[phrases.finance]]\ntext = "保本"\nnote = 3\n',
            "phrases.finance[1] ('保本'): 'note' must be a string",
        ),
        (
            f'version = "1"\n{ENTRY}[[phrases.finance]]\ntext = "保本"\nnot_within = "确保本"\n',
            "phrases.finance[1] ('保本'): 'not_within' must be a list of strings",
        ),
        (
            f'version = "1"\n{ENTRY}[[phrases.finance]]\ntext = "***"\n',
            "phrases.finance[1] ('***'): phrase has no letters or digits",
        ),
        (
            f'version = "1"\n{ENTRY}[[phrases.finance]]\ntext = "保本。稳赚"\n',
            "phrases.finance[1] ('保本。稳赚'): phrase contains a clause separator",
        ),
        (
            f'version = "1"\n{ENTRY}[[phrases.finance]]\ntext = "保本"\nnot_within = ["确保"]\n',
            "phrases.finance[1] ('保本'): not_within entry '确保' must contain the phrase",
        ),
    ],
)
def test_malformed_extra_file_names_file_and_entry(
    tmp_path: Path, content: str, message: str
) -> None:
    extra = tmp_path / "house.toml"
    extra.write_text(content, encoding="utf-8")
    with pytest.raises(PhraseError) as raised:
        PhraseSet.load(["finance"], extra=extra)
    assert str(raised.value).startswith(f"{extra}: ")
    assert message in str(raised.value)


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(PhraseError, match=r"missing\.toml: cannot read phrase file"):
        PhraseSet.load(["finance"], extra=tmp_path / "missing.toml")
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('version = "1"\n# caf\xe9\n'.encode("latin-1"))
    with pytest.raises(PhraseError, match=r"latin1\.toml: not UTF-8"):
        PhraseSet.load(["finance"], extra=latin1)


def test_phrases_built_in_code_are_checked_too() -> None:
    with pytest.raises(PhraseError, match="'💰': phrase has no letters or digits"):
        PhraseSet([Phrase("💰", "test")])
