"""One sticky comment per config on the pull request (GitHub) or merge request (GitLab):
found again by the bot's identity and its marker, edited in place, posted only when asked.

This is the only place ``costcalc gate`` touches the network, and only when commenting is
on. Which comment is ours: one written by the bot (``costcalc.gate.github`` and
``costcalc.gate.gitlab`` say who that is) whose first line is the config's marker, so a
person quoting the marker, or another config's comment, is never edited.

``comment_on``:

- ``change`` (the default): an existing comment is updated whenever its text differs (the
  cost may have gone back: the old comment must not stay wrong); a new one is posted only
  when the report says something ``changed``.
- ``always``: as ``change``, and a comment is posted even when nothing changed.
- ``never``: nothing is read or written.

A token that may not comment (a fork's read-only token, a missing permission: HTTP 403 or
404) skips the comment with the reason; it does not fail the check. Any other failure of
the API or the network is an ``EnvironmentFailure`` (exit 3).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, Protocol, get_args

from pydantic import BaseModel, ConfigDict

from costcalc.errors import FieldError, shown
from costcalc.gate.api import TIMEOUT_S, Comment, Refused
from costcalc.gate.ci import CiContext

CommentOn = Literal["change", "always", "never"]
COMMENT_ON: tuple[str, ...] = get_args(CommentOn)


class CommentOutcome(BaseModel):
    """What ``publish_comment`` did."""

    model_config = ConfigDict(frozen=True)

    action: Literal["created", "updated", "unchanged", "skipped", "none"]
    """``skipped``: a comment was due but the token may not write it (say so in a warning);
    ``none``: none was due (not a pull request, nothing changed, ``never``)."""
    url: str | None = None
    """The comment's web address, when there is one."""
    reason: str | None = None
    """Why nothing was written (``skipped``, ``none``), one line."""


class Thread(Protocol):
    """The comments of one pull or merge request (``GitHubThread``, ``GitLabThread``)."""

    def comments(self) -> Iterable[Comment]: ...  # oldest first
    def is_own(self, comment: Comment) -> bool: ...
    def create(self, body: str) -> Comment: ...
    def update(self, comment: Comment, body: str) -> Comment: ...


def publish_comment(
    ctx: CiContext,
    marker: str,
    body: str,
    *,
    changed: bool,
    comment_on: CommentOn = "change",
    timeout: float = TIMEOUT_S,
) -> CommentOutcome:
    """Create or update the comment of ``marker`` on the pull request of ``ctx`` with
    ``body`` (which starts with the marker line; it is added when it does not), as
    ``comment_on`` says. ``timeout``: seconds per network operation of each request."""
    if comment_on not in COMMENT_ON:
        raise FieldError("comment_on", f"expected change, always or never, got {shown(comment_on)}")
    if not marker.strip() or "\n" in marker or "\r" in marker:
        raise ValueError(f"publish_comment: marker must be one line of text, got {marker!r}")
    if _first_line(body) != marker:
        body = f"{marker}\n{body}"
    why_not = _why_no_comment(ctx, comment_on)
    if why_not is not None:
        return why_not
    thread = _thread(ctx, timeout)
    try:
        ours = next((c for c in thread.comments() if _is_ours(thread, c, marker)), None)
        if ours is not None:
            if _same(ours.body, body):
                return CommentOutcome(action="unchanged", url=ours.url)
            return CommentOutcome(action="updated", url=thread.update(ours, body).url)
        if not changed and comment_on != "always":
            return CommentOutcome(action="none", reason="nothing changed: no comment posted")
        return CommentOutcome(action="created", url=thread.create(body).url)
    except Refused as exc:
        return CommentOutcome(action="skipped", reason=_refused(ctx, exc))


def _why_no_comment(ctx: CiContext, comment_on: str) -> CommentOutcome | None:
    if comment_on == "never":
        return CommentOutcome(action="none", reason="comment_on is never")
    if ctx.platform is None:
        return CommentOutcome(action="none", reason="not in GitHub Actions or GitLab CI")
    what = "pull request" if ctx.platform == "github" else "merge request"
    if ctx.pull_request is None:
        return CommentOutcome(action="none", reason=f"not a {what} ({ctx.event or 'no'} event)")
    if not ctx.token:
        names = "GITHUB_TOKEN" if ctx.platform == "github" else "COSTCALC_GITLAB_TOKEN"
        return CommentOutcome(action="skipped", reason=f"no token to comment with (${names})")
    if ctx.platform == "github" and not ctx.repository:
        return CommentOutcome(action="skipped", reason="$GITHUB_REPOSITORY is not set")
    if ctx.platform == "gitlab" and not ctx.project_id:
        return CommentOutcome(action="skipped", reason="$CI_PROJECT_ID is not set")
    if ctx.platform == "github" and ctx.fork and ctx.event == "pull_request":
        return CommentOutcome(
            action="skipped",
            reason="pull request from a fork: its token is read-only, so no comment "
            "(the job summary has the report)",
        )
    return None


def _thread(ctx: CiContext, timeout: float) -> Thread:
    if ctx.platform == "github":
        from costcalc.gate.github import GitHubThread

        return GitHubThread(ctx, timeout)
    from costcalc.gate.gitlab import GitLabThread

    return GitLabThread(ctx, timeout)


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0].rstrip("\r")


def _is_ours(thread: Thread, comment: Comment, marker: str) -> bool:
    return _first_line(comment.body) == marker and thread.is_own(comment)


def _same(stored: str, body: str) -> bool:
    """The APIs give bodies back with CRLF line ends and without trailing blanks."""

    def norm(text: str) -> str:
        return text.replace("\r\n", "\n").rstrip()

    return norm(stored) == norm(body)


def _refused(ctx: CiContext, exc: Refused) -> str:
    where = f"HTTP {exc.status} on {exc.method} {exc.url}"
    detail = f" ({exc.detail})" if exc.detail else ""
    if ctx.fork:
        return f"pull request from a fork: the token may not comment: {where}{detail}"
    if ctx.token_source == "CI_JOB_TOKEN":
        return (
            f"CI_JOB_TOKEN may not write merge-request notes: {where}{detail}; set "
            "COSTCALC_GITLAB_TOKEN to a project access token with the api scope"
        )
    return f"the token may not comment: {where}{detail}"
