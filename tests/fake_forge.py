"""A fake GitHub and GitLab REST API on 127.0.0.1 (port 0, a thread): the comment and note
endpoints ``costcalc.gate`` uses, with pagination, token checks and failures on demand. It
records every request, so a test asserts exactly what was sent. Nothing leaves the machine."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "ghs_s3cr3t-token-value"

_GH_LIST = re.compile(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments")
_GH_EDIT = re.compile(r"/repos/([^/]+/[^/]+)/issues/comments/(\d+)")
_GL_LIST = re.compile(r"/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes")
_GL_EDIT = re.compile(r"/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes/(\d+)")


@dataclass
class Sent:
    """One request the fake API received."""

    method: str
    path: str
    """Path and query, as sent."""
    headers: dict[str, str]
    """Lower-cased names."""
    body: Any

    @property
    def line(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Failure:
    method: str
    path: str
    """A regular expression searched in the path."""
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeForge:
    url: str = ""
    token: str = TOKEN
    page_size: int = 100
    """At most this many comments a page, whatever per_page asks."""
    prefix: str = ""
    """Where the GitHub API lives under the server (``/api/v3`` for GitHub Enterprise)."""
    github: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    """Pull request number -> its comments (GitHub's JSON)."""
    gitlab: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    """Merge request iid -> its notes (GitLab's JSON)."""
    gitlab_user: dict[str, Any] | None = None
    """What ``GET /api/v4/user`` answers; None: 403, as to a job token."""
    bot: dict[str, Any] = field(
        default_factory=lambda: {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}
    )
    """The GitHub user the token writes as."""
    gitlab_author: dict[str, Any] = field(
        default_factory=lambda: {"id": 77, "username": "project_5_bot_0a1b2c"}
    )
    failures: list[Failure] = field(default_factory=list)
    delay: float = 0.0
    sent: list[Sent] = field(default_factory=list)
    _next_id: int = 1000
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- what tests set up and read -------------------------------------------------------

    def fail(self, method: str, path: str, status: int, body: Any = None, **headers: str) -> None:
        self.failures.append(Failure(method, path, status, body, headers))

    def lines(self) -> list[str]:
        return [s.line for s in self.sent]

    def github_comment(
        self, body: str, login: str = "github-actions[bot]", kind: str = "Bot"
    ) -> dict[str, Any]:
        self._next_id += 1
        comment = {
            "id": self._next_id,
            "body": body,
            "user": {"login": login, "id": 9, "type": kind},
            "html_url": f"https://github.example/o/r/pull/1#issuecomment-{self._next_id}",
        }
        return comment

    def gitlab_note(
        self, body: str, author: dict[str, Any] | None = None, system: bool = False
    ) -> dict[str, Any]:
        self._next_id += 1
        return {
            "id": self._next_id,
            "body": body,
            "author": author or dict(self.gitlab_author),
            "system": system,
        }

    # --- the API --------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        parts = urllib.parse.urlsplit(path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        route = parts.path
        for failure in self.failures:
            if failure.method == method and re.search(failure.path, path):
                return failure.status, failure.body, failure.headers
        if route.startswith("/api/v4/"):
            token = headers.get("private-token") or headers.get("job-token")
            if token != self.token:
                return 401, {"message": "401 Unauthorized"}, {}
            return self._gitlab(method, route, query, body)
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials"}, {}
        if not route.startswith(self.prefix):
            return 404, {"message": "Not Found"}, {}
        return self._github(method, route[len(self.prefix) :], query, body)

    def _page(
        self, items: list[dict[str, Any]], query: dict[str, str]
    ) -> tuple[list[dict[str, Any]], int | None]:
        size = min(int(query.get("per_page", 20)), self.page_size)
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * size : page * size]
        return chunk, page + 1 if page * size < len(items) else None

    def _github(
        self, method: str, route: str, query: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if match := _GH_LIST.fullmatch(route):
            comments = self.github.setdefault(int(match.group(2)), [])
            if method == "GET":
                chunk, next_page = self._page(comments, query)
                headers = {}
                if next_page:
                    link = dict(query, page=str(next_page))
                    base = f"{self.url}{self.prefix}{route}?{urllib.parse.urlencode(link)}"
                    last = dict(query, page="99")
                    headers["Link"] = (
                        f'<{base}>; rel="next", '
                        f'<{self.url}{self.prefix}{route}?{urllib.parse.urlencode(last)}>; rel="last"'
                    )
                return 200, chunk, headers
            if method == "POST":
                comment = self.github_comment(body["body"], self.bot["login"], self.bot["type"])
                comments.append(comment)
                return 201, comment, {}
        if (match := _GH_EDIT.fullmatch(route)) and method == "PATCH":
            for comments in self.github.values():
                for comment in comments:
                    if comment["id"] == int(match.group(2)):
                        comment["body"] = body["body"]
                        return 200, comment, {}
            return 404, {"message": "Not Found"}, {}
        return 404, {"message": "Not Found"}, {}

    def _gitlab(
        self, method: str, route: str, query: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if route == "/api/v4/user" and method == "GET":
            if self.gitlab_user is None:
                return 403, {"message": "403 Forbidden"}, {}
            return 200, self.gitlab_user, {}
        if match := _GL_LIST.fullmatch(route):
            notes = self.gitlab.setdefault(int(match.group(2)), [])
            if method == "GET":
                chunk, next_page = self._page(notes, query)
                return 200, chunk, {"X-Next-Page": str(next_page or "")}
            if method == "POST":
                note = self.gitlab_note(body["body"])
                notes.append(note)
                return 201, note, {}
        if (match := _GL_EDIT.fullmatch(route)) and method == "PUT":
            for note in self.gitlab.get(int(match.group(2)), []):
                if note["id"] == int(match.group(3)):
                    note["body"] = body["body"]
                    return 200, note, {}
        return 404, {"message": "404 Not Found"}, {}


def _handler(forge: FakeForge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            with forge._lock:
                forge.sent.append(Sent(self.command, self.path, headers, body))
                status, reply, extra = forge.handle(self.command, self.path, headers, body)
            if forge.delay:
                time.sleep(forge.delay)
            data = b"" if reply is None else json.dumps(reply).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (a timeout test)
                pass

        do_GET = do_POST = do_PATCH = do_PUT = _any

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def serve(forge: FakeForge) -> Iterator[FakeForge]:
    """Run ``forge`` on 127.0.0.1 until the generator is closed (a fixture's body)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(forge))
    server.daemon_threads = True
    forge.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield forge
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
