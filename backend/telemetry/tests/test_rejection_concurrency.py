"""Two ingest processes storing rejections at once share one sample (PostgreSQL)."""
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from devtools.waiting import wait_until
from telemetry.models import RejectedMessage
from telemetry.services import RejectedInput, telemetry_store_batch

pytestmark = pytest.mark.django_db(transaction=True)


def batch(prefix: str, now) -> list[RejectedInput]:
    return [RejectedInput("devices/d1/telemetry", b"%s %d" % (prefix.encode(), n), "invalid JSON: x",
                          now + timedelta(milliseconds=n)) for n in range(3)]


def waiting_on_an_advisory_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0] > 0


def test_a_batch_waits_for_a_concurrent_one_and_the_sample_holds_for_both(settings):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite's IMMEDIATE transactions run one at a time)")
    settings.REJECTIONS_SAMPLE_PER_DEVICE = 3
    now = timezone.now()
    first_written, release, results = threading.Event(), threading.Event(), {}

    def first_ingest():
        try:
            with transaction.atomic():  # a batch that has stored its rejections and not committed yet
                results["first"] = telemetry_store_batch(readings=[], rejections=batch("a", now),
                                                         known_device_ids=set())
                first_written.set()
                release.wait(30)
        finally:
            connections.close_all()

    def second_ingest():
        try:
            results["second"] = telemetry_store_batch(readings=[], rejections=batch("b", now),
                                                      known_device_ids=set())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first_ingest), threading.Thread(target=second_ingest)]
    threads[0].start()
    try:
        assert first_written.wait(30)
        threads[1].start()
        wait_until(waiting_on_an_advisory_lock, timeout=10)
        assert "second" not in results
    finally:
        release.set()
        for thread in threads:
            thread.join(30)

    assert (results["first"].rejected, results["first"].rejections_not_kept) == (3, 0)
    assert (results["second"].rejected, results["second"].rejections_not_kept) == (3, 3)
    assert RejectedMessage.objects.count() == 3
