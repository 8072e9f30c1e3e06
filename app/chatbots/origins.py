"""Where a chatbot's widget key works: the websites in its `allowed_origins`.

Widget keys are publishable: they sit in customers' pages next to the chatbot id. What keeps them
from working everywhere is the browser's `Origin`, checked against that list. The API's own pages
(the preview page and the iframe variant) are not in any list: the page carries a short-lived
visitor token for its one chatbot, minted when the page is served, and the widget sends it along
(`visitor_allowed`). The widget key alone never works from the API's own origin.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from app.chatbots.models import Chatbot
from app.core.config import Settings
from app.core.security import visitor_token_chatbot

DEFAULT_PORTS = {"http": 80, "https": 443}
# a DNS name as a browser puts it in `Origin` (internationalised names in their xn-- form)
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*")


def origin_of(url: str | None) -> str | None:
    """`scheme://host[:port]` of a URL or Origin header, as a browser sends it in `Origin`:
    lower-cased, without user info or a default port; None when it has none."""
    if not url:
        return None
    url = url.strip()
    if any(c.isspace() or not c.isprintable() for c in url):
        return None  # an origin has none; in a CSP header they would start a new source
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        return None
    host = _host(parts.hostname)
    if host is None:
        return None
    shown = f":{port}" if port is not None and port != DEFAULT_PORTS[parts.scheme] else ""
    return f"{parts.scheme}://{host}{shown}"


def _host(hostname: str) -> str | None:
    """The host as it appears in an origin (an IPv6 address in brackets), or None when it is
    neither an IP address nor a DNS name: `a.com;script-src` is no host."""
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        pass
    else:
        return f"[{address.compressed}]" if address.version == 6 else address.compressed
    try:
        name = hostname.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return name if _DNS_NAME.fullmatch(name) else None


def website_origin(address: str) -> str | None:
    """The origin of a website address as people type it: `shop.example.com/page` is taken
    as https."""
    address = address.strip()
    return origin_of(address if "://" in address else f"https://{address}")


def origin_allowed(chatbot: Chatbot, origin: str | None) -> bool:
    """Whether a page on `origin` is one of the chatbot's websites."""
    origin = origin_of(origin)
    return origin is not None and origin in (chatbot.allowed_origins or [])


def visitor_allowed(
    chatbot: Chatbot, origin: str | None, visitor_token: str | None, settings: Settings
) -> bool:
    """Whether a page may use this chatbot's widget key: a page on one of its websites, or one of
    the API's own pages for this chatbot, holding the visitor token it was served with."""
    if origin_allowed(chatbot, origin):
        return True
    if not visitor_token or origin_of(origin) != origin_of(settings.public_base_url):
        return False
    return visitor_token_chatbot(visitor_token, secret=settings.secret_key) == chatbot.id


def previewing(
    chatbot: Chatbot, origin: str | None, visitor_token: str | None, settings: Settings
) -> bool:
    """Whether the page is the API's preview page for this chatbot (not its iframe variant,
    which customers' websites frame): the preview works before the chatbot is published."""
    if not visitor_token or origin_of(origin) != origin_of(settings.public_base_url):
        return False
    found = visitor_token_chatbot(visitor_token, secret=settings.secret_key, preview=True)
    return found == chatbot.id
