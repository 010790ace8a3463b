"""DynamicSecurityAccounts takes its admin connection from the settings, and refuses to start without it."""
import pytest
from django.core.exceptions import ImproperlyConfigured

from devices.broker_dynsec import AdminConnection, DynamicSecurityAccounts


@pytest.mark.parametrize("missing", ["MQTT_ADMIN_USERNAME", "MQTT_ADMIN_PASSWORD"])
def test_an_admin_account_without_a_username_or_password_stops_at_once(settings, missing):
    settings.MQTT_ADMIN_USERNAME, settings.MQTT_ADMIN_PASSWORD = "dynsec-admin", "secret"
    setattr(settings, missing, "")
    with pytest.raises(ImproperlyConfigured, match=missing):
        DynamicSecurityAccounts()


def test_the_admin_connection_is_the_settings(settings):
    settings.MQTT_ADMIN_USERNAME, settings.MQTT_ADMIN_PASSWORD = "dynsec-admin", "secret"
    settings.MQTT_ADMIN_HOST, settings.MQTT_ADMIN_PORT = "mosquitto", 1883
    assert DynamicSecurityAccounts().connection == AdminConnection("mosquitto", 1883, "dynsec-admin", "secret")
