"""API key format: ``qmk_<key id>_<secret><checksum>``.

* ``qmk_`` is a readable prefix (secret scanners and humans recognise it);
* the key id (16 lowercase base32 characters) is public and is what the server looks the key up by;
* the secret is 32 base62 characters (~190 bits);
* the checksum (6 base62 characters of CRC32 over everything before it) lets us refuse a mistyped
  or truncated key without touching the database.

The server stores only ``HMAC-SHA256(server secret, key)``, so a leaked database does not leak keys.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
import zlib
from dataclasses import dataclass

PREFIX = "qmk_"
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
_BASE62 = string.digits + string.ascii_letters
KEY_ID_LENGTH = 16
SECRET_LENGTH = 32
CHECKSUM_LENGTH = 6


class MalformedKey(ValueError):
    """The presented string is not a Qumulus key (bad prefix, length, alphabet or checksum)."""


@dataclass(frozen=True)
class ParsedKey:
    key_id: str
    full: str


_KEY_ID = re.compile(f"[{_BASE32}]{{{KEY_ID_LENGTH}}}")
_TAIL = re.compile(f"[0-9A-Za-z]{{{SECRET_LENGTH + CHECKSUM_LENGTH}}}")


def _base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, rem = divmod(number, 62)
        chars.append(_BASE62[rem])
    return "".join(reversed(chars))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


def generate_key() -> ParsedKey:
    """A new random key; the caller shows ``full`` once and stores only its hash."""
    key_id = "".join(secrets.choice(_BASE32) for _ in range(KEY_ID_LENGTH))
    secret = "".join(secrets.choice(_BASE62) for _ in range(SECRET_LENGTH))
    body = f"{PREFIX}{key_id}_{secret}"
    return ParsedKey(key_id=key_id, full=body + _checksum(body))


def parse_key(presented: str) -> ParsedKey:
    """Check shape and checksum; raise :class:`MalformedKey` with the reason."""
    if not presented.startswith(PREFIX):
        raise MalformedKey("key does not start with 'qmk_'")
    rest = presented[len(PREFIX) :]
    key_id, sep, tail = rest.partition("_")
    if not sep or not _KEY_ID.fullmatch(key_id):
        raise MalformedKey("key id part is malformed")
    if not _TAIL.fullmatch(tail):
        raise MalformedKey("secret part is malformed")
    body = presented[:-CHECKSUM_LENGTH]
    if not hmac.compare_digest(_checksum(body), presented[-CHECKSUM_LENGTH:]):
        raise MalformedKey("checksum does not match (mistyped or truncated key)")
    return ParsedKey(key_id=key_id, full=presented)


def hash_key(server_secret: bytes, key: str) -> str:
    return hmac.new(server_secret, key.encode(), hashlib.sha256).hexdigest()


def verify_key(server_secret: bytes, key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(server_secret, key), stored_hash)


def display_form(key_id: str) -> str:
    """How a key is shown after creation: the public part only."""
    return f"{PREFIX}{key_id}_…"
