"""deploy/observability/README.md lists every metric the network defines and every alert."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.unit


def table_metrics(readme: str) -> set[str]:
    """Names in backquotes in the first column of the metrics table."""
    section = readme.split("## Metrics", 1)[1].split("## Alerts", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([a-z_:][a-z0-9_:*]*)`", line.split(" | ")[0]))
    return names


def test_every_factora_metric_family_defined_anywhere_is_in_the_readme_table(observability_dir, defined_metric_names):
    listed = table_metrics((observability_dir / "README.md").read_text(encoding="utf-8"))
    families = {
        re.sub(r"_(bucket|sum|count|created)$", "", name)
        for name in defined_metric_names
        if name.startswith("factora_") and not name.endswith("_created")
    }
    families = {f for f in families if f in defined_metric_names}
    missing = {
        f for f in families if f not in listed and f + "_total" not in listed and f.removesuffix("_total") not in listed
    }
    assert not missing, f"add to the metric table of deploy/observability/README.md: {sorted(missing)}"


def test_every_metric_in_the_readme_table_exists(observability_dir, defined_metric_names):
    listed = table_metrics((observability_dir / "README.md").read_text(encoding="utf-8"))
    unknown = {name for name in listed if "*" not in name and name != "up" and name not in defined_metric_names}
    assert not unknown, f"the README lists metrics nobody defines: {sorted(unknown)}"


def test_every_alert_is_in_the_readme(observability_dir, alert_rules):
    readme = (observability_dir / "README.md").read_text(encoding="utf-8")
    for rule in alert_rules:
        if "alert" in rule:
            assert f"| {rule['alert']} |" in readme, rule["alert"]
