"""JSON Schema snapshots of every topic's payload: `python -m contracts.snapshots` rewrites them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from contracts.catalogue import TOPICS

SNAPSHOT_DIR = Path(__file__).resolve().parents[2] / "schemas"


def current_schemas() -> dict[str, dict[str, Any]]:
    """Topic name -> JSON Schema of its payload, as the models define it now."""
    return {spec.name: spec.schema.model_json_schema(mode="serialization") for spec in TOPICS}


def render(schema: dict[str, Any]) -> str:
    """Stable text form, so diffs show only real changes."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_snapshots(directory: Path = SNAPSHOT_DIR) -> list[Path]:
    """Write one `<topic>.json` per topic; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in current_schemas().items():
        path = directory / f"{name}.json"
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_snapshots(Path(sys.argv[1]) if len(sys.argv) > 1 else SNAPSHOT_DIR):
        print(path)
