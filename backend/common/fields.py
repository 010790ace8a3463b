"""Serializer fields shared by the apps' response shapes."""
from rest_framework import serializers

from common.timefmt import iso_utc


class UtcDateTimeField(serializers.DateTimeField):
    """A datetime written as common.timefmt.iso_utc writes it (UTC, milliseconds, `Z`)."""

    def to_representation(self, value):
        return None if value is None else iso_utc(value)
