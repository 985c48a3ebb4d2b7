"""The sticky comment against a fake GitHub and GitLab API on 127.0.0.1: the bot's own comment
with the config's marker is found across pages and edited in place; a person quoting the
marker and another config's comment are never touched; comment_on decides when one is
posted; a fork's or an unpermitted token's refusal skips the comment; every other failure is
one EnvironmentFailure naming the URL, never the token. Each test asserts the exact requests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given
from hypothesis import strategies as st

from costcalc.errors import EnvironmentFailure, FieldError
from costcalc.gate.ci import CiContext
from costcalc.gate.comments import publish_comment
from tests.fake_forge import TOKEN, FakeForge, serve

MARKER = "<!-- costcalc-gate config=costcalc.yaml -->"
OTHER = "<!-- costcalc-gate config=services%2Fsearch%2Fcostcalc.yaml -->"
BODY = f"{MARKER}\n### LLM cost: +$120.00 a month\n\n| workload | ... |"
LIST = "/repos/acme/shop/issues/7/comments"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy set in the environment would take loopback requests elsewhere."""
    for name in (
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def forge() -> Iterator[FakeForge]:
    yield from serve(FakeForge())


def github(forge: FakeForge, **changes: object) -> CiContext:
    ctx = CiContext(
        platform="github",
        event="pull_request",
        pull_request=7,
        base_ref="origin/main",
        api_url=forge.url,
        repository="acme/shop",
        token=TOKEN,
        token_source="GITHUB_TOKEN",
        bot_login="github-actions[bot]",
    )
    return replace(ctx, **changes)  # type: ignore[arg-type]


def gitlab(forge: FakeForge, **changes: object) -> CiContext:
    ctx = CiContext(
        platform="gitlab",
        event="merge_request_event",
        pull_request=3,
        base_ref="origin/main",
        api_url=forge.url + "/api/v4",
        repository="acme/shop",
        project_id="acme/shop",
        token=TOKEN,
        token_source="COSTCALC_GITLAB_TOKEN",
        web_url="https://gitlab.example/acme/shop",
    )
    return replace(ctx, **changes)  # type: ignore[arg-type]


def assert_no_token(exc: BaseException) -> None:
    assert TOKEN not in str(exc) and TOKEN not in repr(exc)
    assert "\n" not in str(exc)


# --- GitHub -----------------------------------------------------------------------------


def test_a_first_comment_is_posted_with_githubs_headers(forge: FakeForge) -> None:
    outcome = publish_comment(github(forge), MARKER, BODY, changed=True)
    assert outcome.action == "created"
    assert outcome.url and outcome.url.endswith(f"#issuecomment-{forge.github[7][0]['id']}")
    assert forge.lines() == [f"GET {LIST}?per_page=100", f"POST {LIST}"]
    for sent in forge.sent:
        assert sent.headers["authorization"] == f"Bearer {TOKEN}"
        assert sent.headers["accept"] == "application/vnd.github+json"
        assert sent.headers["x-github-api-version"] == "2022-11-28"
        assert sent.headers["user-agent"].startswith("costcalc/")
    assert forge.sent[1].body == {"body": BODY}
    assert forge.sent[1].headers["content-type"] == "application/json"


def test_the_bots_comment_is_found_on_the_third_page_and_edited_in_place(
    forge: FakeForge,
) -> None:
    forge.page_size = 2
    quoting = forge.github_comment(f"> {MARKER}\n> why did this go up?", "alice", "User")
    impostor = forge.github_comment(f"{MARKER}\nI wrote the marker first", "mallory", "User")
    other = forge.github_comment(f"{OTHER}\nsearch: no change")
    mentions = forge.github_comment(f"the bot said\n{MARKER}")  # the marker, not first
    ours = forge.github_comment(f"{MARKER}\nold figures")
    later = forge.github_comment("LGTM", "bob", "User")
    forge.github[7] = [quoting, impostor, other, mentions, ours, later]
    before = json.loads(json.dumps(forge.github[7]))

    outcome = publish_comment(github(forge), MARKER, BODY, changed=False)

    assert outcome.action == "updated"
    assert forge.lines() == [
        f"GET {LIST}?per_page=100",
        f"GET {LIST}?per_page=100&page=2",
        f"GET {LIST}?per_page=100&page=3",
        f"PATCH /repos/acme/shop/issues/comments/{ours['id']}",
    ]
    assert forge.sent[-1].body == {"body": BODY}
    assert ours["body"] == BODY
    assert [c["body"] for c in forge.github[7][:4]] == [c["body"] for c in before[:4]]


def test_an_identical_comment_is_left_alone(forge: FakeForge) -> None:
    # GitHub gives bodies back with CRLF line ends
    forge.github[7] = [forge.github_comment(BODY.replace("\n", "\r\n"))]
    outcome = publish_comment(github(forge), MARKER, BODY, changed=True, comment_on="always")
    assert outcome.action == "unchanged"
    assert outcome.url == forge.github[7][0]["html_url"]
    assert forge.lines() == [f"GET {LIST}?per_page=100"]


def test_change_updates_an_existing_comment_even_when_nothing_changed(forge: FakeForge) -> None:
    # the cost went back to what the base has: the old "+$120" comment must not stay
    forge.github[7] = [forge.github_comment(f"{MARKER}\n+$120")]
    outcome = publish_comment(github(forge), MARKER, BODY, changed=False)
    assert outcome.action == "updated"
    assert forge.lines()[-1].startswith("PATCH ")


def test_change_posts_no_new_comment_when_nothing_changed(forge: FakeForge) -> None:
    outcome = publish_comment(github(forge), MARKER, BODY, changed=False)
    assert (outcome.action, outcome.reason) == ("none", "nothing changed: no comment posted")
    assert forge.lines() == [f"GET {LIST}?per_page=100"]
    assert forge.github[7] == []


def test_always_posts_even_when_nothing_changed(forge: FakeForge) -> None:
    outcome = publish_comment(github(forge), MARKER, BODY, changed=False, comment_on="always")
    assert outcome.action == "created"
    assert forge.lines() == [f"GET {LIST}?per_page=100", f"POST {LIST}"]


def test_never_sends_nothing(forge: FakeForge) -> None:
    forge.github[7] = [forge.github_comment(f"{MARKER}\nold")]
    outcome = publish_comment(github(forge), MARKER, BODY, changed=True, comment_on="never")
    assert outcome.action == "none"
    assert forge.sent == []


def test_a_custom_bot_login_and_a_github_app_bot(forge: FakeForge) -> None:
    forge.bot = {"login": "cost-bot[bot]", "type": "Bot", "id": 5}
    actions = forge.github_comment(f"{MARKER}\nfrom the workflow token")
    app = forge.github_comment(f"{MARKER}\nfrom the app", "cost-bot[bot]", "Bot")
    forge.github[7] = [actions, app]
    ctx = github(forge, bot_login="cost-bot")  # $COSTCALC_BOT_LOGIN=cost-bot
    assert publish_comment(ctx, MARKER, BODY, changed=True).action == "updated"
    assert forge.lines()[-1] == f"PATCH /repos/acme/shop/issues/comments/{app['id']}"
    assert actions["body"].endswith("from the workflow token")


def test_github_enterprise_api_url(forge: FakeForge) -> None:
    forge.prefix = "/api/v3"
    outcome = publish_comment(
        github(forge, api_url=forge.url + "/api/v3"), MARKER, BODY, changed=True
    )
    assert outcome.action == "created"
    assert forge.lines() == [f"GET /api/v3{LIST}?per_page=100", f"POST /api/v3{LIST}"]


def test_a_body_without_the_marker_gets_it_as_first_line(forge: FakeForge) -> None:
    publish_comment(github(forge), MARKER, "### cost", changed=True)
    assert forge.sent[-1].body == {"body": f"{MARKER}\n### cost"}


def test_a_fork_pull_request_is_skipped_before_any_request(forge: FakeForge) -> None:
    outcome = publish_comment(github(forge, fork=True), MARKER, BODY, changed=True)
    assert outcome.action == "skipped"
    assert outcome.reason and "fork" in outcome.reason and "read-only" in outcome.reason
    assert forge.sent == []


def test_a_fork_token_refused_with_403_is_skipped(forge: FakeForge) -> None:
    forge.fail("POST", "/comments$", 403, {"message": "Resource not accessible by integration"})
    ctx = github(forge, fork=True, event="pull_request_target")
    outcome = publish_comment(ctx, MARKER, BODY, changed=True)
    assert outcome.action == "skipped"
    assert outcome.reason == (
        f"pull request from a fork: the token may not comment: HTTP 403 on POST "
        f"{forge.url}{LIST} (Resource not accessible by integration)"
    )
    assert forge.lines() == [f"GET {LIST}?per_page=100", f"POST {LIST}"]


def test_a_token_that_may_not_edit_is_skipped(forge: FakeForge) -> None:
    ours = forge.github_comment(f"{MARKER}\nold")
    forge.github[7] = [ours]
    forge.fail("PATCH", "/issues/comments/", 404, {"message": "Not Found"})
    outcome = publish_comment(github(forge), MARKER, BODY, changed=True)
    assert outcome.action == "skipped"
    assert outcome.reason and outcome.reason.startswith(
        "the token may not comment: HTTP 404 on PATCH"
    )


def test_a_server_error_is_an_environment_failure_naming_the_url(forge: FakeForge) -> None:
    forge.fail("GET", "/comments", 500, {"message": "Server Error"})
    with pytest.raises(EnvironmentFailure) as err:
        publish_comment(github(forge), MARKER, BODY, changed=True)
    assert str(err.value) == f"{forge.url}{LIST}?per_page=100: GET failed: HTTP 500 Server Error"
    assert_no_token(err.value)
    assert forge.lines() == [f"GET {LIST}?per_page=100"]


def test_bad_credentials_are_an_environment_failure_without_the_token(forge: FakeForge) -> None:
    ctx = github(forge, token="ghp_wrong-" + TOKEN[::-1])
    with pytest.raises(EnvironmentFailure) as err:
        publish_comment(ctx, MARKER, BODY, changed=True)
    assert str(err.value).endswith("GET failed: HTTP 401 Bad credentials")
    assert ctx.token and ctx.token not in str(err.value)
    assert ctx.token not in repr(ctx)


def test_a_rate_limit_403_is_an_environment_failure_not_a_skip(forge: FakeForge) -> None:
    forge.fail(
        "POST",
        "/comments$",
        403,
        {"message": "API rate limit exceeded"},
        **{"X-RateLimit-Remaining": "0"},
    )
    with pytest.raises(EnvironmentFailure, match="HTTP 403 API rate limit exceeded"):
        publish_comment(github(forge), MARKER, BODY, changed=True)


def test_a_server_error_on_post_is_an_environment_failure(forge: FakeForge) -> None:
    forge.fail("POST", "/comments$", 502, None)
    with pytest.raises(EnvironmentFailure, match=r"POST failed: HTTP 502 Bad Gateway$"):
        publish_comment(github(forge), MARKER, BODY, changed=True)


def test_no_network_is_an_environment_failure(forge: FakeForge) -> None:
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = closed.server_address[1]
    closed.server_close()  # nothing listens there now
    with pytest.raises(EnvironmentFailure, match=rf"^http://127.0.0.1:{port}/repos/.*GET failed"):
        publish_comment(
            github(forge, api_url=f"http://127.0.0.1:{port}"), MARKER, BODY, changed=True
        )


def test_a_slow_api_times_out(forge: FakeForge) -> None:
    forge.delay = 1.0
    with pytest.raises(EnvironmentFailure, match=r"GET failed: .*timed out"):
        publish_comment(github(forge), MARKER, BODY, changed=True, timeout=0.2)


def test_a_redirect_is_not_followed_with_the_token(forge: FakeForge) -> None:
    elsewhere: list[str] = []

    class Trap(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            elsewhere.append(self.headers.get("Authorization", ""))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    trap = ThreadingHTTPServer(("127.0.0.1", 0), Trap)
    threading.Thread(target=trap.serve_forever, args=(0.02,), daemon=True).start()
    try:
        target = f"http://127.0.0.1:{trap.server_address[1]}/steal"
        forge.fail("GET", "/comments", 301, None, Location=target)
        with pytest.raises(EnvironmentFailure, match=r"HTTP 301 .*redirects are not followed"):
            publish_comment(github(forge), MARKER, BODY, changed=True)
    finally:
        trap.shutdown()
        trap.server_close()
    assert elsewhere == []


def test_a_next_page_on_another_host_is_refused(forge: FakeForge) -> None:
    forge.fail("GET", "/comments", 200, [], Link='<http://127.0.0.2:1/x?page=2>; rel="next"')
    with pytest.raises(
        EnvironmentFailure, match=r"^http://127.0.0.2:1/x\?page=2: GET: not at the API"
    ):
        publish_comment(github(forge), MARKER, BODY, changed=True)
    assert forge.lines() == [f"GET {LIST}?per_page=100"]


def test_nothing_is_sent_outside_a_pull_request(forge: FakeForge) -> None:
    for ctx, action, reason in [
        (CiContext(), "none", "not in GitHub Actions or GitLab CI"),
        (github(forge, event="push", pull_request=None), "none", "not a pull request (push event)"),
        (github(forge, token=None), "skipped", "no token to comment with ($GITHUB_TOKEN)"),
        (
            gitlab(forge, pull_request=None, event="schedule"),
            "none",
            "not a merge request (schedule event)",
        ),
    ]:
        outcome = publish_comment(ctx, MARKER, BODY, changed=True, comment_on="always")
        assert (outcome.action, outcome.reason) == (action, reason)
    assert forge.sent == []


def test_a_bad_comment_on_names_the_field(forge: FakeForge) -> None:
    with pytest.raises(
        FieldError, match="comment_on: expected change, always or never, got 'sometimes'"
    ):
        publish_comment(github(forge), MARKER, BODY, changed=True, comment_on="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="marker must be one line"):
        publish_comment(github(forge), "a\nb", BODY, changed=True)


# --- GitLab -----------------------------------------------------------------------------

NOTES = "/api/v4/projects/acme%2Fshop/merge_requests/3/notes"
QUERY = "per_page=100&sort=asc&order_by=created_at"


def test_gitlab_note_found_across_pages_by_the_tokens_user_and_edited(forge: FakeForge) -> None:
    forge.page_size = 2
    forge.gitlab_user = dict(forge.gitlab_author)
    human = {"id": 3, "username": "alice"}
    forge.gitlab[3] = [
        forge.gitlab_note(f"{MARKER}\nquoted by a person", human),
        forge.gitlab_note("added 1 commit", human, system=True),
        forge.gitlab_note(f"{OTHER}\nsearch config"),
        forge.gitlab_note("thanks", human),
        ours := forge.gitlab_note(f"{MARKER}\nold"),
    ]
    outcome = publish_comment(gitlab(forge), MARKER, BODY, changed=True)
    assert outcome.action == "updated"
    assert outcome.url == f"https://gitlab.example/acme/shop/-/merge_requests/3#note_{ours['id']}"
    assert forge.lines() == [
        "GET /api/v4/user",
        f"GET {NOTES}?{QUERY}",
        f"GET {NOTES}?{QUERY}&page=2",
        f"GET {NOTES}?{QUERY}&page=3",
        f"PUT {NOTES}/{ours['id']}",
    ]
    assert all(s.headers["private-token"] == TOKEN for s in forge.sent)
    assert all("authorization" not in s.headers for s in forge.sent)
    assert forge.sent[-1].body == {"body": BODY}
    assert forge.gitlab[3][0]["body"].endswith("quoted by a person")
    assert forge.gitlab[3][2]["body"] == f"{OTHER}\nsearch config"


def test_gitlab_without_user_access_recognises_the_project_tokens_bot(forge: FakeForge) -> None:
    forge.gitlab[3] = [
        forge.gitlab_note(f"{MARKER}\nby a person", {"id": 3, "username": "alice"}),
        ours := forge.gitlab_note(f"{MARKER}\nold"),
    ]
    assert publish_comment(gitlab(forge), MARKER, BODY, changed=True).action == "updated"
    assert forge.lines() == [
        "GET /api/v4/user",
        f"GET {NOTES}?{QUERY}",
        f"PUT {NOTES}/{ours['id']}",
    ]


def test_gitlab_creates_a_note(forge: FakeForge) -> None:
    outcome = publish_comment(gitlab(forge, bot_login="ci-bot"), MARKER, BODY, changed=True)
    assert outcome.action == "created"
    assert forge.lines() == [f"GET {NOTES}?{QUERY}", f"POST {NOTES}"]  # no /user: login given


def test_gitlab_job_token_that_may_not_write_notes_is_skipped(forge: FakeForge) -> None:
    forge.fail("POST", "/notes$", 401, {"message": "401 Unauthorized"})
    ctx = gitlab(forge, token_source="CI_JOB_TOKEN", bot_login="alice")
    outcome = publish_comment(ctx, MARKER, BODY, changed=True)
    assert outcome.action == "skipped"
    assert outcome.reason and outcome.reason.startswith(
        "CI_JOB_TOKEN may not write merge-request notes"
    )
    assert "COSTCALC_GITLAB_TOKEN" in outcome.reason
    assert all(
        s.headers["job-token"] == TOKEN and "private-token" not in s.headers for s in forge.sent
    )


def test_gitlab_fork_merge_request_refused_is_skipped(forge: FakeForge) -> None:
    forge.fail("POST", "/notes$", 403, {"message": "403 Forbidden"})
    outcome = publish_comment(gitlab(forge, fork=True), MARKER, BODY, changed=True)
    assert outcome.action == "skipped"
    assert outcome.reason and "fork" in outcome.reason


def test_gitlab_server_error_and_bad_token(forge: FakeForge) -> None:
    forge.gitlab[3] = [forge.gitlab_note(f"{MARKER}\nold")]
    forge.fail("PUT", "/notes/", 500, {"message": "500 Internal Server Error"})
    with pytest.raises(EnvironmentFailure, match=r"notes/\d+: PUT failed: HTTP 500") as err:
        publish_comment(gitlab(forge), MARKER, BODY, changed=True)
    assert_no_token(err.value)
    with pytest.raises(EnvironmentFailure, match="GET failed: HTTP 401 401 Unauthorized") as err:
        publish_comment(gitlab(forge, token="glpat-wrong"), MARKER, BODY, changed=True)
    assert "glpat-wrong" not in str(err.value)


# --- pages --------------------------------------------------------------------------------


def test_next_links_in_any_order_and_relative() -> None:
    from costcalc.gate.api import Reply
    from costcalc.gate.github import next_link

    def reply(link: str) -> Reply:
        return Reply(200, {"link": link}, [], "https://api.example/repos/o/r/issues/1/comments")

    header = (
        '<https://api.example/x?page=1>; rel="prev", <https://api.example/x?page=9>; rel="last",'
        ' <https://api.example/x?page=3>; rel="next"'
    )
    assert next_link(reply(header)) == "https://api.example/x?page=3"
    assert next_link(reply("</y?page=2>; rel=next")) == "https://api.example/y?page=2"
    assert next_link(reply('<https://api.example/x?page=9>; rel="last"')) is None
    assert next_link(reply("")) is None


@given(st.text(max_size=200))
def test_any_paging_header_gives_a_url_or_none(header: str) -> None:
    from costcalc.gate.api import Reply
    from costcalc.gate.github import next_link
    from costcalc.gate.gitlab import next_page

    reply = Reply(200, {"link": header, "x-next-page": header}, [], "https://h.example/a?b=1")
    for found in (next_link(reply), next_page(reply)):
        assert found is None or isinstance(found, str)


def test_pages_that_never_end_are_an_environment_failure(forge: FakeForge) -> None:
    same = f"{forge.url}{LIST}?per_page=100"
    forge.fail("GET", "/comments", 200, [], Link=f'<{same}>; rel="next"')
    with pytest.raises(EnvironmentFailure, match=r"GET: pages do not end \(after 1 pages\)"):
        publish_comment(github(forge), MARKER, BODY, changed=True)
    assert forge.lines() == [f"GET {LIST}?per_page=100"]


def test_a_list_reply_that_is_not_a_list_is_an_environment_failure(forge: FakeForge) -> None:
    forge.fail("GET", "/comments", 200, {"not": "a list"})
    with pytest.raises(EnvironmentFailure, match="GET: expected a JSON list"):
        publish_comment(github(forge), MARKER, BODY, changed=True)
