"""The committed OpenAPI document is the one the app serves."""

import json

import pytest

from identity.manage import OPENAPI_PATH as OPENAPI
from identity.manage import render_openapi as render

pytestmark = pytest.mark.unit


def test_the_committed_openapi_document_is_up_to_date():
    assert OPENAPI.exists(), "no services/identity/openapi.json: run `uv run python -m identity.manage openapi`"
    assert OPENAPI.read_text(encoding="utf-8") == render(), (
        "services/identity/openapi.json is stale: run `uv run python -m identity.manage openapi` and commit"
    )


def test_every_error_answer_is_documented_with_its_shape():
    document = json.loads(render())
    login = document["paths"]["/login"]["post"]["responses"]
    assert {"401", "429"} <= set(login)
    assert "ErrorBody" in json.dumps(login["401"])
