"""Sending one delivery: a signed webhook POST or an e-mail. No database access, so it can run in any thread."""
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from notifications.signing import signed_headers

USER_AGENT = "telemetry-notifications/1"
# What is kept of a refusing receiver's answer, for the delivery log.
ERROR_BODY_CHARS = 200


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    delivery_id: str
    url: str
    secret: str
    body: bytes


@dataclass(frozen=True, slots=True)
class EmailRequest:
    subject: str
    body: str
    recipients: tuple[str, ...]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected POST would be replayed as a GET without its body; a 3xx is a failure instead.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def webhook_post(request: WebhookRequest, *, timeout: float, clock=time.time) -> Outcome:
    """POST the body with its signature; any 2xx is success, anything else (or no answer in time) a failure."""
    headers = signed_headers(secret=request.secret, timestamp=int(clock()), body=request.body,
                             delivery_id=request.delivery_id)
    http_request = urllib.request.Request(request.url, data=request.body, method="POST",
                                          headers={**headers, "User-Agent": USER_AGENT})
    try:
        with _opener.open(http_request, timeout=timeout) as response:
            return Outcome(ok=True, status_code=response.status)
    except urllib.error.HTTPError as error:
        detail = error.read(ERROR_BODY_CHARS).decode("utf-8", "replace").strip()
        return Outcome(ok=False, status_code=error.code, error=f"HTTP {error.code}" + (f": {detail}" if detail else ""))
    except (OSError, ValueError) as error:
        # URLError, timeouts, refused connections, TLS errors, a URL urllib cannot open.
        reason = getattr(error, "reason", error)
        return Outcome(ok=False, error=f"{type(reason).__name__}: {reason}"[:500])


def email_send(request: EmailRequest) -> Outcome:
    """Hand the message to Django's e-mail backend (SMTP in production, the console in development)."""
    try:
        connection = get_connection(fail_silently=False)
        EmailMessage(request.subject, request.body, settings.NOTIFY_FROM_EMAIL, list(request.recipients),
                     connection=connection).send()
    except Exception as error:  # noqa: BLE001 - any backend's failure is a failed attempt, retried
        return Outcome(ok=False, error=f"{type(error).__name__}: {error}"[:500])
    return Outcome(ok=True)
