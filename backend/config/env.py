"""Typed readers for settings taken from the environment; a bad value fails loudly."""
import ipaddress
import os
import re

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    """The variable as a string, or the default when unset or empty."""
    return os.environ.get(name) or default


def env_bool(name: str, default: bool) -> bool:
    """The variable as a boolean; anything but a clear yes/no is an error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """The variable as an integer, at least `minimum` when given."""
    return _env_number(name, default, int, minimum)


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    """The variable as a float, at least `minimum` when given."""
    return _env_number(name, default, float, minimum)


def env_list(name: str, default: list[str]) -> list[str]:
    """The variable as a comma-separated list with blanks removed."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str, default: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The variable as comma-separated networks (`10.0.0.0/8`, `::1/128`, or a bare address)."""
    networks = []
    for item in env_list(name, default):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not a network like 10.0.0.0/8 or an address") from None
    return networks


def env_rate(name: str, default: str) -> str:
    """The variable as a DRF throttle rate such as `3000/min` (requests per s, min, hour or day)."""
    value = env_str(name, default).strip()
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name}={value!r} is not a rate like 3000/min (per s, min, hour or day)")
    return value


def _env_number(name, default, kind, minimum):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a {kind.__name__}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a finite number")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}")
    return value
