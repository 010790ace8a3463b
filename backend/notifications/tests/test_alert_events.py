"""The alert pass writes each raised and cleared alert's deliveries in its own transaction."""
import pytest

from alerts import services
from alerts.models import Alert
from devtools.factories import make_device, make_email, make_temperature_readings, make_webhook
from notifications.models import Delivery

pytestmark = pytest.mark.django_db


def evaluate():
    return services.alerts_evaluate(threshold=30.0, offline_after=3600.0)


def deliveries():
    return sorted((d.alert.alert_type, d.event, "webhook" if d.webhook_id else "email")
                  for d in Delivery.objects.select_related("alert"))


def test_a_heat_episode_queues_its_raised_then_its_cleared_event_for_each_subscription():
    make_webhook(alert_types=["HIGH_TEMP"])
    make_email()
    make_device("d1")
    make_temperature_readings("d1", [25, 31])
    evaluate()
    assert deliveries() == [("HIGH_TEMP", "raised", "email"), ("HIGH_TEMP", "raised", "webhook")]
    make_temperature_readings("d1", [29])
    evaluate()
    assert deliveries() == [("HIGH_TEMP", "cleared", "email"), ("HIGH_TEMP", "cleared", "webhook"),
                            ("HIGH_TEMP", "raised", "email"), ("HIGH_TEMP", "raised", "webhook")]
    assert {d.alert_id for d in Delivery.objects.all()} == set(Alert.objects.values_list("id", flat=True))


def test_deliveries_roll_back_with_a_pass_that_fails_after_queueing_them(monkeypatch):
    make_webhook()
    make_device("d1")
    make_temperature_readings("d1", [31])
    send = services.alerts_changed.send
    queued = []

    def send_then_fail(sender, **kwargs):
        send(sender, **kwargs)
        queued.append(Delivery.objects.count())
        raise RuntimeError("the pass fails after its deliveries are written")

    monkeypatch.setattr(services.alerts_changed, "send", send_then_fail)
    with pytest.raises(RuntimeError):
        evaluate()
    assert queued == [1]
    assert (Alert.objects.count(), Delivery.objects.count()) == (0, 0)
