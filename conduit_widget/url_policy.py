"""Which media URLs may reach the browser, which ones the kernel may fetch, and which it should fetch for it.

The browser's rule, the same as ``js/url-policy.ts`` (checked again there): ``https:``; ``http:`` only on loopback;
``data:image/png|jpeg|webp|gif`` in base64. Everything else (``javascript:``, ``data:text/html``, SVG, ``file:``,
plain ``http:`` to another machine), credentials in the URL, control characters inside it, and link-local or cloud
metadata addresses however they are spelled (``169.254.169.254``, ``2852039166``, ``0xa9.0376.43518``,
``[::ffff:a9fe:a9fe]``, ``metadata.google.internal``) are refused with a reason the widget shows.

The kernel's rule (`check_fetch_url`) adds where it stands: it is inside a network a server may not see into. A
result on a private or loopback host is fetched only when the Conduit itself is on such a host (a local Conduit,
a gateway and its storage on one private network), so that a Conduit on the internet cannot point the kernel at
the user's own network. Every redirect hop is checked the same way by the one who follows it.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final
from urllib.parse import urlsplit

# As js/url-policy.ts writes it; tests/shared/url_policy_cases.json holds the two to the same verdicts.
_DATA_IMAGE: Final = re.compile(r"data:image/(png|jpeg|webp|gif);base64,[A-Za-z0-9+/]*={0,2}", re.IGNORECASE)
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
# Cloud metadata services that are not link-local (those are refused as link-local): AWS's IPv6 one, Alibaba's,
# Azure's wire server, and the names GCP gives its own.
_METADATA_ADDRESSES: Final = frozenset(
    ipaddress.ip_address(a) for a in ("fd00:ec2::254", "100.100.100.200", "168.63.129.16")
)
_METADATA_NAMES: Final = frozenset({"metadata.google.internal", "metadata.goog", "metadata"})
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrl(ValueError):
    """A media URL the widget will not hand to the browser, or the kernel will not fetch."""


def _ipv4_number(part: str) -> int | None:
    """One part of a WHATWG IPv4 host: decimal, 0x-hex or 0-octal; None if it is none of those."""
    if part[:2].lower() == "0x":
        digits, base = part[2:], 16
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if digits == "":
        return 0 if base == 16 else None
    try:
        return int(digits, base) if digits.isascii() and digits.isalnum() else None
    except ValueError:
        return None


def host_address(host: str) -> Address | None:
    """The address a browser reads `host` as (the WHATWG URL standard's IPv4 forms included: ``2852039166`` and
    ``0xa9.254.43518`` are 169.254.169.254); None for a name. Raises UnsafeUrl for a host no browser accepts."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    last = parts[-1]
    ends_in_number = last.isascii() and (
        last.isdigit() or (last[:2].lower() == "0x" and _ipv4_number(last) is not None)
    )
    if not ends_in_number:
        return None
    numbers = [_ipv4_number(p) for p in parts]
    if len(parts) > 4 or any(n is None for n in numbers):
        raise UnsafeUrl("the media URL's host is not a valid address")
    *front, tail = [n for n in numbers if n is not None]
    if any(n > 255 for n in front) or tail >= 256 ** (5 - len(parts)):
        raise UnsafeUrl("the media URL's host is not a valid address")
    value = tail + sum(n << (8 * (3 - i)) for i, n in enumerate(front))
    return ipaddress.IPv4Address(value)


def _unmapped(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        address = host_address(host)
    except UnsafeUrl:
        return False
    # 127/8 and ::1 only: a browser does not take [::ffff:127.0.0.1] for this machine, so neither does the policy.
    if isinstance(address, ipaddress.IPv6Address):
        return address == ipaddress.IPv6Address(1)
    return address is not None and address.is_loopback


def is_private(host: str | None) -> bool:
    """Loopback, private, link-local or a single-label name: places a remote browser probably cannot reach."""
    if not host:
        return False
    name = host.lower().rstrip(".")
    if is_loopback(host) or name.endswith((".local", ".internal", ".lan")) or "." not in name.strip("[]"):
        return True
    try:
        address = host_address(host)
    except UnsafeUrl:
        return False
    return address is not None and (_unmapped(address).is_private or _unmapped(address).is_link_local)


def _forbidden_host(host: str) -> str | None:
    """Why no one may load from `host`, or None."""
    if host.lower().rstrip(".") in _METADATA_NAMES:
        return f"{host} is a cloud metadata service"
    address = host_address(host)
    if address is None:
        return None
    address = _unmapped(address)
    if address in _METADATA_ADDRESSES:
        return f"{host} is a cloud metadata service"
    if address.is_link_local:
        return f"{host} is a link-local address (where cloud metadata services answer)"
    if address.is_unspecified or address.is_multicast:
        return f"{host} is not an address media can come from"
    return None


def check_media_url(url: str) -> str:
    """The URL, if the browser may load it; raises UnsafeUrl naming what is wrong otherwise."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeUrl("the media URL is empty")
    text = url.strip()
    if _CONTROL.search(text):
        raise UnsafeUrl("the media URL has control characters (a tab, a newline) inside it")
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    if scheme == "data":
        if _DATA_IMAGE.fullmatch(text):
            return text
        raise UnsafeUrl("only base64 PNG, JPEG, WebP and GIF data URLs are shown (not HTML, SVG or others)")
    if scheme not in ("http", "https"):
        raise UnsafeUrl(f"the {scheme or 'relative'} URL scheme is not allowed for media")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        username, password = parts.username, parts.password
    except ValueError:  # "https://[bad": a URL that does not parse is not shown, and must not stop the widget
        raise UnsafeUrl("the media URL is malformed") from None
    if not host:
        raise UnsafeUrl("the media URL has no host")
    if username or password:
        raise UnsafeUrl("media URLs with credentials in them are not shown")
    forbidden = _forbidden_host(host)
    if forbidden:
        raise UnsafeUrl(f"media are never loaded from {forbidden}")
    if scheme == "http" and not is_loopback(host):
        raise UnsafeUrl(f"plain http to {host} is not shown: only https, or http on this machine")
    return text


def check_fetch_url(url: str, conduit_url: str) -> str:
    """The URL, if the kernel may fetch it for a result of the Conduit at `conduit_url`; UnsafeUrl otherwise."""
    text = check_media_url(url)
    if text.lower().startswith("data:"):
        return text
    host = urlsplit(text).hostname
    conduit_host = urlsplit(conduit_url).hostname
    if is_loopback(host) and not is_loopback(conduit_host):
        raise UnsafeUrl(f"{host} is this machine, and the Conduit at {conduit_host} is not: not fetched")
    if is_private(host) and not is_private(conduit_host):
        raise UnsafeUrl(f"{host} is a private address, and the Conduit at {conduit_host} is not: not fetched")
    return text


def should_embed(url: str, setting: bool | str) -> bool:
    """Whether the kernel should fetch the media and send the bytes: ``embed_media`` is True, False or "auto"
    (embed when the browser may not reach the URL: loopback or private hosts)."""
    if setting is True or setting is False:
        return setting
    try:
        return is_private(urlsplit(url).hostname)
    except ValueError:
        return False  # a URL that does not parse is not shown, so not fetched for showing either
