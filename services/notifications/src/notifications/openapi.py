"""The committed OpenAPI document: `uv run python -m notifications.openapi --write` rewrites it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "openapi.json"


def render() -> str:
    """The HTTP API's OpenAPI document as committed (the app is built, never started)."""
    from notifications.bootstrap import build_app
    from notifications.settings import Settings

    # Defaults only: nothing in the document may depend on the environment it was written in.
    app = build_app(Settings(_env_file=None))
    return json.dumps(app.openapi(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    if "--write" in sys.argv:
        OPENAPI_PATH.write_text(render(), encoding="utf-8")
        print(OPENAPI_PATH)
    else:
        print(render(), end="")
