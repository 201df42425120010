"""Delivering one webhook call: check the target again, connect to the checked address, sign."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from qumulus.notifications import guard, signing

TIMEOUT_SECONDS = 10.0


class DeliveryFailed(Exception):
    pass


def payload(event: str, delivery_id: str, job: dict[str, Any]) -> bytes:
    """``{"event", "delivery_id", "job": <the job's v0.4 JSON>}``."""
    return json.dumps(
        {"event": event, "delivery_id": delivery_id, "job": job}, separators=(",", ":")
    ).encode()


def deliver(
    url: str,
    secret: str,
    body: bytes,
    *,
    event: str,
    delivery_id: str,
    allow_private: bool,
    resolve: guard.Resolver = guard.system_resolver,
    timeout: float = TIMEOUT_SECONDS,
) -> None:
    """POST ``body``; any non-2xx answer, refusal or network error raises :class:`DeliveryFailed`.

    Redirects are not followed: a redirect could lead to an address the guard would refuse.
    """
    try:
        target = guard.check_url(url, allow_private=allow_private, resolve=resolve)
    except guard.UnsafeTarget as exc:
        raise DeliveryFailed(f"target refused: {url} {exc}") from None
    timestamp = int(time.time())
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host:
        host_header = f"[{target.host}]" + ("" if target.port == default_port else f":{target.port}")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "qumulus-webhook/1",
        "Host": host_header,
        "X-Qumulus-Event": event,
        "X-Qumulus-Delivery": delivery_id,
        "X-Qumulus-Timestamp": str(timestamp),
        "X-Qumulus-Signature": signing.sign(secret, timestamp, body),
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            reply = client.post(
                guard.pinned_url(target, target.addresses[0]),
                content=body,
                headers=headers,
                extensions=extensions,
            )
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
    if not 200 <= reply.status_code < 300:
        raise DeliveryFailed(f"HTTP {reply.status_code} from {url}")
