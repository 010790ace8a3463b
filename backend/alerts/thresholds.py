"""Which thresholds apply to a device: its own rule, then its type's, then the environment's default.

`RuleBook` is pure (tested without a database); `rule_book_load` reads the few AlertRule
rows and the settings once per pass, so an edited rule takes effect at the next pass.
"""
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from alerts.models import AlertRule
from alerts.rules import Limit

FIELDS = (
    "high_temp_threshold",
    "high_temp_hysteresis",
    "offline_after_seconds",
    "low_battery_percent",
    "low_battery_hysteresis",
    "anomaly_z",
)
DEVICE, DEVICE_TYPE, DEFAULT = "device", "device_type", "default"
# More specific first: a device's own value wins over its type's, which wins over the default.
PRECEDENCE = (DEVICE, DEVICE_TYPE, DEFAULT)


@dataclass(frozen=True, slots=True)
class RuleBook:
    """The defaults and every override: {device_type: {field: value}}, {device_id: {field: value}}."""

    defaults: dict[str, float]
    by_type: dict[str, dict[str, float]]
    by_device: dict[str, dict[str, float]]

    def value(self, name: str, device_id: str, device_type: str | None = None) -> tuple[float, str]:
        """The value of `name` for this device, and the level that set it."""
        if name in self.by_device.get(device_id, {}):
            return self.by_device[device_id][name], DEVICE
        if device_type is not None and name in self.by_type.get(device_type, {}):
            return self.by_type[device_type][name], DEVICE_TYPE
        return self.defaults[name], DEFAULT

    def limit(self, level: str, hysteresis: str, device_id: str, device_type: str | None = None) -> Limit:
        """A threshold and its hysteresis; the source is the more specific of the two fields' levels."""
        value, value_source = self.value(level, device_id, device_type)
        margin, margin_source = self.value(hysteresis, device_id, device_type)
        source = min(value_source, margin_source, key=PRECEDENCE.index)
        return Limit(value, margin, source)

    def types_setting(self, *names: str) -> set[str]:
        """The device types whose rule sets any of these fields."""
        return {t for t, values in self.by_type.items() if any(n in values for n in names)}

    def devices_setting(self, *names: str) -> set[str]:
        """The devices whose own rule sets any of these fields."""
        return {d for d, values in self.by_device.items() if any(n in values for n in names)}


def defaults_from_settings() -> dict[str, float]:
    """The environment's defaults (config/settings.py)."""
    return {
        "high_temp_threshold": settings.HIGH_TEMP_THRESHOLD,
        "high_temp_hysteresis": settings.HIGH_TEMP_HYSTERESIS,
        "offline_after_seconds": settings.OFFLINE_AFTER_SECONDS,
        "low_battery_percent": settings.LOW_BATTERY_PERCENT,
        "low_battery_hysteresis": settings.LOW_BATTERY_HYSTERESIS,
        "anomaly_z": settings.ANOMALY_Z,
    }


def rule_book_build(rows: Iterable[dict], defaults: dict[str, float]) -> RuleBook:
    """A RuleBook from AlertRule rows as dicts (device_id, device_type and the FIELDS; None inherits)."""
    by_type: dict[str, dict[str, float]] = {}
    by_device: dict[str, dict[str, float]] = {}
    for row in rows:
        values = {name: row[name] for name in FIELDS if row.get(name) is not None}
        if not values:
            continue
        if row.get("device_id"):
            by_device[row["device_id"]] = values
        elif row.get("device_type") is not None:
            by_type[row["device_type"]] = values
    return RuleBook(defaults=dict(defaults), by_type=by_type, by_device=by_device)


def rule_book_load(**default_overrides: float) -> RuleBook:
    """The rules in force now; `default_overrides` replace some environment defaults (tests, benchmarks)."""
    defaults = {**defaults_from_settings(), **default_overrides}
    return rule_book_build(AlertRule.objects.values("device_id", "device_type", *FIELDS), defaults)
