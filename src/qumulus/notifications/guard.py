"""Which webhook targets are allowed: public addresses only, unless explicitly configured otherwise.

A webhook makes the server send requests on a user's behalf, so a URL that points at the server's
own network (loopback, private ranges, link-local such as cloud metadata at 169.254.169.254,
reserved ranges) would let any project admin probe it. The host is resolved and *every* address
it resolves to must be public; the check runs when the webhook is created and again before each
delivery, and the delivery connects to the address that was checked (a DNS answer that changes in
between, "DNS rebinding", gains nothing).

Pure apart from the resolver, which is injected (tests pass their own).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]


class UnsafeTarget(ValueError):
    """The URL may not be used as a webhook; the message says why."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    #: Every address the host resolved to, all of them allowed.
    addresses: tuple[Address, ...]


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


#: NAT64's well-known prefix (RFC 6052): the last 32 bits are the IPv4 address the translator reaches.
NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
#: The deprecated IPv4-compatible form ``::a.b.c.d`` (RFC 4291 2.5.5.1); ``::`` and ``::1`` excluded.
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def embedded_ipv4(address: Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries and would reach through a translator or tunnel:
    IPv4-mapped (``::ffff:a.b.c.d``), 6to4 (``2002:AABB:CCDD::/48``), Teredo (server and client),
    NAT64 (``64:ff9b::a.b.c.d``) and IPv4-compatible (``::a.b.c.d``). ``ipaddress.is_global`` judges
    the IPv6 prefix alone (6to4 counts as global), so ``2002:7f00:1::`` would otherwise pass."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found: list[tuple[str, ipaddress.IPv4Address]] = []
    if address.ipv4_mapped is not None:
        found.append(("IPv4-mapped", address.ipv4_mapped))
    if address.sixtofour is not None:
        found.append(("6to4", address.sixtofour))
    if address.teredo is not None:
        server, client = address.teredo
        found += [("Teredo server", server), ("Teredo client", client)]
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in NAT64_WELL_KNOWN:
        found.append(("NAT64", low32))
    elif address in IPV4_COMPATIBLE and int(address) > 1:
        found.append(("IPv4-compatible", low32))
    return found


def _plain_problem(address: Address) -> str | None:
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("not globally routable", not address.is_global),
    )
    for name, hit in checks:
        if hit:
            return name
    return None


def address_problem(address: Address) -> str | None:
    """Why ``address`` is not a public unicast address, or None if it is.

    An IPv6 address that embeds an IPv4 address is judged by what it embeds first: a 6to4, Teredo,
    NAT64, mapped or compatible form of 127.0.0.1, 10.0.0.1 or 169.254.169.254 is refused as what
    it reaches. A NAT64 address of a public IPv4 address is allowed (DNS64 on an IPv6-only network
    answers such addresses for every public host), although Python counts 64:ff9b::/96 as reserved.
    """
    embedded = embedded_ipv4(address)
    for form, inner in embedded:
        problem = _plain_problem(inner)
        if problem is not None:
            return f"{form} address of {inner}, a {problem}"
    if any(form in ("NAT64", "IPv4-mapped") for form, _ in embedded):
        return None  # judged by the IPv4 address it reaches, which passed
    return _plain_problem(address)


def check_host_name(host: str) -> None:
    """A DNS name's shape (RFC 1035: labels of 1 to 63 octets, at most 253 in all, after IDNA),
    checked before any lookup: the resolver's own refusal is an encoding error, not an answer."""
    try:
        ascii_name = host.encode("idna")
    except UnicodeError:
        raise UnsafeTarget(
            f"host {host[:80]!r} is not a valid host name (each label 1 to 63 characters)"
        ) from None
    labels = ascii_name.rstrip(b".").split(b".")
    if len(ascii_name) > 253 or any(not 1 <= len(label) <= 63 for label in labels):
        raise UnsafeTarget(f"host {host[:80]!r} is not a valid host name (each label 1 to 63 characters)")


def check_url(url: str, *, allow_private: bool, resolve: Resolver = system_resolver) -> Target:
    """Parse, resolve and check a webhook URL; raise :class:`UnsafeTarget` naming the problem."""
    if not isinstance(url, str) or len(url) > 2000:
        raise UnsafeTarget("must be an http or https URL of at most 2000 characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeTarget(f"must use http or https, not {parts.scheme or 'no scheme'!r}")
    host = parts.hostname
    if not host:
        raise UnsafeTarget("has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("must not carry a user name or password; use the signature to authenticate")
    port = port or (443 if scheme == "https" else 80)
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        raw = [str(literal)]
    else:
        check_host_name(host)
        try:
            raw = list(resolve(host, port))
        except (OSError, UnicodeError) as exc:
            raise UnsafeTarget(f"host {host!r} does not resolve ({exc})") from None
    if not raw:
        raise UnsafeTarget(f"host {host!r} does not resolve")
    addresses = tuple(ipaddress.ip_address(a.split("%", 1)[0]) for a in raw)
    if not allow_private:
        for address in addresses:
            problem = address_problem(address)
            if problem is not None:
                raise UnsafeTarget(
                    f"host {host!r} resolves to {address}, a {problem} address; webhooks may only "
                    "target public addresses (QUMULUS_WEBHOOK_ALLOW_PRIVATE=1 allows others)"
                )
    return Target(url=url, scheme=scheme, host=host, port=port, addresses=addresses)


def pinned_url(target: Target, address: Address) -> str:
    """``target.url`` with its host replaced by ``address`` (the Host header keeps the name)."""
    parts = urlsplit(target.url)
    host = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
    netloc = f"{host}:{target.port}"
    return parts._replace(netloc=netloc).geturl()
