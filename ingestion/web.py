"""Read a website for a chatbot: fetch its pages safely and politely, keep their main content.

A library like the rest of `ingestion`: no HTTP routes, no tables. `Crawler` walks one site (the
scheme, host and port of the first page) from a page URL, following links breadth-first, or from
a sitemap (a sitemap index too), taking only the pages it lists. It asks robots.txt first,
stays within `WebLimits`, and yields one `Page` per URL it tried: the page's main content as
Markdown (navigation, headers, footers and other boilerplate left out) with its <title>, or the
reason it was left out. A page is read by the function that reads an uploaded HTML file,
`ingestion.markup.html_markdown`, told to keep the main content only.

Server-side request forgery: every connection is opened by `_GuardedBackend`, which resolves the
host, refuses it when any of its addresses is not a public one (loopback, private, link-local,
multicast, reserved, ...) and connects to the very address it checked, so a name that resolves
differently a second time (DNS rebinding) gains nothing. Redirects are followed by hand, each hop
a new checked connection. `WebLimits.allow_private` turns the check off (tests on loopback).
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
import ssl
import time
import urllib.robotparser
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urldefrag, urljoin, urlsplit, urlunsplit

import certifi
import httpcore
import lxml.etree
import lxml.html

from ingestion.errors import InvalidDocument
from ingestion.markup import html_markdown

USER_AGENT = "RAGChatbotCrawler/1.0"
MAX_URL_CHARS = 2048
MAX_SITEMAPS = 20  # sitemap files read per crawl, index files included
MAX_ROBOTS_BYTES = 512 * 1024  # what Google reads of a robots.txt
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Links to these are files, not pages: not even fetched
_FILE_EXTENSIONS = frozenset(
    ".pdf .doc .docx .xls .xlsx .ppt .pptx .odt .ods .zip .gz .tgz .bz2 .xz .7z .rar .tar .exe "
    ".dmg .iso .apk .bin .jpg .jpeg .png .gif .webp .svg .ico .bmp .tif .tiff .mp3 .mp4 .m4a "
    ".wav .ogg .avi .mov .mkv .webm .css .js .json .woff .woff2 .ttf .eot .csv .rss .atom".split()
)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_XML_TYPES = ("application/xml", "text/xml")
# characters kept as they are in a path or query; the rest is percent-encoded (existing escapes
# included, so an encoded URL stays the same)
_URL_SAFE = "/%:@!$&'()*+,;=-._~"
_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_.:-]+)", re.I)


class UnsafeURL(InvalidDocument):
    """A URL the crawler will not fetch: not http(s), with credentials, or not a public address."""


class FetchFailed(InvalidDocument):
    """A page that could not be fetched; `transient` when trying again later may work."""

    def __init__(self, message: str, *, status: int | None = None, transient: bool = False):
        super().__init__(message)
        self.status = status
        self.transient = transient


@dataclass(frozen=True)
class WebLimits:
    max_pages: int = 50
    max_depth: int = 3  # link hops from the first page
    max_page_bytes: int = 1024 * 1024
    allow_private: bool = False
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    page_seconds: float = 20.0  # one fetch, redirects included, however slowly the bytes come
    crawl_seconds: float = 600.0  # the whole crawl, delays included: then it stops where it is
    max_redirects: int = 5
    max_crawl_delay: float = 5.0  # robots.txt's Crawl-delay is honoured up to this


@dataclass(frozen=True)
class Page:
    url: str
    outcome: str  # "ok", "failed" or "skipped"
    title: str = ""
    text: str = ""  # the main content, as Markdown
    reason: str | None = None
    status: int | None = None
    transient: bool = False  # failed in a way that may pass (a timeout, a 5xx)


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    content_type: str
    body: bytes


def _address_problem(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return _address_problem(str(embedded))
    for refused, what in (
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (not ip.is_global, "not a public address"),
    ):
        if refused:
            return what
    return None


def resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The host's addresses, every one of them public unless `allow_private`; UnsafeURL if not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        raise FetchFailed(f"The host {host} could not be found.", transient=True) from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private:
        for address in addresses:
            problem = _address_problem(address)
            if problem:
                raise UnsafeURL(
                    f"{host} resolves to {address}, {problem}: only public web sites can be "
                    "added as sources."
                )
    return addresses


def check_url(url: str, *, allow_private: bool, resolve_host: bool = True) -> str:
    """The URL without its fragment, or UnsafeURL saying why it is refused."""
    url = urldefrag(url.strip())[0]
    if any(ord(c) < 33 or c == "\x7f" for c in url):
        raise UnsafeURL("A URL must not contain spaces or control characters.")
    if len(url) > MAX_URL_CHARS:
        raise UnsafeURL(f"The URL is longer than {MAX_URL_CHARS} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"{url!r} is not a valid URL.") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("Only http:// and https:// URLs can be added as sources.")
    if not parts.hostname:
        raise UnsafeURL(f"{url!r} names no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("URLs with a user name or password are refused.")
    try:
        url = normalise(url)
    except ValueError as exc:
        raise UnsafeURL(f"{url!r} is not a valid URL.") from exc
    if resolve_host:
        default = 443 if parts.scheme == "https" else 80
        resolve(urlsplit(url).hostname or "", port or default, allow_private=allow_private)
    return url


class _GuardedBackend(httpcore.SyncBackend):
    """Opens connections only to addresses it checked itself (see the module's docstring), and
    holds every operation on them to the deadline of the fetch in progress (`deadline`): the
    timeouts httpcore passes are per operation, so a server sending one header byte every two
    seconds once held a fetch for 241 s against a 20 s limit."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private
        self.deadline = float("inf")  # time.monotonic() by which the current fetch must end

    def within_deadline(self, timeout: float | None) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the fetch's deadline passed")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(  # type: ignore[override]
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception | None = None
        for address in resolve(host, port, allow_private=self._allow_private):
            try:
                stream = super().connect_tcp(
                    address, port, self.within_deadline(timeout), local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
            else:
                return _DeadlineStream(stream, self)
        assert failure is not None  # getaddrinfo returns at least one address or raises
        raise failure


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake ends by the backend's deadline."""

    def __init__(self, stream: httpcore.NetworkStream, backend: _GuardedBackend) -> None:
        self._stream = stream
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._backend.within_deadline(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._backend.within_deadline(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        secured = self._stream.start_tls(
            ssl_context, server_hostname, self._backend.within_deadline(timeout)
        )
        return _DeadlineStream(secured, self._backend)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class Fetcher:
    """GETs with the limits of `WebLimits`; one connection pool per crawl."""

    def __init__(self, limits: WebLimits) -> None:
        self.limits = limits
        # no fetch runs past this (time.monotonic()): the deadline of the crawl it serves
        self.end_by = float("inf")
        self._backend = _GuardedBackend(limits.allow_private)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            max_connections=2,
            network_backend=self._backend,
        )

    def close(self) -> None:
        self._pool.close()

    def get(self, url: str, *, max_bytes: int | None = None) -> Response:
        """The final response after redirects; FetchFailed, or UnsafeURL for a refused hop."""
        limit = self.limits.max_page_bytes if max_bytes is None else max_bytes
        deadline = min(time.monotonic() + self.limits.page_seconds, self.end_by)
        self._backend.deadline = deadline  # connect, headers and body alike (one fetch at a time)
        visited = [url]
        for _ in range(self.limits.max_redirects + 1):
            url = check_url(url, allow_private=self.limits.allow_private, resolve_host=False)
            response = self._get_once(url, limit, deadline)
            if isinstance(response, Response):
                return response
            try:
                url = urldefrag(urljoin(url, response))[0]
            except ValueError as exc:
                raise FetchFailed(f"The page redirects to an invalid URL ({response!r}).") from exc
            if url in visited:
                raise FetchFailed("The page redirects in a loop.")
            visited.append(url)
        raise FetchFailed(f"The page redirects more than {self.limits.max_redirects} times.")

    def _get_once(self, url: str, limit: int, deadline: float) -> Response | str:
        """The response, or the Location a redirect points to."""
        limits = self.limits
        timeouts = {
            "connect": limits.connect_timeout,
            "read": limits.read_timeout,
            "write": limits.read_timeout,
            "pool": limits.connect_timeout,
        }
        headers: dict[bytes | str, bytes | str] = {
            "User-Agent": USER_AGENT,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.1",
            "Accept-Encoding": "identity",
        }
        try:
            with self._pool.stream(
                "GET", url, headers=headers, extensions={"timeout": timeouts}
            ) as response:
                header = {
                    k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers
                }
                if response.status in _REDIRECTS:
                    location = header.get("location")
                    if not location:
                        raise FetchFailed(f"HTTP {response.status} without a Location.")
                    return location
                declared = header.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise _too_large(limit)
                body = bytearray()
                for piece in response.iter_stream():
                    body += piece
                    if len(body) > limit:
                        raise _too_large(limit)
                    if time.monotonic() > deadline:
                        raise FetchFailed(
                            f"The page took longer than {limits.page_seconds:g} s to arrive.",
                            transient=True,
                        )
        except httpcore.TimeoutException as exc:
            raise FetchFailed("The site did not answer in time.", transient=True) from exc
        except (httpcore.NetworkError, httpcore.ProtocolError) as exc:
            raise FetchFailed(f"The site could not be reached ({exc}).", transient=True) from exc
        except httpcore.UnsupportedProtocol as exc:
            raise UnsafeURL(str(exc)) from exc
        return Response(url, response.status, header.get("content-type", ""), bytes(body))


def _too_large(limit: int) -> FetchFailed:
    return FetchFailed(f"The page is larger than {limit // 1024:,} KB; it was not read.")


def site_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{parts.port or _port(parts.scheme)}"


def _port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def normalise(url: str) -> str:
    """One spelling per page, in ASCII as HTTP needs it: without fragment and default port,
    scheme and host in lower case, an international host name in IDNA, other characters of the
    path and query percent-encoded. ValueError for what is no URL."""
    parts = urlsplit(urldefrag(url)[0])
    host = (parts.hostname or "").lower()
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"{host!r} is not a valid host name") from exc
    if ":" in host:
        host = f"[{host}]"
    if parts.port and parts.port != _port(parts.scheme):
        host = f"{host}:{parts.port}"
    path = quote(parts.path or "/", safe=_URL_SAFE)
    query = quote(parts.query, safe=_URL_SAFE + "?")
    return urlunsplit((parts.scheme.lower(), host, path, query, ""))


def _decode(body: bytes, content_type: str) -> str:
    charset = None
    if "charset=" in content_type:
        charset = content_type.split("charset=", 1)[1].split(";")[0].strip(" \"'")
    elif match := _META_CHARSET.search(body[:4096]):
        charset = match.group(1).decode("ascii")
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def _is_sitemap(response: Response) -> bool:
    head = response.body[:512].lstrip()
    if any(t in response.content_type for t in _HTML_TYPES):
        return False
    return any(t in response.content_type for t in _XML_TYPES) or head.startswith(b"<?xml")


def sitemap_entries(body: bytes) -> tuple[list[str], list[str]]:
    """(pages, sitemaps) a sitemap lists; a sitemap index lists sitemaps."""
    parser = lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = lxml.etree.fromstring(body, parser=parser)
    except lxml.etree.XMLSyntaxError as exc:
        raise FetchFailed("The sitemap is not valid XML.") from exc
    kind = lxml.etree.QName(root).localname
    locs = [
        (element.text or "").strip()
        for element in root.iter()
        if isinstance(element.tag, str) and lxml.etree.QName(element).localname == "loc"
    ]
    locs = [loc for loc in locs if loc]
    if kind == "sitemapindex":
        return [], locs
    if kind == "urlset":
        return locs, []
    raise FetchFailed("The XML document is not a sitemap (<urlset> or <sitemapindex>).")


def read_page(response: Response) -> tuple[str, str, list[str], bool]:
    """(title, main content as Markdown, links, whether robots meta forbids indexing) of a page.

    Links are absolute, without fragments; `nofollow` in the robots meta leaves them out.
    """
    html = _decode(response.body, response.content_type)
    try:
        tree = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return "", "", [], False
    title = " ".join((tree.findtext(".//title") or "").split())
    robots = " ".join(
        (meta.get("content") or "").lower()
        for meta in tree.iterfind(".//meta")
        if (meta.get("name") or "").lower() in ("robots", USER_AGENT.split("/")[0].lower())
    )
    base = tree.find(".//base")
    base_url = response.url
    if base is not None:
        with contextlib.suppress(ValueError):
            base_url = urljoin(response.url, base.get("href", ""))
    links = []
    if "nofollow" not in robots and "none" not in robots:
        for anchor in tree.iterfind(".//a"):
            href = (anchor.get("href") or "").strip()
            if href and "nofollow" not in (anchor.get("rel") or "").lower():
                with contextlib.suppress(ValueError):  # not a URL ("http://[oops/")
                    links.append(urldefrag(urljoin(base_url, href))[0])
    noindex = "noindex" in robots or "none" in robots
    text = html_markdown(html, base_url=response.url, main_content=True)
    return title, text.strip(), links, noindex


def _robots_for(fetcher: Fetcher, site_url: str) -> urllib.robotparser.RobotFileParser:
    """The site's robots.txt as RFC 9309 reads it: missing (4xx) allows all, a server error
    forbids all. A site that cannot be reached at all fails the crawl (FetchFailed)."""
    robots_url = urljoin(site_url, "/robots.txt")
    robots = urllib.robotparser.RobotFileParser(robots_url)
    response = fetcher.get(robots_url, max_bytes=MAX_ROBOTS_BYTES)
    if response.status >= 500:
        robots.parse(["User-agent: *", "Disallow: /"])
    elif response.status >= 400:
        robots.parse([])
    else:
        robots.parse(_decode(response.body, response.content_type).splitlines())
    return robots


class _Frontier:
    """The URLs a crawl means to read, each queued once: of the crawled site, allowed by its
    robots.txt, not a file download, and within the plan's pages. Sitemaps are queued too
    (at most MAX_SITEMAPS); their pages are taken as they are, their links not followed: a
    sitemap is the site's own list of its pages."""

    def __init__(
        self, start_url: str, robots: urllib.robotparser.RobotFileParser, limits: WebLimits
    ) -> None:
        self.site = site_of(start_url)
        self.robots = robots
        self.limits = limits
        # (url, depth, whether it is a sitemap)
        self.queue: deque[tuple[str, int, bool]] = deque([(start_url, 0, False)])
        self.seen = {start_url}
        self.found = 1  # page URLs queued so far, the start included
        self.sitemaps = 0

    def __len__(self) -> int:
        return len(self.queue)

    def add(self, url: str, depth: int, sitemap: bool = False) -> Page | None:
        """Queues a URL of the site; a Page when it is left out for a reason worth telling."""
        try:
            url = normalise(url)
            if url in self.seen or site_of(url) != self.site or len(url) > MAX_URL_CHARS:
                return None
        except ValueError:  # a link no browser could follow either (a bad port, ...)
            return None
        if not sitemap and (self.found >= self.limits.max_pages or _is_file(url)):
            return None
        self.seen.add(url)
        if not self.robots.can_fetch(USER_AGENT, url):
            return Page(url, "skipped", reason="robots.txt disallows it")
        if sitemap:
            self.sitemaps += 1
            if self.sitemaps > MAX_SITEMAPS:
                return None
        else:
            self.found += 1
        self.queue.append((url, depth, sitemap))
        return None

    def add_all(self, urls: Iterable[str], depth: int) -> Iterator[Page]:
        """Queues pages; yields those left out for a reason worth telling."""
        for url in urls:
            skipped = self.add(url, depth)
            if skipped:
                yield skipped


def _is_file(url: str) -> bool:
    """A link to a download (an image, an archive, ...) rather than a page."""
    name = urlsplit(url).path.rsplit("/", 1)[-1].lower()
    return "." in name and "." + name.rsplit(".", 1)[1] in _FILE_EXTENSIONS


class Crawler:
    """One crawl of one site. `found` counts the page URLs it means to try (at most max_pages)."""

    def __init__(self, start_url: str, limits: WebLimits) -> None:
        self.start_url = normalise(start_url)
        self.limits = limits
        self.stop_reason: str | None = None  # why it ended before reading all it found
        self._frontier: _Frontier | None = None
        self._follow_links = True  # False once the URL given turns out to be a sitemap

    @property
    def found(self) -> int:
        return self._frontier.found if self._frontier else 1

    def pages(self, should_stop: Callable[[], bool] | None = None) -> Generator[Page]:
        fetcher = Fetcher(self.limits)
        fetcher.end_by = time.monotonic() + self.limits.crawl_seconds
        try:
            yield from self._crawl(fetcher, should_stop or (lambda: False))
        finally:
            fetcher.close()

    def _crawl(self, fetcher: Fetcher, should_stop: Callable[[], bool]) -> Iterator[Page]:
        robots = _robots_for(fetcher, self.start_url)
        if not robots.can_fetch(USER_AGENT, self.start_url):
            yield Page(self.start_url, "skipped", reason="robots.txt disallows it")
            return
        frontier = self._frontier = _Frontier(self.start_url, robots, self.limits)
        delay = min(float(robots.crawl_delay(USER_AGENT) or 0), self.limits.max_crawl_delay)
        for sitemap_url in robots.site_maps() or []:
            frontier.add(sitemap_url, 1, sitemap=True)
        tried = 0
        while frontier and not should_stop():
            if tried and delay:
                time.sleep(max(0.0, min(delay, fetcher.end_by - time.monotonic())))
            if time.monotonic() >= fetcher.end_by:
                self.stop_reason = (
                    f"The crawl stopped at its time limit ({self.limits.crawl_seconds:g} s) with "
                    f"{len(frontier)} pages not read yet; recrawl to read them."
                )
                return
            url, depth, is_sitemap = frontier.queue.popleft()
            tried += 1
            yield from self._visit(fetcher, frontier, url, depth, is_sitemap)

    def _visit(
        self, fetcher: Fetcher, frontier: _Frontier, url: str, depth: int, is_sitemap: bool
    ) -> Iterator[Page]:
        """Reads one queued URL: a page's text and links, or a sitemap's entries."""
        try:
            response = _fetch(fetcher, url, frontier.site)
            final = normalise(response.url)
            if final != url and final in frontier.seen:
                yield Page(url, "skipped", reason=f"it redirects to {final}, read already")
                return
            frontier.seen.add(final)
            if _is_sitemap(response):
                if depth == 0 and not is_sitemap:
                    self._follow_links = False  # the URL given was a sitemap, not a page
                    frontier.found -= 1
                pages, nested = sitemap_entries(response.body)
                for nested_url in nested:
                    frontier.add(nested_url, depth, sitemap=True)
                yield from frontier.add_all(pages, depth)
                return
            if is_sitemap:
                raise FetchFailed("The sitemap is not XML.")
            if not any(t in response.content_type for t in _HTML_TYPES):
                kind = response.content_type.split(";")[0] or "unknown"
                yield Page(final, "skipped", reason=f"not an HTML page ({kind})")
                return
            title, text, links, noindex = read_page(response)
        except UnsafeURL as exc:  # a redirect to a refused address fails that page only
            yield Page(url, "failed", reason=str(exc))
            return
        except FetchFailed as exc:
            yield Page(url, "failed", reason=str(exc), status=exc.status, transient=exc.transient)
            return
        if self._follow_links and depth < self.limits.max_depth:
            yield from frontier.add_all(links, depth + 1)
        if noindex:
            yield Page(final, "skipped", reason="the page asks not to be indexed")
        elif not text:
            yield Page(final, "skipped", title=title, reason="no main text found")
        else:
            yield Page(final, "ok", title=title or final, text=text)


def _fetch(fetcher: Fetcher, url: str, site: str) -> Response:
    """The URL's 200 response from the crawled site; FetchFailed for any other."""
    response = fetcher.get(url)
    if site_of(response.url) != site:
        raise FetchFailed(f"It redirects to another site ({response.url}).")
    if response.status != 200:
        raise FetchFailed(
            f"HTTP {response.status}",
            status=response.status,
            transient=response.status >= 500 or response.status == 429,
        )
    return response
