"""The compatibility checker flags what breaks a v1 reader or writer, and nothing else."""

from typing import Literal

import pytest
from pydantic import BaseModel

from contracts.compat import breaking_changes

pytestmark = pytest.mark.unit


class Inner(BaseModel):
    code: str


class Before(BaseModel):
    id: str
    amount: int
    inner: Inner
    kind: Literal["a", "b"]
    note: str | None = None


def schema(model: type[BaseModel]) -> dict:
    return model.model_json_schema(mode="serialization")


def test_adding_an_optional_field_is_compatible():
    class After(Before):
        extra: str | None = None

    assert breaking_changes(schema(Before), schema(After)) == []


def test_removing_a_field_breaks():
    class After(BaseModel):
        id: str
        inner: Inner
        kind: Literal["a", "b"]
        note: str | None = None

    assert breaking_changes(schema(Before), schema(After)) == ["amount: field removed"]


def test_new_required_field_breaks():
    class After(Before):
        must: str

    assert breaking_changes(schema(Before), schema(After)) == ["must: new required field"]


def test_changing_a_type_breaks():
    class After(Before):
        amount: str  # type: ignore[assignment]

    assert any("amount: type changed" in p for p in breaking_changes(schema(Before), schema(After)))


def test_nested_and_enum_changes_break():
    class Inner2(BaseModel):
        code: int

    class After(BaseModel):
        id: str
        amount: int
        inner: Inner2
        kind: Literal["a"]
        note: str | None = None

    problems = breaking_changes(schema(Before), schema(After))
    assert any(p.startswith("inner.code: type changed") for p in problems)
    assert any(p.startswith("kind: allowed values removed") for p in problems)
