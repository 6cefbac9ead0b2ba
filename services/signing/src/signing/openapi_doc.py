"""The committed OpenAPI document of the signing API: `python -m signing.openapi_doc --write` rewrites it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "openapi.json"


def render() -> str:
    """app.openapi() of an app built with placeholder settings (building starts nothing)."""
    from signing.bootstrap import build_app
    from signing.settings import Settings

    app = build_app(Settings(database_url="postgresql+asyncpg://doc:doc@127.0.0.1:1/doc"))
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    if "--write" in sys.argv:
        OPENAPI_PATH.write_text(render(), encoding="utf-8")
        print(OPENAPI_PATH)
    else:
        print(render(), end="")
