"""Webhook target guard, signatures and retry back-off: pure, with injected resolvers."""

from __future__ import annotations

import ipaddress

import pytest

from qumulus.notifications import backoff, guard, signing


def resolver(*addresses: str):  # type: ignore[no-untyped-def]
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    ("url", "word"),
    [
        ("http://127.0.0.1/hook", "loopback"),
        ("http://[::1]:8080/", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://192.168.0.10/", "private"),
        ("http://172.16.5.4/", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://100.64.0.1/", "not globally routable"),  # carrier-grade NAT
        ("http://240.0.0.1/", "reserved"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped IPv6
        ("http://224.0.0.1/", "multicast"),
    ],
)
def test_non_public_addresses_are_refused(url: str, word: str) -> None:
    with pytest.raises(guard.UnsafeTarget) as refused:
        guard.check_url(url, allow_private=False, resolve=resolver())
    assert word in str(refused.value) and "QUMULUS_WEBHOOK_ALLOW_PRIVATE" in str(refused.value)


def test_a_name_is_refused_if_any_of_its_addresses_is_private() -> None:
    with pytest.raises(guard.UnsafeTarget, match=r"10\.0\.0\.7"):
        guard.check_url(
            "https://hooks.example.com/x", allow_private=False, resolve=resolver("93.184.216.34", "10.0.0.7")
        )


def test_public_targets_pass_and_keep_every_resolved_address() -> None:
    target = guard.check_url(
        "https://hooks.example.com/x?y=1", allow_private=False, resolve=resolver("93.184.216.34")
    )
    assert (target.scheme, target.host, target.port) == ("https", "hooks.example.com", 443)
    assert target.addresses == (ipaddress.ip_address("93.184.216.34"),)
    assert guard.pinned_url(target, target.addresses[0]) == "https://93.184.216.34:443/x?y=1"


def test_private_targets_pass_when_allowed() -> None:
    target = guard.check_url("http://localhost:9000/h", allow_private=True, resolve=resolver("127.0.0.1"))
    assert guard.pinned_url(target, target.addresses[0]) == "http://127.0.0.1:9000/h"


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "file:///etc/passwd", "http://", "not a url", "http://u:p@example.com/", 42]
)
def test_malformed_or_unsupported_urls_are_refused(url: object) -> None:
    with pytest.raises(guard.UnsafeTarget):
        guard.check_url(url, allow_private=True, resolve=resolver("93.184.216.34"))  # type: ignore[arg-type]


def test_unresolvable_hosts_are_refused() -> None:
    def fail(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(guard.UnsafeTarget, match="does not resolve"):
        guard.check_url("https://nowhere.invalid/", allow_private=False, resolve=fail)


def test_signature_verifies_and_detects_any_change() -> None:
    secret = signing.new_secret()
    body = b'{"event":"job.completed"}'
    header = signing.sign(secret, 1700000000, body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert signing.verify(secret, "1700000000", body, header)
    assert not signing.verify(secret, "1700000001", body, header)
    assert not signing.verify(secret, "1700000000", body + b" ", header)
    assert not signing.verify("other", "1700000000", body, header)
    assert not signing.verify(secret, "not-a-number", body, header)


def test_backoff_doubles_up_to_a_cap_then_gives_up() -> None:
    delays = [backoff.next_delay(n, max_attempts=20) for n in range(1, 21)]
    assert delays[:4] == [1.0, 2.0, 4.0, 8.0]
    assert max(d for d in delays if d is not None) == backoff.CAP_SECONDS
    assert delays[-1] is None


@pytest.mark.parametrize(
    ("address", "embedded", "word"),
    [
        ("2002:7f00:1::", "127.0.0.1", "loopback"),  # 6to4
        ("2002:a9fe:a9fe::1", "169.254.169.254", "link-local"),  # 6to4 of the metadata address
        ("2002:a00:1::", "10.0.0.1", "private"),  # 6to4
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1", "loopback"),  # Teredo client
        ("64:ff9b::7f00:1", "127.0.0.1", "loopback"),  # NAT64
        ("64:ff9b::a9fe:a9fe", "169.254.169.254", "link-local"),  # NAT64
        ("::ffff:a00:1", "10.0.0.1", "private"),  # IPv4-mapped
        ("::a00:1", "10.0.0.1", "private"),  # IPv4-compatible (deprecated)
    ],
)
def test_ipv6_forms_are_judged_by_the_ipv4_address_they_embed(address: str, embedded: str, word: str) -> None:
    """Issue 16.10: ``ipaddress.is_global`` counts 2002::/16 as global, so the 6to4 form of
    127.0.0.1 passed; every form that reaches an IPv4 address is judged by that address."""
    with pytest.raises(guard.UnsafeTarget) as refused:
        guard.check_url("https://hooks.example.com/", allow_private=False, resolve=resolver(address))
    assert embedded in str(refused.value) and word in str(refused.value)


def test_nat64_and_6to4_forms_of_public_addresses_pass() -> None:
    for address in ("64:ff9b::5db8:d822", "2002:5db8:d822::1"):  # 93.184.216.34
        target = guard.check_url("https://hooks.example.com/", allow_private=False, resolve=resolver(address))
        assert target.addresses == (ipaddress.ip_address(address),)


def test_delivery_checks_the_address_the_name_resolves_to_at_delivery_time() -> None:
    """Rebinding: the name was public when the webhook was made and now resolves to 6to4 loopback;
    the delivery refuses before connecting."""
    from qumulus.notifications import webhook

    with pytest.raises(webhook.DeliveryFailed, match=r"127\.0\.0\.1"):
        webhook.deliver(
            "https://hooks.example.com/",
            "secret",
            b"{}",
            event="job.completed",
            delivery_id="d1",
            allow_private=False,
            resolve=resolver("2002:7f00:1::"),
            timeout=1.0,
        )
