"""No secret is committed: settings come from the environment, .env stays out of git."""
import re
import shutil
import subprocess

import pytest

from devtools.broker import REPO_DIR

# What a leaked credential looks like, with the placeholders the docs use allowed.
SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    "Slack token": re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{10,}"),
    "mosquitto password hash": re.compile(r"^[^\s:#]+:\$[67]\$", re.MULTILINE),
    "DRF token header": re.compile(r"Authorization: Token [0-9a-f]{40}\b"),
    "Django secret key": re.compile(r"SECRET_KEY\s*=\s*['\"](?!dev-insecure-secret-key-change-me['\"])[^'\"]{20,}['\"]"),
    "secret in an env file": re.compile(r"^(DJANGO_SECRET_KEY|MQTT_PASSWORD|SIMULATOR_MQTT_PASSWORD|POSTGRES_PASSWORD)=\S", re.MULTILINE),
    "password in a URL": re.compile(r"[a-z]+://[^\s/:@]+:(?!pw@|telemetry@|\{|\$)[^\s/@]+@"),
}


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (REPO_DIR / ".git").exists():
        pytest.skip("not a git checkout")
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_DIR, capture_output=True, check=True)
    return [name for name in listing.stdout.decode().split("\0") if name]


def test_no_tracked_file_holds_a_credential():
    found = []
    for name in tracked_files():
        path = REPO_DIR / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_bytes().decode("utf-8", "ignore")
        found += [f"{name}: {kind}" for kind, pattern in SECRET_PATTERNS.items() if pattern.search(text)]
    assert found == []


def test_env_example_leaves_every_secret_empty():
    env_example = (REPO_DIR / ".env.example").read_text()
    for name in ("DJANGO_SECRET_KEY", "MQTT_PASSWORD", "SIMULATOR_MQTT_PASSWORD", "POSTGRES_PASSWORD"):
        assert re.search(rf"^{name}=$", env_example, re.MULTILINE), name


def test_a_local_env_file_is_ignored_by_git():
    tracked_files()  # skips outside a git checkout
    result = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=REPO_DIR)
    assert result.returncode == 0, ".env (copied from .env.example, with real secrets) is not in .gitignore"
