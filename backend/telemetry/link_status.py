"""The status topic rule (docs/contract.md, "MQTT"): `online` or `offline` on devices/{id}/status.

A device may publish `online` (retained) when it connects and leave a last will of
`offline` (retained) there, which the broker publishes when the connection drops
without a DISCONNECT. Like `parse_message`, `parse_status` never raises.
"""
import re
from dataclasses import dataclass

from devices.ids import is_device_id
from telemetry.payload import Rejection

STATUS_TOPIC = "devices/+/status"
STATUS_TOPIC_PATTERN = re.compile(r"devices/([^/]+)/status")
ONLINE = "online"
OFFLINE = "offline"
STATES = {ONLINE.encode(): ONLINE, OFFLINE.encode(): OFFLINE}


@dataclass(frozen=True, slots=True)
class LinkReport:
    """A device's own word on its connection: ONLINE or OFFLINE."""

    device_id: str
    state: str


def is_status_topic(topic: str) -> bool:
    """Whether `topic` is a status topic (whatever its device id)."""
    return STATUS_TOPIC_PATTERN.fullmatch(topic) is not None


def parse_status(topic: str, payload: bytes) -> LinkReport | Rejection:
    """Validate one message of a status topic."""
    match = STATUS_TOPIC_PATTERN.fullmatch(topic)
    if match is None or not is_device_id(match.group(1)):
        return Rejection("topic is not devices/{deviceId}/status with a valid device id")
    state = STATES.get(bytes(payload))
    if state is None:
        return Rejection("status is neither online nor offline")
    return LinkReport(match.group(1), state)
