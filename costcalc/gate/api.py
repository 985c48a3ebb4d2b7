"""What the GitHub and GitLab comment clients share: JSON requests over http(s) with urllib,
a timeout on each, pages followed, and every failure sorted into one of two kinds.

- ``Refused``: the API would not let the token read or write there (403, 404; GitLab's job
  token also 401). A fork's read-only token, a token without the permission: the caller
  skips the comment, which is no failure of the check.
- ``EnvironmentFailure`` (exit 3): anything else (5xx, 401, a rate limit, a redirect, no
  network, a timeout, a reply that is not JSON), one line naming the method and the URL.

The token travels only in a header, to the API's own origin: redirects are not followed and a
next page elsewhere is refused, so no other host ever sees it; messages never contain it.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any, NamedTuple

from costcalc.errors import EnvironmentFailure

TIMEOUT_S = 30.0
"""Seconds per network operation (connect, each read) of one request."""
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
"""One page of 100 comments of at most 65,536 characters each is about 7 MB."""
MAX_PAGES = 200
"""A thread of 20,000 comments: past it, a server that always says "next" is broken."""
REFUSED = (403, 404)


class Comment(NamedTuple):
    """A comment (GitHub) or note (GitLab) on a pull or merge request."""

    id: int
    body: str
    author: str
    """The author's login (GitHub) or username (GitLab)."""
    author_type: str
    """GitHub's ``user.type`` (``Bot``, ``User``); GitLab: ``bot`` for a project or group
    token's bot user, else ``user``."""
    author_id: int | None
    url: str | None


class Reply(NamedTuple):
    status: int
    headers: Mapping[str, str]
    data: Any
    url: str


class Refused(Exception):
    """The API refused the token: not allowed there (a fork's token, a missing permission)."""

    def __init__(self, method: str, url: str, status: int, detail: str) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.detail = detail
        super().__init__(f"{method} {url}: HTTP {status}{': ' + detail if detail else ''}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx is raised as an HTTPError: the token is sent nowhere else


def shown_url(url: str) -> str:
    """``url`` as a message shows it: without user and password."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=host))


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), parts.hostname, port


def _one_line(text: str, secret: str | None, limit: int = 200) -> str:
    if secret:
        text = text.replace(secret, "***")
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Client:
    """Requests to one API (``api_url``) with the given headers (the token among them)."""

    def __init__(
        self,
        api_url: str,
        headers: Mapping[str, str],
        *,
        secret: str | None,
        timeout: float = TIMEOUT_S,
        refused: Collection[int] = REFUSED,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.headers = dict(headers)
        self.secret = secret
        self.timeout = timeout
        self.refused = frozenset(refused)
        self._opener = urllib.request.build_opener(_NoRedirect())

    def url(self, path: str, **query: str | int) -> str:
        """The API's URL of ``path`` (``/repos/o/r/issues/1/comments``) with ``query``."""
        url = self.api_url + path
        return url + ("?" + urllib.parse.urlencode(query) if query else "")

    def request(self, method: str, url: str, body: Any = None) -> Reply:
        """Send one request; its JSON reply, or ``Refused`` / ``EnvironmentFailure``."""
        if _origin(url) != _origin(self.api_url):  # a next page elsewhere: not with our token
            raise EnvironmentFailure(
                shown_url(url), f"{method}: not at the API's address {shown_url(self.api_url)}"
            )
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        where = shown_url(url)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read(MAX_RESPONSE_BYTES + 1)
                status = response.status
                reply_headers = {k.lower(): v for k, v in response.headers.items()}
        except urllib.error.HTTPError as exc:
            raise self._http_error(method, where, exc) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            why = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            text = _one_line(str(why) or type(why).__name__, self.secret)
            raise EnvironmentFailure(where, f"{method} failed: {text}") from None
        except ValueError as exc:  # a URL urllib cannot send
            text = _one_line(str(exc), self.secret)
            raise EnvironmentFailure(where, f"{method} failed: {text}") from None
        if len(raw) > MAX_RESPONSE_BYTES:
            raise EnvironmentFailure(where, f"{method}: reply larger than {MAX_RESPONSE_BYTES:,}")
        try:
            parsed = json.loads(raw) if raw.strip() else None
        except (ValueError, RecursionError):
            raise EnvironmentFailure(where, f"{method}: HTTP {status}, reply is not JSON") from None
        return Reply(status, reply_headers, parsed, url)

    def _http_error(
        self, method: str, where: str, exc: urllib.error.HTTPError
    ) -> Refused | EnvironmentFailure:
        detail = ""
        try:
            data = json.loads(exc.read(64 * 1024) or b"null")
            if isinstance(data, dict):
                found = data.get("message") or data.get("error")
                detail = found if isinstance(found, str) else json.dumps(found)
        except Exception:  # the reason phrase is enough
            pass
        detail = _one_line(detail or str(exc.reason or ""), self.secret)
        headers = {k.lower(): v for k, v in exc.headers.items()} if exc.headers else {}
        rate_limited = exc.code == 429 or (
            exc.code == 403
            and (headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers)
        )
        if exc.code in self.refused and not rate_limited:
            return Refused(method, where, exc.code, detail)
        reason = f"{method} failed: HTTP {exc.code}" + (f" {detail}" if detail else "")
        if 300 <= exc.code < 400:
            reason += " (redirects are not followed: the token goes to the API alone)"
        return EnvironmentFailure(where, reason)

    def pages(self, url: str, next_page: Callable[[Reply], str | None]) -> Iterator[Any]:
        """Each item of the JSON list at ``url`` and at each next page ``next_page`` gives."""
        seen: set[str] = set()
        current: str | None = url
        while current is not None:
            if current in seen or len(seen) >= MAX_PAGES:
                raise EnvironmentFailure(
                    shown_url(current), f"GET: pages do not end (after {len(seen)} pages)"
                )
            seen.add(current)
            reply = self.request("GET", current)
            if not isinstance(reply.data, list):
                raise EnvironmentFailure(shown_url(current), "GET: expected a JSON list")
            yield from reply.data
            current = next_page(reply)
