"""The admin login: failed attempts lock out a username from one address for the cool-off; weak passwords are refused."""
import getpass
import io
import runpy
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client

from devtools.processes import BACKEND_DIR

pytestmark = pytest.mark.django_db

SETTINGS_FILE = str(BACKEND_DIR / "config" / "settings.py")
PASSWORD = "correct horse battery staple"
ATTACKER = "198.51.100.7"
ADMIN_DESK = "198.51.100.20"
PROXY = "10.0.0.1"


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    """A cheap hasher, so that the many logins of these tests take milliseconds each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_user("admin", password=PASSWORD, is_staff=True, is_superuser=True)


def log_in(username: str, password: str, address: str = ATTACKER, **meta) -> tuple[Client, int]:
    """Submit the admin's login form from `address` in a fresh browser; (the browser, the status)."""
    browser = Client()
    response = browser.post("/admin/login/?next=/admin/", {"username": username, "password": password},
                            REMOTE_ADDR=address, **meta)
    return browser, response.status_code


def signed_in(browser: Client) -> bool:
    return SESSION_KEY in browser.session


def fail_to_the_limit(username: str = "admin", address: str = ATTACKER, **meta) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _, status = log_in(username, "wrong password", address, **meta)
        assert status in (200, 429)  # the form again with an error; 429 once locked


def test_the_limit_and_the_cool_off_default_to_5_failures_and_15_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)


def test_the_limit_and_the_cool_off_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ADMIN_LOGIN_FAILURE_LIMIT", "3")
    monkeypatch.setenv("ADMIN_LOGIN_COOLOFF_MINUTES", "60")
    loaded = runpy.run_path(SETTINGS_FILE)
    assert loaded["AXES_FAILURE_LIMIT"] == 3
    assert loaded["AXES_COOLOFF_TIME"] == timedelta(hours=1)


@pytest.mark.parametrize(("name", "value"), [("ADMIN_LOGIN_FAILURE_LIMIT", "0"), ("ADMIN_LOGIN_COOLOFF_MINUTES", "soon")])
def test_a_bad_limit_or_cool_off_stops_the_start(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        runpy.run_path(SETTINGS_FILE)


def test_the_right_password_works_before_any_failure(admin_user):
    browser, status = log_in("admin", PASSWORD)
    assert status == 302 and signed_in(browser)


def test_after_the_limit_of_wrong_passwords_the_right_one_is_refused_during_the_cool_off(admin_user):
    fail_to_the_limit()
    browser, status = log_in("admin", PASSWORD)
    assert status == 429
    assert not signed_in(browser)


def test_one_failure_fewer_than_the_limit_still_lets_the_right_password_in(admin_user):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in("admin", "wrong password")
    browser, status = log_in("admin", PASSWORD)
    assert status == 302 and signed_in(browser)


def test_after_the_cool_off_the_right_password_works_again(admin_user):
    from axes.models import AccessAttempt

    fail_to_the_limit()
    assert log_in("admin", PASSWORD)[1] == 429
    # The cool-off is counted from the last attempt; move every recorded attempt past it.
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= settings.AXES_COOLOFF_TIME + settings.AXES_COOLOFF_TIME / 100
        attempt.save()
    browser, status = log_in("admin", PASSWORD)
    assert status == 302 and signed_in(browser)


def test_the_locked_username_still_logs_in_from_another_address(admin_user):
    fail_to_the_limit(address=ATTACKER)
    browser, status = log_in("admin", PASSWORD, address=ADMIN_DESK)
    assert status == 302 and signed_in(browser)


def test_another_user_at_the_locked_address_is_unaffected(admin_user, django_user_model):
    django_user_model.objects.create_user("operator", password=PASSWORD, is_staff=True)
    fail_to_the_limit(address=ATTACKER)
    browser, status = log_in("operator", PASSWORD, address=ATTACKER)
    assert status == 302 and signed_in(browser)


def test_a_forged_x_forwarded_for_does_not_buy_fresh_attempts(admin_user):
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in("admin", "wrong password", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    _, status = log_in("admin", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert status == 429


def test_behind_api_num_proxies_the_lockout_is_per_forwarded_client(admin_user, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    fail_to_the_limit(address=PROXY, HTTP_X_FORWARDED_FOR=ATTACKER)
    assert log_in("admin", PASSWORD, address=PROXY, HTTP_X_FORWARDED_FOR=ATTACKER)[1] == 429
    # A client that prepends a fake address of its own is still known by what the proxy appended.
    assert log_in("admin", PASSWORD, address=PROXY, HTTP_X_FORWARDED_FOR=f"{ADMIN_DESK}, {ATTACKER}")[1] == 429
    browser, status = log_in("admin", PASSWORD, address=PROXY, HTTP_X_FORWARDED_FOR=ADMIN_DESK)
    assert status == 302 and signed_in(browser)


def test_api_tokens_and_sessions_are_not_affected_by_a_lockout(admin_user):
    from rest_framework.authtoken.models import Token

    fail_to_the_limit()
    token = Token.objects.create(user=admin_user)
    api = Client()
    assert api.get("/api/devices/", headers={"Authorization": f"Token {token.key}"}, REMOTE_ADDR=ATTACKER).status_code == 200
    api.force_login(admin_user)
    assert api.get("/api/devices/", REMOTE_ADDR=ATTACKER).status_code == 200


def test_the_admin_password_change_refuses_a_weak_password(admin_user):
    browser = Client()
    browser.force_login(admin_user)
    response = browser.post("/admin/password_change/", {
        "old_password": PASSWORD, "new_password1": "qwerty", "new_password2": "qwerty",
    })
    assert response.status_code == 200
    assert b"This password is too common." in response.content
    assert b"This password is too short." in response.content
    admin_user.refresh_from_db()
    assert admin_user.check_password(PASSWORD)


def test_the_admin_password_change_accepts_a_strong_password(admin_user):
    browser = Client()
    browser.force_login(admin_user)
    strong = "a much longer passphrase 7"
    response = browser.post("/admin/password_change/", {
        "old_password": PASSWORD, "new_password1": strong, "new_password2": strong,
    })
    assert response.status_code == 302
    admin_user.refresh_from_db()
    assert admin_user.check_password(strong)


class Terminal:
    """Stands in for an interactive stdin: createsuperuser asks for passwords only on a terminal."""

    def isatty(self) -> bool:
        return True


def test_createsuperuser_refuses_a_weak_password_and_asks_again(monkeypatch, capsys, django_user_model):
    strong = "a much longer passphrase 7"
    passwords = iter(["12345678", "12345678", strong, strong])
    answers = []
    monkeypatch.setattr(getpass, "getpass", lambda prompt="Password: ": next(passwords))

    def refuse_to_bypass(prompt=""):
        answers.append(prompt)
        return "N"

    monkeypatch.setattr("builtins.input", refuse_to_bypass)
    call_command("createsuperuser", username="root", email="root@example.com", interactive=True, stdin=Terminal())

    assert "This password is entirely numeric." in capsys.readouterr().err
    assert any("Bypass password validation" in prompt for prompt in answers)
    user = django_user_model.objects.get(username="root")
    assert user.check_password(strong) and not user.check_password("12345678")


def test_axes_reset_username_lifts_the_lock_at_once(admin_user):
    fail_to_the_limit()
    assert log_in("admin", PASSWORD)[1] == 429
    call_command("axes_reset_username", "admin", stdout=io.StringIO())
    browser, status = log_in("admin", PASSWORD)
    assert status == 302 and signed_in(browser)


def test_the_admin_lists_the_failed_attempts(admin_user):
    fail_to_the_limit()
    staff = Client()
    staff.force_login(admin_user)
    response = staff.get("/admin/axes/accessattempt/")
    assert response.status_code == 200
    assert ATTACKER.encode() in response.content
