"""A merge request's notes through GitLab's REST API (``$CI_API_V4_URL``): listed page by
page, created, edited in place.

A project or personal access token goes in ``PRIVATE-TOKEN``, the job's own token in
``JOB-TOKEN``. Whose notes are ours: ``$COSTCALC_BOT_LOGIN`` when set; else the token's user
(``GET /user``); where the token may not ask (a job token), the user who started the
pipeline for a job token, else a project or group token's bot user.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

from costcalc._version import __version__
from costcalc.errors import EnvironmentFailure
from costcalc.gate.api import REFUSED, Client, Comment, Refused, Reply, shown_url
from costcalc.gate.ci import CiContext

PER_PAGE = 100
JOB_TOKEN = "CI_JOB_TOKEN"
BOT_USERNAME = re.compile(r"(project|group)_\d+_bot(_[0-9a-f]+)?\d*")
"""The username GitLab gives a project or group access token's bot user."""


def next_page(reply: Reply) -> str | None:
    """The URL of the page ``X-Next-Page`` names (empty on the last page)."""
    page = reply.headers.get("x-next-page", "").strip()
    if not page.isdigit():
        return None
    parts = urllib.parse.urlsplit(reply.url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query["page"] = page
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


class GitLabThread:
    """The notes of merge request ``ctx.pull_request`` in project ``ctx.project_id``."""

    def __init__(self, ctx: CiContext, timeout: float) -> None:
        if not (ctx.api_url and ctx.project_id and ctx.pull_request and ctx.token):
            raise ValueError("GitLabThread needs a merge request, its project, API and token")
        self.ctx = ctx
        job = ctx.token_source == JOB_TOKEN
        self.client = Client(
            ctx.api_url,
            {
                "JOB-TOKEN" if job else "PRIVATE-TOKEN": ctx.token,
                "User-Agent": f"costcalc/{__version__}",
            },
            secret=ctx.token,
            timeout=timeout,
            # a job token that may not write notes gets 401 from some GitLab versions
            refused=(401, *REFUSED) if job else REFUSED,
        )
        project = urllib.parse.quote(ctx.project_id, safe="")
        self._notes = f"/projects/{project}/merge_requests/{ctx.pull_request}/notes"
        self._user_id: int | None = None

    def comments(self) -> Iterator[Comment]:
        if not self.ctx.bot_login:
            self._user_id = self._token_user()
        url = self.client.url(self._notes, per_page=PER_PAGE, sort="asc", order_by="created_at")
        for item in self.client.pages(url, next_page):
            if isinstance(item, dict) and item.get("system") is True:
                continue  # GitLab's own "added 1 commit" notes
            comment = self._comment(item)
            if comment is not None:
                yield comment

    def _token_user(self) -> int | None:
        try:
            reply = self.client.request("GET", self.client.url("/user"))
        except Refused:
            return None
        user_id = reply.data.get("id") if isinstance(reply.data, dict) else None
        return user_id if isinstance(user_id, int) else None

    def is_own(self, comment: Comment) -> bool:
        if self.ctx.bot_login:
            return comment.author == self.ctx.bot_login
        if self._user_id is not None:
            return comment.author_id == self._user_id
        return comment.author_type == "bot"

    def create(self, body: str) -> Comment:
        return self._written(
            self.client.request("POST", self.client.url(self._notes), {"body": body})
        )

    def update(self, comment: Comment, body: str) -> Comment:
        url = self.client.url(f"{self._notes}/{comment.id}")
        return self._written(self.client.request("PUT", url, {"body": body}))

    def _written(self, reply: Reply) -> Comment:
        comment = self._comment(reply.data)
        if comment is None:
            raise EnvironmentFailure(shown_url(reply.url), "expected the note's JSON")
        return comment

    def _comment(self, item: Any) -> Comment | None:
        if not isinstance(item, dict) or not isinstance(item.get("id"), int):
            return None
        author = item.get("author")
        author = author if isinstance(author, dict) else {}
        body, username, user_id = item.get("body"), author.get("username"), author.get("id")
        username = username if isinstance(username, str) else ""
        web = self.ctx.web_url
        link = f"{web}/-/merge_requests/{self.ctx.pull_request}#note_{item['id']}"
        return Comment(
            id=item["id"],
            body=body if isinstance(body, str) else "",
            author=username,
            author_type="bot" if BOT_USERNAME.fullmatch(username) else "user",
            author_id=user_id if isinstance(user_id, int) else None,
            url=link if web else None,
        )
