"""The operators' compose file and Grafana provisioning: valid YAML that points at files that exist."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def yaml():
    return pytest.importorskip("yaml", reason="PyYAML is needed to read the compose file: add pyyaml to the dev group")


def test_the_compose_file_parses_and_mounts_this_folders_config_rules_and_dashboards(observability_dir, yaml):
    compose = yaml.safe_load((observability_dir / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"prometheus", "grafana"}
    for name, service in services.items():
        for volume in service["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (observability_dir / source).exists(), f"{name} mounts {source}, which does not exist"
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"]["command"]
    # Grafana's admin password comes from the operator's environment, never from this file.
    assert "${GRAFANA_ADMIN_PASSWORD" in services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"]


def test_grafana_provisions_the_datasource_the_dashboards_use_and_the_folder_compose_mounts(
    observability_dir, yaml, dashboards
):
    provisioning = observability_dir / "grafana" / "provisioning"
    datasource = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"][0]
    provider = yaml.safe_load((provisioning / "dashboards" / "factora.yml").read_text())["providers"][0]
    compose = yaml.safe_load((observability_dir / "docker-compose.yml").read_text())
    mounts = dict(v.split(":")[:2] for v in compose["services"]["grafana"]["volumes"] if v.startswith("."))
    assert mounts["./grafana/dashboards"] == provider["options"]["path"]
    for dashboard in dashboards.values():
        variable = next(v for v in dashboard["templating"]["list"] if v["name"] == "datasource")
        assert variable["current"]["value"] == datasource["uid"]
