"""Print or write the service's OpenAPI document: `python -m invoicing.openapi [--write]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from invoicing.bootstrap import build_app

DOCUMENT = Path(__file__).resolve().parents[2] / "openapi.json"


def render() -> str:
    """The OpenAPI document of the app as committed (sorted keys, two-space indent)."""
    return json.dumps(build_app().openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    if "--write" in sys.argv:
        DOCUMENT.write_text(render(), encoding="utf-8")
        print(DOCUMENT)
    else:
        print(render(), end="")
