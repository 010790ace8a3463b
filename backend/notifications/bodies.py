"""What a delivery sends: the platform's JSON, a Slack message, an e-mail (pure but for the alert serializer)."""
import json

from alerts.serializers import AlertSerializer
from notifications.severity import RAISED, alert_severity

_SLACK_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def alert_json(alert, event: str) -> dict:
    """The alert as /api/alerts/ serializes it, plus `event` ("raised" or "cleared")."""
    return {**AlertSerializer(alert).data, "event": event}


def alert_summary(alert, event: str) -> str:
    """One line a person reads: severity, type, event, device, and what triggered it."""
    device = alert.device
    where = alert.device_id if not getattr(device, "name", "") else f"{alert.device_id} ({device.name})"
    line = f"[{alert_severity(alert).upper()}] {alert.alert_type} {event} on {where}"
    trigger = alert_trigger(alert.alert_type, alert.payload or {})
    return f"{line}: {trigger}" if trigger else line


def alert_trigger(alert_type: str, payload: dict) -> str:
    """What made the alert, from its payload."""
    if alert_type == "HIGH_TEMP" and "temperature" in payload:
        text = f"temperature {payload['temperature']} °C above the {payload.get('threshold', '?')} °C threshold"
        return f"{text} at {payload['ts']}" if payload.get("ts") else text
    if alert_type == "OFFLINE" and "last_seen" in payload:
        return f"silent since {payload['last_seen']}"
    if alert_type == "ONLINE" and "offline_since" in payload:
        return f"sending again, offline since {payload['offline_since']}"
    return ", ".join(f"{key} {value}" for key, value in sorted(payload.items()))


def slack_message(alert, event: str, ts: str) -> dict:
    """A Slack incoming-webhook message: `{"text": ...}` with Slack's three characters escaped."""
    icon = ":rotating_light:" if event == RAISED else ":white_check_mark:"
    text = f"{icon} {alert_summary(alert, event)} (alert {alert.id}, {ts})"
    return {"text": "".join(_SLACK_ESCAPES.get(char, char) for char in text)}


def webhook_body(alert, event: str, body_format: str) -> bytes:
    """The POST body of a webhook of `body_format` (json or slack)."""
    document = alert_json(alert, event)
    if body_format == "slack":
        document = slack_message(alert, event, document["ts"])
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def email_message(alert, event: str) -> tuple[str, str]:
    """Subject and plain-text body of an alert e-mail."""
    document = alert_json(alert, event)
    # A header: a line break in a device's name must not end it.
    subject = " ".join(f"[telemetry] {alert_summary(alert, event)}".split())[:200]
    body = f"{alert_summary(alert, event)}\n\nRaised at {document['ts']} (alert {alert.id}).\n\n" + json.dumps(
        document, indent=2, ensure_ascii=False) + "\n"
    return subject, body
