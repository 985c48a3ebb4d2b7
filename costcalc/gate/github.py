"""A pull request's comments through GitHub's REST API (``$GITHUB_API_URL``: github.com or
GitHub Enterprise): listed page by page, created, edited in place.

The token goes in ``Authorization: Bearer``; GitHub's JSON media type and API version are
asked for on every request.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

from costcalc._version import __version__
from costcalc.errors import EnvironmentFailure
from costcalc.gate.api import Client, Comment, Reply, shown_url
from costcalc.gate.ci import CiContext

API_VERSION = "2022-11-28"
PER_PAGE = 100
_LINK = re.compile(r"<([^>]*)>([^<]*)")
_REL = re.compile(r'\brel\s*=\s*"?([^";,]*)')


def next_link(reply: Reply) -> str | None:
    """The ``rel="next"`` URL of a reply's ``Link`` header, if any."""
    target: str
    for target, params in _LINK.findall(reply.headers.get("link", "")):
        rel = _REL.search(params)
        if rel and "next" in rel.group(1).split():
            return urllib.parse.urljoin(reply.url, target)
    return None


class GitHubThread:
    """The comments of pull request ``ctx.pull_request`` in ``ctx.repository``."""

    def __init__(self, ctx: CiContext, timeout: float) -> None:
        if not (ctx.api_url and ctx.repository and ctx.pull_request and ctx.token):
            raise ValueError("GitHubThread needs a pull request, its repository, API and token")
        self.ctx = ctx
        self.client = Client(
            ctx.api_url,
            {
                "Authorization": f"Bearer {ctx.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"costcalc/{__version__}",
            },
            secret=ctx.token,
            timeout=timeout,
        )
        repo = urllib.parse.quote(ctx.repository, safe="/")
        self._issue = f"/repos/{repo}/issues/{ctx.pull_request}"
        self._edit = f"/repos/{repo}/issues/comments"

    def comments(self) -> Iterator[Comment]:
        url = self.client.url(f"{self._issue}/comments", per_page=PER_PAGE)
        for item in self.client.pages(url, next_link):
            comment = _comment(item)
            if comment is not None:
                yield comment

    def is_own(self, comment: Comment) -> bool:
        """Written by the bot: its login, or a bot account of that name (a GitHub App's
        ``name[bot]`` when ``$COSTCALC_BOT_LOGIN`` gives ``name``)."""
        login = self.ctx.bot_login
        return bool(login) and (
            comment.author == login
            or (comment.author_type == "Bot" and comment.author == f"{login}[bot]")
        )

    def create(self, body: str) -> Comment:
        url = self.client.url(f"{self._issue}/comments")
        return self._written(self.client.request("POST", url, {"body": body}))

    def update(self, comment: Comment, body: str) -> Comment:
        url = self.client.url(f"{self._edit}/{comment.id}")
        return self._written(self.client.request("PATCH", url, {"body": body}))

    def _written(self, reply: Reply) -> Comment:
        comment = _comment(reply.data)
        if comment is None:
            raise EnvironmentFailure(shown_url(reply.url), "expected the comment's JSON")
        return comment


def _comment(item: Any) -> Comment | None:
    if not isinstance(item, dict) or not isinstance(item.get("id"), int):
        return None
    user = item.get("user")
    user = user if isinstance(user, dict) else {}
    body, url = item.get("body"), item.get("html_url")
    login, kind, user_id = user.get("login"), user.get("type"), user.get("id")
    return Comment(
        id=item["id"],
        body=body if isinstance(body, str) else "",
        author=login if isinstance(login, str) else "",
        author_type=kind if isinstance(kind, str) else "",
        author_id=user_id if isinstance(user_id, int) else None,
        url=url if isinstance(url, str) else None,
    )
