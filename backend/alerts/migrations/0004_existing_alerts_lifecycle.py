# The data migration of alerts raised before alerts could end (docs/alerts.md).
#
# Each step is its own migration, so its own transaction: on PostgreSQL these updates
# leave deferred foreign-key trigger events pending on alerts_alert, and no index can be
# created on that table in the same transaction (0003 creates one at its end, 0005 more).

from django.db import migrations, models
from django.db.models import Max
from django.utils import timezone

SEVERITY = {"HIGH_TEMP": "critical", "OFFLINE": "critical", "ONLINE": "info"}


def lifecycle_of_existing_alerts(apps, schema_editor):
    """Alerts raised before alerts could end: the ones whose condition still holds stay ACTIVE.

    Every alert becomes CLEARED (an ONLINE at its own ts, any other at the time of the
    migration, the moment its end is known), except the newest HIGH_TEMP of a device
    that is still hot and the newest OFFLINE of a device still OFFLINE.
    """
    Alert = apps.get_model("alerts", "Alert")
    DeviceAlertState = apps.get_model("alerts", "DeviceAlertState")
    Device = apps.get_model("devices", "Device")
    now = timezone.now()
    for alert_type, severity in SEVERITY.items():
        Alert.objects.filter(alert_type=alert_type).update(severity=severity)
    Alert.objects.filter(alert_type="ONLINE").update(cleared_at=models.F("ts"))
    Alert.objects.exclude(alert_type="ONLINE").update(cleared_at=now)
    still = {
        "HIGH_TEMP": DeviceAlertState.objects.filter(hot=True).values("device_id"),
        "OFFLINE": Device.objects.filter(status="OFFLINE").values("device_id"),
    }
    for alert_type, devices in still.items():
        newest = (
            Alert.objects.filter(alert_type=alert_type, device_id__in=devices)
            .values("device_id").annotate(newest=Max("id")).values("newest")
        )
        Alert.objects.filter(id__in=newest).update(status="ACTIVE", cleared_at=None)


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0003_alert_lifecycle_and_rules'),
    ]

    operations = [
        migrations.RunPython(lifecycle_of_existing_alerts, migrations.RunPython.noop),
    ]
