"""The OpenAPI document is derived from the endpoint list: every operation is described,
secured unless public, and documents the errors it can answer."""

from __future__ import annotations

from typing import Any

import pytest

from dialguard.api.access import Access
from dialguard.api.errors import ApiError
from dialguard.api.fields import Field, Flag, Phone, Reading, count, read, text
from dialguard.api.openapi import document
from dialguard.api.routes import ENDPOINTS

DOC = document(ENDPOINTS)


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in DOC["paths"].items() for method, op in ops.items()]


def test_every_endpoint_is_in_the_document_once() -> None:
    assert len(_operations()) == len(ENDPOINTS)
    assert DOC["openapi"].startswith("3.1")
    assert DOC["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
def test_operations_carry_roles_security_and_error_replies(endpoint: Any) -> None:
    op = DOC["paths"][endpoint.path][endpoint.method.lower()]
    assert op["x-access"] == endpoint.access.value
    if endpoint.access is Access.PUBLIC:
        assert op["security"] == []
        assert "401" not in op["responses"]
    else:
        assert "security" not in op, "the document-wide bearer requirement applies"
        assert {"401", "403"} <= set(op["responses"])
        assert "WWW-Authenticate" in op["responses"]["401"]["headers"]
        assert "admin" in op["x-roles"]
    if endpoint.body is not None:
        assert op["requestBody"]["content"]["application/json"]["schema"]["type"] == "object"
        assert "400" in op["responses"]


def test_every_schema_reference_resolves() -> None:
    names = set(DOC["components"]["schemas"])

    def refs(value: Any) -> list[str]:
        if isinstance(value, dict):
            own = [value["$ref"]] if "$ref" in value else []
            return own + [r for item in value.values() for r in refs(item)]
        if isinstance(value, list):
            return [r for item in value for r in refs(item)]
        return []

    for ref in refs(DOC):
        assert ref.removeprefix("#/components/schemas/") in names, ref


FIELDS = (
    Field("number", Phone(), required=True),
    Field("note", text(10)),
    Field("flag", Flag()),
    Field("limit", count(1, 5)),
)


def test_declared_fields_parse_and_default_to_none() -> None:
    values = read(FIELDS, {"number": "138 0013 8000", "limit": "3", "flag": "true"}, Reading("CN"))
    assert values == {"number": "+8613800138000", "note": None, "flag": True, "limit": 3}


@pytest.mark.parametrize(
    ("source", "field", "code"),
    [
        ({}, "number", "invalid_field"),
        ({"number": "12"}, "number", "invalid_number"),
        ({"number": "13800138000", "note": "x" * 11}, "note", "invalid_field"),
        ({"number": "13800138000", "note": "   "}, "note", "invalid_field"),
        ({"number": "13800138000", "note": None}, "note", "invalid_field"),
        ({"number": "13800138000", "limit": 6}, "limit", "invalid_field"),
        ({"number": "13800138000", "limit": True}, "limit", "invalid_field"),
        ({"number": "13800138000", "flag": "yes"}, "flag", "invalid_field"),
        ({"number": "13800138000", "extra": 1}, "extra", "invalid_field"),
    ],
)
def test_bad_values_are_400s_naming_the_field(
    source: dict[str, Any], field: str, code: str
) -> None:
    with pytest.raises(ApiError) as caught:
        read(FIELDS, source, Reading("CN"))
    assert (caught.value.status, caught.value.field, caught.value.code) == (400, field, code)
    assert field in caught.value.message
