"""monitoring/: the Prometheus config passes promtool; the Grafana dashboard asks only for metrics the code exports."""
import json
import re
import shutil
import subprocess

import prometheus_client
import pytest
import yaml

from alerts.worker_metrics import FleetCollector, WorkerMetrics
from devtools.broker import REPO_DIR
from telemetry.ingest_metrics import IngestMetrics

MONITORING = REPO_DIR / "monitoring"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "telemetry.json"
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or",
                "unless", "le", "inf", "nan"}
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created"),
            "gauge": ("",), "summary": ("_count", "_sum", "_created"), "info": ("_info",)}


def promtool() -> str:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: `make test` installs it (apt-get install prometheus)"
    return binary


def exported_names() -> set[str]:
    """Every sample name the ingest's, the worker's and the web's (django-prometheus) registries can expose."""
    from django_prometheus.middleware import Metrics

    Metrics.get_instance()  # registers the web's request metrics in prometheus_client.REGISTRY
    families = [*IngestMetrics().registry.collect(), *WorkerMetrics().registry.collect(),
                *FleetCollector().describe(), *prometheus_client.REGISTRY.collect()]
    return {family.name + suffix for family in families for suffix in SUFFIXES[family.type]}


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["panels"], "the dashboard has no panels"
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert all(expressions)
    return expressions


def metric_names(expression: str) -> set[str]:
    """The metric names an expression selects: identifiers outside {}, [] and by (...), not called as functions."""
    stripped = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\b(by|without|on|ignoring)\s*\([^)]*\)|\"[^\"]*\"", " ", expression)
    names = set()
    for match in re.finditer(r"(?<![A-Za-z0-9_:.])[A-Za-z_:][A-Za-z0-9_:]*", stripped):
        called = stripped[match.end():].lstrip().startswith("(")
        if not called and match.group().lower() not in PROMQL_WORDS:
            names.add(match.group())
    return names


def test_the_prometheus_config_passes_promtool():
    result = subprocess.run([promtool(), "check", "config", str(MONITORING / "prometheus.yml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_scrapes_web_ingest_and_worker_on_the_ports_compose_gives_them():
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    compose = yaml.safe_load((REPO_DIR / "docker-compose.yml").read_text())
    environment = compose["services"]["ingest"]["environment"]
    assert targets == {
        "web": ["web:8000"],
        "ingest": [f"ingest:{environment['INGEST_METRICS_PORT']}"],
        "worker": [f"worker:{environment['WORKER_METRICS_PORT']}"],
    }
    prometheus_address = compose["services"]["prometheus"]["networks"]["default"]["ipv4_address"]
    assert f"{prometheus_address}/32" in environment["METRICS_ALLOWED_NETWORKS"].split(",")
    assert "web" in environment["DJANGO_ALLOWED_HOSTS"].split(":-")[-1].rstrip("}").split(",")


def test_every_dashboard_query_is_valid_promql(tmp_path):
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query{index}", "expr": expression}
        for index, expression in enumerate(dashboard_expressions())
    ]}]}
    rules_file = tmp_path / "dashboard-rules.yml"
    rules_file.write_text(yaml.safe_dump(rules))
    result = subprocess.run([promtool(), "check", "rules", str(rules_file)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dashboard_names_only_metrics_the_code_exports():
    exported = exported_names()
    wanted = set().union(*(metric_names(expression) for expression in dashboard_expressions()))
    assert wanted, "no metric names found in the dashboard"
    assert wanted <= exported, f"not exported by any registry: {sorted(wanted - exported)}"


def test_the_dashboard_covers_what_operators_watch():
    expressions = " ".join(dashboard_expressions())
    for metric in ("telemetry_ingest_received_total", "telemetry_ingest_stored_total",
                   "telemetry_ingest_duplicates_total", "telemetry_ingest_rejected_total",
                   "telemetry_ingest_commit_seconds_bucket", "telemetry_ingest_held_messages", "telemetry_devices",
                   "telemetry_alerts_raised_total", "django_http_requests_latency_seconds_by_view_method_bucket"):
        assert metric in expressions


@pytest.mark.parametrize(("expression", "names"), [
    ('sum by (reason) (rate(telemetry_ingest_rejected_total{reason="x"}[1m]))', {"telemetry_ingest_rejected_total"}),
    ("histogram_quantile(0.99, sum by (le) (rate(a_bucket[5m])))", {"a_bucket"}),
    ("a / on (instance) b", {"a", "b"}),
])
def test_metric_names_are_read_out_of_promql(expression, names):
    assert metric_names(expression) == names


def test_the_grafana_provisioning_points_at_prometheus_and_the_dashboard_folder():
    source = yaml.safe_load((MONITORING / "grafana/provisioning/datasources/prometheus.yml").read_text())
    [datasource] = source["datasources"]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090"
    uids = {target["datasource"]["uid"] for panel in json.loads(DASHBOARD.read_text())["panels"]
            for target in panel["targets"]}
    assert uids == {datasource["uid"]}
    provider = yaml.safe_load((MONITORING / "grafana/provisioning/dashboards/telemetry.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
