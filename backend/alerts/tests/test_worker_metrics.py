"""The worker's metrics (alerts.worker_metrics): each call moves exactly its series."""
import pytest
from prometheus_client import generate_latest

from alerts.models import Alert
from alerts.services import PassReport
from devtools.factories import make_device
from alerts.worker_metrics import WorkerMetrics
from devices.models import Device
from devtools.metrics import parse_samples, sample, scrape


def exposition(metrics: WorkerMetrics) -> dict:
    return parse_samples(generate_latest(metrics.registry).decode())


def test_a_pass_moves_the_histogram_and_the_alert_counters_by_its_report():
    metrics = WorkerMetrics()
    metrics.pass_finished(PassReport(offline=2, online=1, high_temp=3, readings=40, seconds=0.004))
    metrics.pass_finished(PassReport(offline=0, online=0, high_temp=1, readings=2, seconds=0.3,
                                     low_battery=2, anomaly=1))
    samples = exposition(metrics)
    assert sample(samples, "telemetry_alerts_pass_seconds_count") == 2
    assert sample(samples, "telemetry_alerts_pass_seconds_sum") == pytest.approx(0.304)
    assert sample(samples, "telemetry_alerts_pass_seconds_bucket", le="0.005") == 1
    assert sample(samples, "telemetry_alerts_pass_seconds_bucket", le="0.5") == 2
    assert sample(samples, "telemetry_alerts_readings_evaluated_total") == 42
    assert sample(samples, "telemetry_alerts_raised_total", type="HIGH_TEMP") == 4
    assert sample(samples, "telemetry_alerts_raised_total", type="OFFLINE") == 2
    assert sample(samples, "telemetry_alerts_raised_total", type="ONLINE") == 1
    assert sample(samples, "telemetry_alerts_raised_total", type="LOW_BATTERY") == 2
    assert sample(samples, "telemetry_alerts_raised_total", type="ANOMALY") == 1


def test_every_alert_type_is_exposed_before_its_first_alert():
    samples = exposition(WorkerMetrics())
    exposed = {dict(labels)["type"] for name, labels in samples if name == "telemetry_alerts_raised_total"}
    assert exposed == set(Alert.Type.values)


def test_alert_raised_counts_one_type_and_refuses_an_unknown_one():
    metrics = WorkerMetrics()
    metrics.alert_raised(Alert.Type.OFFLINE)
    metrics.alert_raised("OFFLINE", 2)
    with pytest.raises(ValueError, match="unknown alert type"):
        metrics.alert_raised("LOW_TEMP")
    samples = exposition(metrics)
    assert sample(samples, "telemetry_alerts_raised_total", type="OFFLINE") == 3
    assert sample(samples, "telemetry_alerts_raised_total", type="ONLINE") == 0


@pytest.mark.django_db(transaction=True)
def test_serve_counts_the_fleet_by_status_at_each_scrape():
    metrics = WorkerMetrics()
    server, thread = metrics.serve(0, addr="127.0.0.1")
    try:
        assert thread.daemon
        port = server.server_port
        samples = scrape(port)
        assert sample(samples, "telemetry_devices", status="ONLINE") == 0
        assert ("telemetry_devices", frozenset({("status", "OFFLINE")})) in samples
        make_device("d1")
        make_device("d2")
        make_device("d3", status=Device.Status.OFFLINE)
        metrics.pass_finished(PassReport(offline=1, online=0, high_temp=0, readings=0, seconds=0.01))
        samples = scrape(port)
        assert sample(samples, "telemetry_devices", status="ONLINE") == 2
        assert sample(samples, "telemetry_devices", status="OFFLINE") == 1
        assert sample(samples, "telemetry_alerts_raised_total", type="OFFLINE") == 1
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db(transaction=True)
def test_record_pass_counts_only_once_installed(monkeypatch):
    from alerts import worker_metrics

    monkeypatch.setattr(worker_metrics, "_installed", None)
    worker_metrics.record_pass(PassReport(offline=5, online=0, high_temp=0, readings=0, seconds=0.01))  # a no-op
    metrics = worker_metrics.install(0, addr="127.0.0.1")
    worker_metrics.record_pass(PassReport(offline=1, online=2, high_temp=0, readings=3, seconds=0.01))
    samples = exposition(metrics)
    assert sample(samples, "telemetry_alerts_raised_total", type="OFFLINE") == 1
    assert sample(samples, "telemetry_alerts_raised_total", type="ONLINE") == 2
