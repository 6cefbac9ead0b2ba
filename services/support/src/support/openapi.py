"""The committed OpenAPI document: `uv run python -m support.openapi` rewrites services/support/openapi.json."""

from __future__ import annotations

import json
from pathlib import Path

from support.bootstrap import build_app
from support.settings import Settings

DOCUMENT = Path(__file__).resolve().parents[2] / "openapi.json"


def render() -> str:
    """The API description as the code declares it (the app is built, never started)."""
    app = build_app(Settings())
    return json.dumps(app.openapi(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    DOCUMENT.write_text(render(), encoding="utf-8")
    print(DOCUMENT)
