"""The hook through which the registry keeps the MQTT broker's device accounts in step.

`devices.services` calls `broker_accounts().upsert(device_id, key)` after a register or a
key rotation commits, and `remove(device_id)` after a decommission. DEVICE_BROKER_ACCOUNTS
names the class; the default does nothing. With the production broker it is
`devices.broker_dynsec.DynamicSecurityAccounts`, which keeps the device accounts of
Mosquitto's dynamic security plugin (docs/security.md).
"""
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class BrokerAccounts(Protocol):
    def upsert(self, device_id: str, key: str) -> None: ...

    def remove(self, device_id: str) -> None: ...


class NoBrokerAccounts:
    """Leaves the broker alone."""

    def upsert(self, device_id: str, key: str) -> None:
        """Do nothing."""

    def remove(self, device_id: str) -> None:
        """Do nothing."""


@cache
def _load(path: str) -> BrokerAccounts:
    return import_string(path)()


def broker_accounts() -> BrokerAccounts:
    """The configured BrokerAccounts (DEVICE_BROKER_ACCOUNTS), one instance per process."""
    return _load(settings.DEVICE_BROKER_ACCOUNTS)
