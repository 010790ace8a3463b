"""The web's Prometheus metrics (django-prometheus), for the networks allowed to scrape them."""
import ipaddress

from django.conf import settings
from django.http import HttpResponseForbidden
from django_prometheus.exports import ExportToDjangoView

from config.admin_login import client_address


def metrics_allowed(address: str) -> bool:
    """Whether a client address is in METRICS_ALLOWED_NETWORKS."""
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(client in network for network in settings.METRICS_ALLOWED_NETWORKS)


def metrics(request):
    """Prometheus text of this process's request metrics; 403 outside METRICS_ALLOWED_NETWORKS."""
    if not metrics_allowed(client_address(request)):
        return HttpResponseForbidden("metrics are served to METRICS_ALLOWED_NETWORKS only\n", content_type="text/plain")
    return ExportToDjangoView(request)
