"""China's access codes by class: each pattern, each presentation a PBX may use, one canonical
form; ordinary numbers are untouched. The table is the CN pack's ``[numbering]`` data."""

from __future__ import annotations

import pytest

from dialguard.numbers import InvalidNumber
from dialguard.policy.book import PolicyBook, load_pack
from dialguard.policy.model import NumberType
from dialguard.policy.numbering import Numbering
from dialguard.policy.pack import PackError


@pytest.fixture(scope="module")
def numbering() -> Numbering:
    return PolicyBook.load("cn", None, None).numbering


@pytest.mark.parametrize(
    ("raw", "canonical", "number_class"),
    [
        ("95555", "+8695555", "service-national"),
        ("95588", "+8695588", "service-national"),
        ("9510000", "+869510000", "service-national"),
        ("96588", "+8696588", "service-local"),
        ("12345", "+8612345", "public-service"),
        ("12315", "+8612315", "public-service"),
        ("10085", "+8610085", "carrier"),
        ("10016", "+8610016", "carrier"),
        ("10086", "+8610086", "carrier"),
        ("10658001", "+8610658001", "sms-port"),
        ("1065502", "+861065502", "sms-port"),
        ("106575", "+86106575", "sms-port"),
        ("4008001234", "+864008001234", "400"),
        ("400-800-1234", "+864008001234", "400"),
        ("8001234567", "+868001234567", "800"),
        # ordinary numbers keep their E.164 form and no class, even when their digits could
        # be read as a class's (Beijing's 010 6501 2345)
        ("01058001234", "+861058001234", "e164"),
        ("010 6501 2345", "+861065012345", "e164"),
        ("13800138000", "+8613800138000", "e164"),
        ("+1 212 555 0100", "+12125550100", "e164"),
    ],
)
def test_each_class_by_its_pattern(
    numbering: Numbering, raw: str, canonical: str, number_class: str
) -> None:
    found = numbering.canonical(raw, "CN")
    assert (found.number, found.class_name) == (canonical, number_class)


@pytest.mark.parametrize(
    "presented",
    ["95555", "+8695555", "008695555", "8695555", "095555", "+86 95555", "0086-95555"],
)
def test_every_presentation_is_the_same_number(numbering: Numbering, presented: str) -> None:
    """However Asterisk or FreeSWITCH present the caller (with or without +86, 0086, the trunk
    prefix), the gate looks up one form."""
    assert numbering.try_canonical(presented, "CN") == "+8695555"


@pytest.mark.parametrize(
    "presented", ["10658001", "+8610658001", "008610658001", "8610658001", "010658001"]
)
def test_every_presentation_of_a_marketing_port(numbering: Numbering, presented: str) -> None:
    assert numbering.try_canonical(presented, "CN") == "+8610658001"


@pytest.mark.parametrize(
    "raw",
    [
        "1234",  # too short for any class
        "955",  # 95 needs 3 to 6 more digits
        "951234567",  # and no more (nine digits: neither a code nor a Yinchuan number)
        "1001",
        "100123",  # 100xx is exactly five digits
        "123456",  # 12xxx is exactly five digits
        "105",
        "40080012",  # 400 numbers have ten digits
        "+1 95555",  # another country's plan is not China's
        "95555x",
    ],
)
def test_what_no_class_and_no_plan_accepts(numbering: Numbering, raw: str) -> None:
    with pytest.raises(InvalidNumber, match="invalid phone number"):
        numbering.canonical(raw, "CN")
    assert numbering.try_canonical(raw, "CN") is None


def test_classes_carry_their_source_and_filing_types(numbering: Numbering) -> None:
    port = numbering.class_of("+8610658001")
    assert port is not None and port.name == "sms-port"
    assert port.number_types == {NumberType.CARRIER_MARKETING}
    assert "106" in port.source
    carrier = numbering.class_of("+8610085")
    assert carrier is not None and carrier.default_type is NumberType.CARRIER_MARKETING
    plan = load_pack("cn").numbering
    assert plan is not None
    assert all(c.source and c.description for c in plan.classes)
    assert numbering.class_of("+12125550100") is None


def test_a_bad_numbering_table_names_the_key(tmp_path: object) -> None:
    from dialguard.policy.numbering import NumberingError, parse_plan

    good = {"country_code": "86", "region": "CN", "prefixes": ["0"], "classes": []}
    with pytest.raises(NumberingError, match=r"numbering.classes\[0\].pattern"):
        parse_plan({**good, "classes": [{"name": "x", "pattern": "("}]}, "cn.toml")
    with pytest.raises(NumberingError, match="country_code"):
        parse_plan({**good, "country_code": "+86"}, "cn.toml")
    bad_type = {
        "name": "x",
        "pattern": "9",
        "number_types": ["fax"],
        "source": "s",
        "description": "d",
    }
    with pytest.raises(NumberingError, match="number_types"):
        parse_plan({**good, "classes": [bad_type]}, "cn.toml")
    assert issubclass(NumberingError, ValueError) and PackError is not None
