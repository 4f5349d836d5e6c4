"""Which media URLs may reach the browser, and which ones the kernel should fetch for it.

The same rules as ``js/url-policy.ts``, checked again there: ``https:``; ``http:`` only on loopback;
``data:image/png|jpeg|webp|gif`` in base64. Everything else (``javascript:``, ``data:text/html``, SVG, ``file:``,
plain ``http:`` to another machine) is refused with a reason the widget shows.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final
from urllib.parse import urlsplit

# As js/url-policy.ts writes it; tests/shared/url_policy_cases.json holds the two to the same verdicts.
_DATA_IMAGE: Final = re.compile(r"data:image/(png|jpeg|webp|gif);base64,[A-Za-z0-9+/]*={0,2}", re.IGNORECASE)


class UnsafeUrl(ValueError):
    """A media URL the widget will not hand to the browser."""


def _host_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    address = _host_address(host)
    return address is not None and address.is_loopback


def is_private(host: str | None) -> bool:
    """Loopback, private, link-local or a single-label name: places a remote browser probably cannot reach."""
    if not host:
        return False
    if is_loopback(host) or host.lower().endswith((".local", ".internal", ".lan")) or "." not in host.strip("[]"):
        return True
    address = _host_address(host)
    return address is not None and (address.is_private or address.is_link_local)


def check_media_url(url: str) -> str:
    """The URL, if the browser may load it; raises UnsafeUrl naming what is wrong otherwise."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeUrl("the media URL is empty")
    text = url.strip()
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
    except ValueError:  # "https://[bad": a URL that does not parse is not shown, and must not stop the widget
        raise UnsafeUrl("the media URL is malformed") from None
    if not host:
        raise UnsafeUrl("the media URL has no host")
    if parts.username or parts.password:
        raise UnsafeUrl("media URLs with credentials in them are not shown")
    if scheme == "http" and not is_loopback(host):
        raise UnsafeUrl(f"plain http to {host} is not shown: only https, or http on this machine")
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
