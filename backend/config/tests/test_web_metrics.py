"""/metrics on the web: django-prometheus's request metrics, for METRICS_ALLOWED_NETWORKS only."""
import ipaddress

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from config.env import env_networks
from devtools.metrics import parse_samples, sample

pytestmark = pytest.mark.django_db


def test_loopback_reads_request_counts_and_latencies_per_view():
    client = Client()  # REMOTE_ADDR 127.0.0.1
    before = parse_samples(client.get("/metrics").content.decode())
    assert client.get("/api/config/").status_code == 200
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = parse_samples(response.content.decode())
    labels = {"view": "config", "method": "GET"}
    name = "django_http_requests_latency_seconds_by_view_method_count"
    assert sample(samples, name, **labels) == sample(before, name, **labels) + 1
    assert sample(samples, "django_http_responses_total_by_status_view_method_total",
                  status="200", view="config", method="GET") >= 1


@pytest.mark.parametrize("address", ["10.1.2.3", "192.168.0.7", "2001:db8::1"])
def test_other_addresses_are_refused_by_default(address):
    response = Client(REMOTE_ADDR=address).get("/metrics")
    assert response.status_code == 403
    assert b"django_http" not in response.content


def test_the_allowed_networks_come_from_the_setting(settings):
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 403


def test_behind_a_proxy_the_forwarded_client_is_checked_not_the_proxy(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    assert proxy.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403
    assert proxy.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 200


def test_metrics_networks_parse_and_a_bad_one_fails_loudly(monkeypatch):
    monkeypatch.setenv("METRICS_ALLOWED_NETWORKS", "10.0.0.0/8, 192.168.1.5,::1")
    assert [str(n) for n in env_networks("METRICS_ALLOWED_NETWORKS", [])] == ["10.0.0.0/8", "192.168.1.5/32", "::1/128"]
    monkeypatch.setenv("METRICS_ALLOWED_NETWORKS", "10.0.0.0/8,intranet")
    with pytest.raises(ImproperlyConfigured, match="'intranet' is not a network"):
        env_networks("METRICS_ALLOWED_NETWORKS", [])
