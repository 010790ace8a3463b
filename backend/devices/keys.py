"""Device API keys: random 256-bit secrets, stored only as a keyed hash (docs/security.md, "Device keys")."""
import hashlib
import hmac
import secrets

from django.conf import settings

KEY_BYTES = 32
PREFIX_LENGTH = 8


def key_generate() -> str:
    """A new API key: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(KEY_BYTES)


def key_hash(key: str) -> str:
    """The hex HMAC-SHA256 of `key` under the server's pepper: what the registry stores."""
    pepper = (settings.DEVICE_KEY_PEPPER or settings.SECRET_KEY).encode()
    return hmac.new(pepper, key.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def key_prefix(key: str) -> str:
    """The first characters of a key, shown in the admin so an operator can tell keys apart."""
    return key[:PREFIX_LENGTH]


def key_matches(presented_hash: str, stored_hash: str) -> bool:
    """Whether a presented key's hash is the stored one, in constant time; never for a device without a key."""
    return bool(stored_hash) and hmac.compare_digest(presented_hash, stored_hash)
