"""The pure parts: signature, message text, backoff schedule, subscription matching."""
import random
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from notifications.backoff import next_attempt_at, retry_delay
from notifications.bodies import alert_summary, slack_message
from notifications.matching import subscription_wants
from notifications.severity import alert_severity
from notifications.signing import signature, signature_valid, signed_headers


def test_the_signature_matches_a_vector_computed_with_openssl():
    # printf '%s' '1767225600.{"event":"raised"}' | openssl dgst -sha256 -hmac 'whsec_0123456789abcdef'
    assert signature(secret="whsec_0123456789abcdef", timestamp=1767225600, body=b'{"event":"raised"}') == (
        "sha256=cdfe80ad9bb549b04fdd84f1143f51736684e0ac9adf702cd3ba465b81331d89")


def test_the_headers_carry_signature_timestamp_and_delivery_id_and_a_receiver_can_check_them():
    headers = signed_headers(secret="s" * 16, timestamp=1767225600, body=b"{}", delivery_id="d-1")
    assert headers["X-Telemetry-Timestamp"] == "1767225600"
    assert headers["X-Telemetry-Delivery"] == "d-1"
    assert signature_valid(secret="s" * 16, timestamp="1767225600", body=b"{}",
                           received=headers["X-Telemetry-Signature"])
    # Another body, another timestamp or another secret: refused.
    assert not signature_valid(secret="s" * 16, timestamp="1767225600", body=b"{ }",
                               received=headers["X-Telemetry-Signature"])
    assert not signature_valid(secret="s" * 16, timestamp="1767225601", body=b"{}",
                               received=headers["X-Telemetry-Signature"])
    assert not signature_valid(secret="t" * 16, timestamp="1767225600", body=b"{}",
                               received=headers["X-Telemetry-Signature"])
    assert not signature_valid(secret="s" * 16, timestamp="soon", body=b"{}", received="sha256=00")


def alert(alert_type="HIGH_TEMP", payload=None, name="", **extra):
    device = SimpleNamespace(name=name)
    return SimpleNamespace(id=7, alert_type=alert_type, device_id="device-001", device=device,
                           payload=payload or {}, **extra)


def test_the_slack_text_says_severity_type_device_and_what_triggered_it():
    high = alert(payload={"temperature": 31.2, "threshold": 30.0, "ts": "2026-12-01T10:00:00.000Z"},
                 name="boiler <room> & co")
    message = slack_message(high, "raised", "2026-12-01T10:00:01.000Z")
    assert message == {"text": ":rotating_light: [CRITICAL] HIGH_TEMP raised on device-001 (boiler &lt;room&gt; "
                               "&amp; co): temperature 31.2 °C above the 30.0 °C threshold at "
                               "2026-12-01T10:00:00.000Z (alert 7, 2026-12-01T10:00:01.000Z)"}
    cleared = slack_message(high, "cleared", "2026-12-01T10:05:00.000Z")["text"]
    assert cleared.startswith(":white_check_mark: [CRITICAL] HIGH_TEMP cleared on device-001")


@pytest.mark.parametrize(("alert_type", "payload", "expected"), [
    ("OFFLINE", {"last_seen": "2026-12-01T09:59:50.000Z"},
     "[CRITICAL] OFFLINE raised on device-001: silent since 2026-12-01T09:59:50.000Z"),
    ("ONLINE", {"offline_since": "2026-12-01T09:00:00.000Z"},
     "[INFO] ONLINE raised on device-001: sending again, offline since 2026-12-01T09:00:00.000Z"),
    ("LOW_BATTERY", {"battery": 9, "threshold": 15},
     "[WARNING] LOW_BATTERY raised on device-001: battery 9, threshold 15"),
])
def test_every_type_reads_as_a_sentence(alert_type, payload, expected):
    assert alert_summary(alert(alert_type, payload), "raised") == expected


def test_severity_is_the_alerts_own_when_it_has_one_else_the_default_of_its_type():
    assert alert_severity(alert("HIGH_TEMP")) == "critical"
    assert alert_severity(alert("ONLINE")) == "info"
    assert alert_severity(alert("SOMETHING_NEW")) == "warning"
    assert alert_severity(alert("HIGH_TEMP", severity="warning")) == "warning"
    assert alert_severity(alert("HIGH_TEMP", severity=None)) == "critical"


def test_the_backoff_doubles_from_the_base_up_to_the_cap_with_half_of_it_jittered():
    rng = random.Random(1)
    for attempts, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80), (9, 2560), (10, 3600), (40, 3600)]:
        delays = [retry_delay(attempts=attempts, base_seconds=10, max_seconds=3600, rng=rng) for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not one fixed value


def test_retries_stop_once_the_next_attempt_would_fall_past_a_day():
    created = datetime(2026, 12, 1, tzinfo=timezone.utc)
    day = timedelta(hours=24)
    kwargs = dict(created_at=created, base_seconds=10, max_seconds=3600, retry_for=day, rng=random.Random(2))
    now, attempts, schedule = created, 0, []
    while True:
        attempts += 1
        when = next_attempt_at(now=now, attempts=attempts, **kwargs)
        if when is None:
            break
        schedule.append(when)
        now = when
    assert all(when <= created + day for when in schedule)
    assert schedule[-1] > created + day - timedelta(hours=1)  # tried until the last hour of the day
    assert 25 <= len(schedule) <= 60


@pytest.mark.parametrize(("alert_types", "min_severity", "alert_type", "severity", "wanted"), [
    ([], "info", "ONLINE", "info", True),
    ([], "critical", "ONLINE", "info", False),
    ([], "warning", "LOW_BATTERY", "warning", True),
    ([], "warning", "OFFLINE", "critical", True),
    (["OFFLINE"], "info", "OFFLINE", "critical", True),
    (["OFFLINE"], "info", "HIGH_TEMP", "critical", False),
    (["OFFLINE", "ONLINE"], "warning", "ONLINE", "info", False),
])
def test_a_subscription_wants_its_types_at_or_above_its_minimum_severity(alert_types, min_severity, alert_type,
                                                                          severity, wanted):
    assert subscription_wants(alert_types=alert_types, min_severity=min_severity, alert_type=alert_type,
                              severity=severity) is wanted
