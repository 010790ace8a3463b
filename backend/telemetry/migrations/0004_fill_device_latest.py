"""Each device's newest reading copied onto the device (latest_*), which the ingest keeps from now on."""
from django.db import migrations
from django.db.models import OuterRef, Subquery

LATEST_COLUMNS = ("ts", "temperature", "humidity", "battery")


def fill_latest(apps, schema_editor):
    Device = apps.get_model("devices", "Device")
    Telemetry = apps.get_model("telemetry", "Telemetry")
    # One correlated subquery per column, each served by the (device, ts) unique index.
    newest = Telemetry.objects.filter(device_id=OuterRef("pk")).order_by("-ts")
    Device.objects.update(**{f"latest_{name}": Subquery(newest.values(name)[:1]) for name in LATEST_COLUMNS})


class Migration(migrations.Migration):

    dependencies = [
        ("devices", "0005_latest_reading"),
        ("telemetry", "0003_telemetry_partitioned"),
    ]

    operations = [
        migrations.RunPython(fill_latest, migrations.RunPython.noop),
    ]
