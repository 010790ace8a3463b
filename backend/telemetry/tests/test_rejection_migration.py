"""The migration that keys rejections applies to a table the old ingest filled, duplicates included."""
from datetime import UTC, datetime

import pytest

from devtools.migrations import migrate_to, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("telemetry", "0001_initial")]
AFTER = [("telemetry", "0002_rejection_digest_device_id")]
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def migrated_back():
    """Start from the migration before; leave the database fully migrated for the next test."""
    yield migrate_to(BEFORE)
    migrate_to_latest()


def test_old_rows_get_a_unique_key_and_their_device_id(migrated_back):
    Old = migrated_back.get_model("telemetry", "RejectedMessage")
    # The old ingest stored every redelivery again: identical rows.
    for _ in range(2):
        Old.objects.create(topic="devices/d1/telemetry", payload="junk", reason="invalid JSON", received_at=NOW)
    Old.objects.create(topic="devices/bad id/telemetry", payload="{}", reason="topic", received_at=NOW)

    new_apps = migrate_to(AFTER)
    New = new_apps.get_model("telemetry", "RejectedMessage")
    rows = list(New.objects.order_by("id").values_list("id", "device_id", "digest"))
    assert [(device_id, digest) for _, device_id, digest in rows] == [
        ("d1", f"legacy-{rows[0][0]}"), ("d1", f"legacy-{rows[1][0]}"), (None, f"legacy-{rows[2][0]}"),
    ]
