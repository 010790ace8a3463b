"""The alert worker's Prometheus metrics: its passes, the alerts they raise, the fleet's states."""
import logging

from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Count
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily

from alerts.models import Alert
from devices.models import Device

log = logging.getLogger("alerts.worker")

PASS_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class FleetCollector:
    """`telemetry_devices{status}`: the devices in each status, counted at scrape time."""

    def collect(self):
        family = GaugeMetricFamily("telemetry_devices", "Devices by status.", labels=["status"])
        try:
            close_old_connections()
            counts = dict(Device.objects.order_by().values_list("status").annotate(Count("pk")))
        except DatabaseError as error:
            # The scrape still answers (the worker's own metrics); the gap shows the outage.
            log.warning("metrics: could not count devices: %s", error)
            return
        finally:
            # Scrapes run on the server's threads: never leave a connection open on one.
            connection.close()
        for status in Device.Status.values:
            family.add_metric([status], counts.get(status, 0))
        yield family

    def describe(self):
        return [GaugeMetricFamily("telemetry_devices", "Devices by status.", labels=["status"])]


class WorkerMetrics:
    """The worker's pass-duration histogram and alert counters, in a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._pass_seconds = Histogram(
            "telemetry_alerts_pass_seconds", "Duration of one alert evaluation pass.",
            buckets=PASS_SECONDS_BUCKETS, registry=self.registry,
        )
        self._readings = Counter(
            "telemetry_alerts_readings_evaluated", "Readings the passes looked at.", registry=self.registry
        )
        self._raised = Counter(
            "telemetry_alerts_raised", "Alerts raised, by type.", ["type"], registry=self.registry
        )
        for alert_type in Alert.Type.values:
            self._raised.labels(type=alert_type)

    def pass_finished(self, report) -> None:
        """One pass ended with this alerts.services.PassReport: its duration and its alerts."""
        self._pass_seconds.observe(report.seconds)
        self._readings.inc(report.readings)
        self.alert_raised(Alert.Type.HIGH_TEMP, report.high_temp)
        self.alert_raised(Alert.Type.OFFLINE, report.offline)
        self.alert_raised(Alert.Type.ONLINE, report.online)
        self.alert_raised(Alert.Type.LOW_BATTERY, report.low_battery)
        self.alert_raised(Alert.Type.ANOMALY, report.anomaly)

    def alert_raised(self, alert_type: str, n: int = 1) -> None:
        """`n` alerts of `alert_type` (an Alert.Type) were raised."""
        if alert_type not in Alert.Type.values:
            raise ValueError(f"unknown alert type {alert_type!r}")
        if n:
            self._raised.labels(type=str(alert_type)).inc(n)

    def serve(self, port: int, addr: str = "0.0.0.0", *, fleet: bool = True):
        """Serve /metrics on `port` from a daemon thread (with the fleet gauge); returns (server, thread)."""
        if fleet:
            self.registry.register(FleetCollector())
        server, thread = start_http_server(port, addr=addr, registry=self.registry)
        log.info("metrics at http://%s:%d/metrics", addr, server.server_port)
        return server, thread


# The worker process's metrics once `install` has served them; passes record into it.
_installed: WorkerMetrics | None = None


def install(port: int, addr: str = "0.0.0.0") -> WorkerMetrics:
    """Serve this process's worker metrics on `port` and make `record_pass` count into them."""
    global _installed
    metrics = WorkerMetrics()
    metrics.serve(port, addr)
    _installed = metrics
    return metrics


def record_pass(report) -> None:
    """Count a finished pass if this process serves metrics (`install`); otherwise nothing."""
    if _installed is not None:
        _installed.pass_finished(report)
