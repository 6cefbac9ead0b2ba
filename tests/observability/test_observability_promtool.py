"""promtool on deploy/observability: the scrape configuration, the alert rules and their unit tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit


def promtool_ok(promtool: str, *args: str, cwd: Path) -> str:
    done = subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"promtool {' '.join(args)} failed:\n{output}"
    return output


def test_the_scrape_configuration_and_the_rule_files_it_loads_are_valid(promtool, observability_dir):
    output = promtool_ok(promtool, "check", "config", "prometheus.yml", cwd=observability_dir)
    assert "rules/factora-alerts.yml" in output  # the rule files were found and checked with it


def test_the_alert_rules_are_valid(promtool, observability_dir):
    rule_files = sorted(str(p.relative_to(observability_dir)) for p in (observability_dir / "rules").glob("*.yml"))
    assert rule_files
    promtool_ok(promtool, "check", "rules", *rule_files, cwd=observability_dir)


def test_every_alert_passes_its_unit_tests(promtool, observability_dir):
    tests = sorted(str(p.relative_to(observability_dir)) for p in (observability_dir / "tests").glob("*.test.yml"))
    assert tests
    output = promtool_ok(promtool, "test", "rules", *tests, cwd=observability_dir)
    assert "SUCCESS" in output


def test_every_alert_has_a_unit_test_where_it_fires_and_one_where_it_stays_quiet(observability_dir, alert_rules):
    import yaml

    fires, quiet = set(), set()
    for path in (observability_dir / "tests").glob("*.test.yml"):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for check in case.get("alert_rule_test", []):
                (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    alerts = {rule["alert"] for rule in alert_rules if "alert" in rule}
    assert alerts - fires == set(), "alerts never seen firing in a test"
    # A quiet case is an eval with no alert expected, or a series in a firing case that must not alert.
    assert len(quiet) >= len(alerts) // 2


def test_every_alert_says_how_bad_it_is_and_what_to_do(alert_rules):
    for rule in alert_rules:
        if "alert" not in rule:
            continue
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
