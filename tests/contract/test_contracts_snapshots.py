"""Committed JSON Schema snapshots: no incompatible change inside a version, and none left stale."""

import json

import pytest

from contracts.compat import breaking_changes
from contracts.snapshots import SNAPSHOT_DIR, current_schemas, render

pytestmark = pytest.mark.unit

CURRENT = current_schemas()


@pytest.mark.parametrize("topic", sorted(CURRENT))
def test_schema_change_is_backward_compatible(topic):
    path = SNAPSHOT_DIR / f"{topic}.json"
    assert path.exists(), f"no snapshot for {topic}: run `make schemas` and commit contracts/schemas/"
    problems = breaking_changes(json.loads(path.read_text()), CURRENT[topic])
    assert not problems, f"{topic} changed incompatibly; publish a new version (v2) instead: {problems}"


@pytest.mark.parametrize("topic", sorted(CURRENT))
def test_snapshot_is_up_to_date(topic):
    path = SNAPSHOT_DIR / f"{topic}.json"
    assert path.read_text() == render(CURRENT[topic]), f"compatible change to {topic}: run `make schemas` and commit"


def test_no_snapshot_without_a_topic():
    orphans = {p.stem for p in SNAPSHOT_DIR.glob("*.json")} - set(CURRENT)
    assert not orphans, f"snapshots of topics no longer in the catalogue: {orphans}"
