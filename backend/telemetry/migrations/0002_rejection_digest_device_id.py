"""Rejected messages get a key (digest), the device id of their topic, and two indexes.

Rows stored before this migration cannot get their real digest (only their escaped
first 4 KiB were kept), so they get `legacy-<id>`: unique, and never equal to a sha256.
"""
from django.db import migrations, models
from django.db.models import Value
from django.db.models.functions import Cast, Concat

from telemetry.payload import device_id_from_topic


def backfill(apps, schema_editor):
    RejectedMessage = apps.get_model("telemetry", "RejectedMessage")
    RejectedMessage.objects.update(digest=Concat(Value("legacy-"), Cast("id", models.CharField())))
    # One UPDATE per distinct topic (about one per device), not one per row.
    for topic in RejectedMessage.objects.values_list("topic", flat=True).distinct().order_by():
        device_id = device_id_from_topic(topic)
        if device_id is not None:
            RejectedMessage.objects.filter(topic=topic).update(device_id=device_id)


class Migration(migrations.Migration):

    dependencies = [
        ("telemetry", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="rejectedmessage",
            name="device_id",
            field=models.CharField(
                blank=True, help_text="The device id of the topic; empty when the topic has none.",
                max_length=64, null=True,
            ),
        ),
        migrations.AddField(
            model_name="rejectedmessage",
            name="digest",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="rejectedmessage",
            name="digest",
            field=models.CharField(
                help_text="sha256 of the topic and the whole raw payload: a redelivery's key.",
                max_length=64, unique=True,
            ),
        ),
        migrations.AlterField(
            model_name="rejectedmessage",
            name="payload",
            field=models.TextField(
                help_text="The raw payload's first 4 KiB as at most 4,096 characters, undecodable bytes and NUL escaped."
            ),
        ),
        migrations.AddIndex(
            model_name="rejectedmessage",
            index=models.Index(fields=["device_id", "received_at"], name="rejected_device_received"),
        ),
        migrations.AddIndex(
            model_name="rejectedmessage",
            index=models.Index(fields=["reason"], name="rejected_reason"),
        ),
    ]
