"""The environment readers fail loudly on a bad value instead of guessing."""
import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_rate


@pytest.mark.parametrize("value", ["3000/min", "5/s", "10/second", "100/hour", "1/d"])
def test_a_throttle_rate_is_read_as_given(monkeypatch, value):
    monkeypatch.setenv("API_THROTTLE_ANON", value)
    assert env_rate("API_THROTTLE_ANON", "1/min") == value


@pytest.mark.parametrize("value", ["3000", "fast", "0/min", "-5/min", "10/week", "1.5/s"])
def test_a_bad_throttle_rate_stops_the_start(monkeypatch, value):
    monkeypatch.setenv("API_THROTTLE_ANON", value)
    with pytest.raises(ImproperlyConfigured, match="API_THROTTLE_ANON"):
        env_rate("API_THROTTLE_ANON", "1/min")


def test_an_unset_throttle_rate_takes_the_default(monkeypatch):
    monkeypatch.delenv("API_THROTTLE_ANON", raising=False)
    assert env_rate("API_THROTTLE_ANON", "3000/min") == "3000/min"
