"""One-time messages across a redirect (post/redirect/get), including a new key's secret.

Every console form posts, changes something, and answers 303 to a page; what happened rides along
in a short-lived cookie that the next page shows once and deletes. Nothing is kept on the server,
so any API process may serve the page after the redirect (distributed mode has many).

The cookie can carry a secret shown once (a new API key), so it is encrypted and authenticated
(AES-GCM) under a key derived from the server's secret *and* the session's cookie token: it is
unreadable without the server, useless in another session, and cannot be forged. It is a
session cookie (no ``Max-Age``: never written to disk by the browser on purpose), ``HttpOnly``,
``SameSite=Lax``, path ``/console``, ``Secure`` over https.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

COOKIE = "qumulus_flash"
#: Browsers keep ~4 KB per cookie; a message that would not fit is cut (secrets are ~60 bytes).
MAX_BYTES = 3000
_AAD = b"qumulus console flash v1"


def _key(server_secret: bytes, session_token: str) -> bytes:
    return hmac.new(server_secret, b"console-flash\x00" + session_token.encode(), hashlib.sha256).digest()


def seal(message: dict[str, Any], server_secret: bytes, session_token: str) -> str:
    """The cookie value for ``message`` (a JSON-able dict)."""
    raw = json.dumps(message, separators=(",", ":")).encode()
    if len(raw) > MAX_BYTES:
        trimmed = {k: v for k, v in message.items() if k in ("kind", "text", "secret", "name")}
        trimmed["text"] = str(trimmed.get("text", ""))[:500]
        raw = json.dumps(trimmed, separators=(",", ":")).encode()
    nonce = os.urandom(12)
    box = AESGCM(_key(server_secret, session_token)).encrypt(nonce, raw, _AAD)
    return base64.urlsafe_b64encode(nonce + box).decode().rstrip("=")


def open_(value: str | None, server_secret: bytes, session_token: str | None) -> dict[str, Any] | None:
    """The message in a cookie value, or None when absent, tampered with, or from another session."""
    if not value or not session_token or len(value) > 2 * MAX_BYTES:
        return None
    try:
        blob = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        raw = AESGCM(_key(server_secret, session_token)).decrypt(blob[:12], blob[12:], _AAD)
        found = json.loads(raw)
    except (ValueError, InvalidTag):
        return None
    return found if isinstance(found, dict) else None
