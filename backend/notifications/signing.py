"""The signature of a webhook body: HMAC-SHA256 of `timestamp + "." + body` with the subscription's secret."""
import hashlib
import hmac

SIGNATURE_HEADER = "X-Telemetry-Signature"
TIMESTAMP_HEADER = "X-Telemetry-Timestamp"
DELIVERY_HEADER = "X-Telemetry-Delivery"


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value, `sha256=<hex>`."""
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(*, secret: str, timestamp: int, body: bytes, delivery_id: str) -> dict[str, str]:
    """Every header a receiver needs to check a body and drop a repeat of it."""
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(secret=secret, timestamp=timestamp, body=body),
        TIMESTAMP_HEADER: str(timestamp),
        DELIVERY_HEADER: delivery_id,
    }


def signature_valid(*, secret: str, timestamp: str, body: bytes, received: str) -> bool:
    """A receiver's check, in constant time (the platform's own tests use it)."""
    try:
        expected = signature(secret=secret, timestamp=int(timestamp), body=body)
    except ValueError:
        return False
    return hmac.compare_digest(expected, received)
