"""The comments embed (/embed/comments/<id>): the thread in its own layout, written to by its
own routes that answer the re-rendered embed page, ETag/304, framing, article creation."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.embed_sessions import issue_embed_session
from articles.from_embed import embed_article_fields
from models import (
    Article,
    Comment,
    CommentMode,
    CommentState,
    EmbedVia,
    Report,
    User,
    utcnow,
)
from tests.conftest import TEST_PASSWORD, login
from tests.factories import (
    CLEAN,
    CLEAN_TEXTS,
    HOLD_TEXT,
    REJECT_TEXT,
    create_comment,
    isolate_and_check,
    reload,
)

HOST = "https://krant.example"


@pytest.fixture(autouse=True)
def _isolated_and_checked(request: pytest.FixtureRequest) -> Iterator[None]:
    yield from isolate_and_check(request)


@pytest.fixture
def app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    app_settings["EMBED_ALLOWED_ORIGINS"] = HOST
    return app_settings


@pytest.fixture
def article(make_article: Callable[..., Article]) -> Article:
    return make_article("defour-blijft")


def _embed(client: FlaskClient, article_id: str, **query: str) -> Any:
    return client.get(f"/embed/comments/{article_id}", query_string=query)


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- the anonymous view


def test_embed_shows_the_thread_with_the_article_page_markup(
    client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    author = make_user()
    top = create_comment(db, article, author, CommentState.PUBLISHED, CLEAN_TEXTS[0])
    create_comment(db, article, author, CommentState.PUBLISHED, CLEAN_TEXTS[1], parent=top)
    response = _embed(client, article.cms_id)
    assert response.status_code == 200
    html = _text(response)
    # The same partial as /artikels/<id>: li.comment per comment, replies nested.
    assert html.count('<li class="comment"') == 2
    assert '<ol class="replies">' in html
    assert "2 reacties" in html
    assert "site-header" not in html and "<header" not in html  # no site chrome
    assert 'lang="nl-BE"' in html
    assert "Aanmelden" in html and "/embed/aanmelden" in html
    # Sort links stay inside the embed.
    assert f"/embed/comments/{article.cms_id}?volgorde=oudste" in html
    page = _text(client.get(f"/artikels/{article.cms_id}"))
    assert page.count('<li class="comment"') == 2


def test_embed_shows_mode_notices(
    client: FlaskClient, db: Session, make_article: Callable[..., Article]
) -> None:
    closed = make_article("gesloten", comment_mode=CommentMode.CLOSED)
    assert "Reageren op dit artikel is gesloten." in _text(_embed(client, closed.cms_id))


def test_unknown_article_is_not_open_without_creation(client: FlaskClient, db: Session) -> None:
    response = _embed(client, "nieuw-stuk", title="Nieuw", url=f"{HOST}/nieuw")
    assert response.status_code == 404
    assert "Reageren is hier niet geopend." in _text(response)
    assert db.scalar(select(Article).where(Article.cms_id == "nieuw-stuk")) is None


# ---------------------------------------------------------------- articles from the embed


@pytest.fixture
def creating(app_settings: dict[str, Any]) -> dict[str, Any]:
    app_settings["TRIBUNE_EMBED_CREATES_ARTICLES"] = True
    return app_settings


def test_unknown_article_is_created_from_an_allowed_page(
    creating: dict[str, Any], client: FlaskClient, db: Session
) -> None:
    response = _embed(client, "nieuw-stuk", title="  Nieuw\tstuk ", url=f"{HOST}/sport/nieuw")
    assert response.status_code == 200
    created = db.scalar(select(Article).where(Article.cms_id == "nieuw-stuk"))
    assert created is not None
    assert (created.title, created.url) == ("Nieuw stuk", f"{HOST}/sport/nieuw")
    assert created.comment_mode is CommentMode.OPEN
    assert "Nog geen reacties" in _text(response)


@pytest.mark.parametrize(
    ("article_id", "title", "url"),
    [
        ("nieuw-stuk", "Nieuw", "https://elders.example/stuk"),  # origin not allowed
        ("nieuw-stuk", "Nieuw", "javascript:alert(1)//krant.example"),
        ("nieuw-stuk", "Nieuw", f"https://x@{HOST[8:]}/stuk"),  # credentials in the URL
        ("nieuw-stuk", "", f"{HOST}/stuk"),  # no title
        ("nieuw-stuk", "Nieuw", ""),  # no URL
        ("nieuw stuk!", "Nieuw", f"{HOST}/stuk"),  # malformed id
    ],
)
def test_article_creation_refuses_what_does_not_qualify(
    creating: dict[str, Any],
    client: FlaskClient,
    db: Session,
    article_id: str,
    title: str,
    url: str,
) -> None:
    response = _embed(client, article_id, title=title, url=url)
    assert response.status_code == 404
    assert "Reageren is hier niet geopend." in _text(response)
    assert db.scalar(select(Article).where(Article.cms_id == article_id)) is None


@pytest.fixture
def any_origin(creating: dict[str, Any]) -> None:
    creating["EMBED_ALLOWED_ORIGINS"] = "*"


def test_any_origin_when_embed_origins_is_a_star(
    any_origin: None, client: FlaskClient, db: Session
) -> None:
    assert _embed(client, "overal", title="T", url="https://elders.example/a").status_code == 200
    assert db.scalar(select(Article).where(Article.cms_id == "overal")) is not None


# ---------------------------------------------------------------- conditional requests, headers


def test_thread_etag_answers_304_until_a_comment_is_published(
    client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    first = _embed(client, article.cms_id)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"t')
    again = client.get(f"/embed/comments/{article.cms_id}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    create_comment(db, article, make_user(), CommentState.PUBLISHED)
    changed = client.get(f"/embed/comments/{article.cms_id}", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "1 reactie" in _text(changed)


def test_etag_differs_per_reader_and_sort(
    client: FlaskClient, article: Article, make_user: Callable[..., User]
) -> None:
    anonymous = _embed(client, article.cms_id).headers["ETag"]
    oldest = _embed(client, article.cms_id, volgorde="oudste").headers["ETag"]
    login(client, make_user())
    page = _embed(client, article.cms_id)
    signed_in = page.headers["ETag"]
    assert len({anonymous, oldest, signed_in}) == 3
    # A reader's own page is never kept (their pending comments, the delete question).
    assert page.headers["Cache-Control"] == "private, no-store"


def test_direct_visit_is_a_plain_page_and_the_fragment_has_no_shell(
    client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    create_comment(db, article, make_user(), CommentState.PUBLISHED, CLEAN_TEXTS[0])
    response = _embed(client, article.cms_id)
    assert "private" in response.headers["Cache-Control"]
    html = _text(response)
    # A direct visit: the thread with a link to the article page, and no script at all.
    assert html.startswith("<!doctype html>")
    assert f'href="/artikels/{article.cms_id}"' in html
    assert "<script" not in html
    fragment = _embed(client, article.cms_id, fragment="1")
    part = _text(fragment)
    # What comments.js puts in the shadow root: the thread, no <html> shell, no script.
    assert part.startswith('<div id="tribune-embed"')
    assert "<html" not in part and "<head" not in part and "<script" not in part
    assert part.count('<li class="comment"') == 1
    assert "style=" not in part and not re.search(r"\son[a-z]+=", part)
    # The two shapes have their own validators (the check asks for the fragment).
    assert fragment.headers["ETag"] != response.headers["ETag"]
    # An unknown article: the same Dutch sentence, as a fragment too.
    closed = _embed(client, "onbekend-artikel", fragment="1")
    assert closed.status_code == 404
    assert _text(closed).startswith('<div id="tribune-embed"')
    assert "Reageren is hier niet geopend." in _text(closed)


def test_sign_in_popup_page_is_never_framed_and_needs_an_allowed_origin(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    anonymous = client.get("/embed/aanmelden", query_string={"origin": HOST})
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login?next=/embed/aanmelden")
    assert (
        client.get("/embed/aanmelden", query_string={"origin": HOST, "registreren": "1"})
        .headers["Location"]
        .startswith("/registreren?next=")
    )
    login(client, make_user())
    page = client.get("/embed/aanmelden", query_string={"origin": HOST})
    assert page.status_code == 200
    # The token goes to this host origin only (embed-signin.js posts to data-host-origin).
    assert f'data-host-origin="{HOST}"' in _text(page)
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "no-store" in page.headers["Cache-Control"]
    for origin in (None, "https://elders.example", "javascript:alert(1)", HOST + "/pad"):
        refused = client.get("/embed/aanmelden", query_string={"origin": origin} if origin else {})
        assert refused.status_code == 400
        assert "Aanmelden niet mogelijk" in _text(refused)
        assert "data-host-origin" not in _text(refused) and "<script" not in _text(refused)


def test_text_answers_are_gzipped_for_clients_that_accept_it(
    client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    for number in range(8):
        text = CLEAN_TEXTS[number % len(CLEAN_TEXTS)]
        create_comment(db, article, make_user(), CommentState.PUBLISHED, text)
    plain = _embed(client, article.cms_id)
    packed = client.get(f"/embed/comments/{article.cms_id}", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) / 2
    script = client.get("/static/comments.js", headers={"Accept-Encoding": "gzip"})
    assert script.headers["Content-Encoding"] == "gzip"
    assert script.headers["ETag"].startswith("W/")
    script.close()
    # The API stays as it is (its tallies compare their own strong ETags).
    tallies = client.get("/api/v1/tallies?ids=defour-blijft", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in tallies.headers
    thread = client.get(
        f"/api/v1/articles/{article.cms_id}/comments", headers={"Accept-Encoding": "gzip"}
    )
    assert thread.status_code == 200 and len(thread.data) > 1024
    assert "Content-Encoding" not in thread.headers


# ---------------------------------------------------------------- writes


def _post(client: FlaskClient, article: Article, body: str, **fields: str) -> Any:
    return client.post(f"/embed/comments/{article.cms_id}/reacties", data={"body": body, **fields})


def test_anonymous_write_answers_the_embed_with_the_sign_in_message(
    client: FlaskClient, db: Session, article: Article
) -> None:
    response = _post(client, article, CLEAN)
    assert response.status_code == 401
    html = _text(response)
    assert "Meld je aan om te reageren." in html and 'id="tribune-embed"' in html
    assert db.scalar(select(Comment)) is None


def test_post_and_reply_answer_the_embed_page(
    client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    login(client, make_user())
    posted = _post(client, article, CLEAN)
    assert posted.status_code == 201
    html = _text(posted)
    comment = db.scalar(select(Comment))
    assert comment is not None and comment.state is CommentState.PUBLISHED
    assert "Je reactie staat online." in html
    assert f'data-focus="reactie-{comment.id}"' in html
    assert 'data-own-post="1"' in html and 'data-count="1"' in html
    assert f'action="/embed/comments/reacties/{comment.id}/bewerken#edit-{comment.id}"' in html
    reply = _post(client, article, CLEAN_TEXTS[1], parent_id=str(comment.id))
    assert reply.status_code == 201
    assert '<ol class="replies">' in _text(reply)


def test_refused_post_keeps_the_text_beside_the_error(
    client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    login(client, make_user())
    response = _post(client, article, "x")
    assert response.status_code == 422
    html = _text(response)
    assert 'aria-invalid="true"' in html
    assert re.search(r'<textarea[^>]*aria-invalid="true"[^>]*>\s*x</textarea>', html)
    assert 'class="form-error"' in html
    assert 'id="tribune-embed"' in html


def test_rejected_comment_shows_its_reason_and_the_appeal(
    client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    login(client, make_user())
    response = _post(client, article, REJECT_TEXT)
    html = _text(response)
    assert "Jouw reacties in behandeling" in html
    assert "Niet geplaatst: " in html
    comment = db.scalar(select(Comment))
    assert comment is not None and comment.state is CommentState.REJECTED
    assert f'action="/embed/comments/reacties/{comment.id}/bezwaar"' in html
    appealed = client.post(
        f"/embed/comments/reacties/{comment.id}/bezwaar",
        data={"body": "Dit was een citaat uit een interview, geen belediging."},
    )
    assert appealed.status_code == 200
    assert "Je bezwaar: in behandeling" in _text(appealed)


def test_held_comment_shows_the_notice(
    client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    login(client, make_user())
    html = _text(_post(client, article, HOLD_TEXT))
    assert "Je reactie wordt eerst nagekeken door een moderator." in html
    assert "Wacht op nakijken door een moderator." in html


def test_edit_delete_with_confirm_and_undo(
    client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    author = make_user()
    login(client, author)
    comment = create_comment(db, article, author, CommentState.PUBLISHED)
    edited = client.post(
        f"/embed/comments/reacties/{comment.id}/bewerken", data={"body": CLEAN_TEXTS[2]}
    )
    assert edited.status_code == 200
    assert "Je reactie is aangepast." in _text(edited)
    assert reload(db, Comment, comment.id).body == CLEAN_TEXTS[2]
    asked = client.get(f"/embed/comments/reacties/{comment.id}/verwijderen")
    assert "Deze reactie verwijderen?" in _text(asked)
    assert reload(db, Comment, comment.id).state is CommentState.PUBLISHED
    one_click = client.post(f"/embed/comments/reacties/{comment.id}/verwijderen")
    assert "Deze reactie verwijderen?" in _text(one_click)
    assert reload(db, Comment, comment.id).state is CommentState.PUBLISHED
    deleted = client.post(
        f"/embed/comments/reacties/{comment.id}/verwijderen", data={"bevestigd": "ja"}
    )
    assert "Je reactie is verwijderd." in _text(deleted)
    assert reload(db, Comment, comment.id).state is CommentState.DELETED
    assert f'action="/embed/comments/reacties/{comment.id}/terugzetten"' in _text(deleted)
    undone = client.post(f"/embed/comments/reacties/{comment.id}/terugzetten")
    assert "Je reactie staat terug." in _text(undone)
    assert reload(db, Comment, comment.id).state is CommentState.PUBLISHED


def test_report_with_a_reason(
    client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    comment = create_comment(db, article, make_user(), CommentState.PUBLISHED)
    login(client, make_user())
    missing = client.post(f"/embed/comments/reacties/{comment.id}/melden", data={"reason": ""})
    assert missing.status_code == 422
    assert "Kies een reden." in _text(missing)
    reported = client.post(
        f"/embed/comments/reacties/{comment.id}/melden", data={"reason": "spam", "note": "reclame"}
    )
    assert reported.status_code == 200
    assert "Bedankt, een moderator bekijkt je melding." in _text(reported)
    db.rollback()
    assert db.scalar(select(Report)) is not None


def test_suspended_reader_sees_the_suspension(
    client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    fan = make_user(banned_until=utcnow() + timedelta(days=2), ban_reason="Spam")
    login(client, fan)
    html = _text(_embed(client, article.cms_id))
    assert 'class="card notice suspension"' in html
    assert 'id="reageer"' in html and "Plaats reactie" not in html
    refused = _post(client, article, CLEAN)
    assert refused.status_code == 403
    assert CLEAN in _text(refused)


# ---------------------------------------------------------------- the creation rules, pure


def _allowed(origin: str) -> bool:
    return origin in (HOST, "http://localhost:5001")


@pytest.mark.parametrize(
    ("title", "url", "expected"),
    [
        ("Titel", f"{HOST}/a?b=1#c", ("Titel", f"{HOST}/a?b=1#c")),
        (
            "Titel",
            "http://localhost:5001/artikels/x",
            ("Titel", "http://localhost:5001/artikels/x"),
        ),
        (" Een\n\x00titel ", f"{HOST}/a", ("Een titel", f"{HOST}/a")),
        ("T" * 400, f"{HOST}/a", ("T" * 300, f"{HOST}/a")),
        ("Titel", "http://krant.example/a", None),  # scheme is part of the origin
        ("Titel", "https://krant.example:8443/a", None),
        ("Titel", "https://krant.example:xx/a", None),
        ("Titel", "//krant.example/a", None),
        ("Titel", "ftp://krant.example/a", None),
        ("Titel", f"{HOST}/" + "a" * 2001, None),
        (None, f"{HOST}/a", None),
        ("\x00\x01", f"{HOST}/a", None),
        ("Titel", None, None),
    ],
)
def test_embed_article_fields_rules(title: Any, url: Any, expected: Any) -> None:
    fields = embed_article_fields(title, url, _allowed)
    assert (None if fields is None else (fields.title, fields.url)) == expected


# ---------------------------------------------------------------- the embed token (i16-sso)


def _bearer(db: Session, user: User, **kwargs: Any) -> dict[str, str]:
    _, plain = issue_embed_session(db, user, EmbedVia.SSO, **kwargs)
    db.commit()
    return {"Authorization": f"Bearer {plain}"}


@pytest.fixture
def csrf_on(app_settings: dict[str, Any]) -> None:
    app_settings["WTF_CSRF_ENABLED"] = True


def test_bearer_reader_posts_without_cookie_or_csrf(
    csrf_on: None,
    client: FlaskClient,
    db: Session,
    article: Article,
    make_user: Callable[..., User],
) -> None:
    fan = make_user()
    auth = _bearer(db, fan)
    page = client.get(f"/embed/comments/{article.cms_id}", headers=auth)
    assert "Plaats reactie" in _text(page) and f"Aangemeld als <strong>{fan.username}" in _text(
        page
    )
    assert "Set-Cookie" not in page.headers
    posted = client.post(
        f"/embed/comments/{article.cms_id}/reacties", data={"body": CLEAN}, headers=auth
    )
    assert posted.status_code == 201, _text(posted)[:300]
    assert "Set-Cookie" not in posted.headers
    comment = db.scalar(select(Comment))
    assert comment is not None and comment.author_id == fan.id


def test_cookie_write_without_csrf_is_refused(
    csrf_on: None,
    client: FlaskClient,
    db: Session,
    article: Article,
    make_user: Callable[..., User],
) -> None:
    fan = make_user()
    client.post("/login", data={"login": fan.username, "password": "x"})  # no CSRF: refused
    response = _post(client, article, CLEAN)
    assert response.status_code in (400, 401, 403)
    assert db.scalar(select(Comment)) is None


@pytest.mark.parametrize("kind", ["expired", "forged"])
def test_bad_token_shows_the_anonymous_view_with_a_dutch_message(
    client: FlaskClient,
    db: Session,
    article: Article,
    make_user: Callable[..., User],
    kind: str,
) -> None:
    fan = make_user()
    if kind == "expired":
        auth = _bearer(db, fan, now=utcnow() - timedelta(hours=1))
    else:
        auth = {"Authorization": "Bearer tre_" + "A" * 43}
    page = client.get(f"/embed/comments/{article.cms_id}", headers=auth)
    assert page.status_code == 200
    html = _text(page)
    assert ("verlopen" if kind == "expired" else "ongeldig") in html
    assert 'role="alert"' in html and "Plaats reactie" not in html
    posted = client.post(
        f"/embed/comments/{article.cms_id}/reacties", data={"body": CLEAN}, headers=auth
    )
    assert posted.status_code == 401
    assert "meld je opnieuw aan om te reageren" in _text(posted)
    assert db.scalar(select(Comment)) is None


def test_registering_in_the_popup_comes_back_to_the_token_page(client: FlaskClient) -> None:
    start = client.get("/embed/aanmelden", query_string={"origin": HOST, "registreren": "1"})
    form_url = start.headers["Location"]
    page = _text(client.get(form_url))
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    assert action is not None and "next=/embed/aanmelden" in action.group(1).replace("%2F", "/")
    registered = client.post(
        action.group(1).replace("&amp;", "&"),
        data={
            "username": "Popupfan",
            "email": "popupfan@example.test",
            "password": TEST_PASSWORD,
            "password_repeat": TEST_PASSWORD,
        },
    )
    # Registering signs nobody in (no enumeration of addresses): the answer page leads to
    # the login with the same next, and signing in comes back to the token page.
    assert registered.status_code == 303
    sent = _text(client.get(registered.headers["Location"]))
    login_link = re.search(r'class="button" href="(/login\?next=[^"]+)"', sent)
    assert login_link is not None
    signed_in = client.post(
        login_link.group(1).replace("&amp;", "&"),
        data={"login": "Popupfan", "password": TEST_PASSWORD},
    )
    assert signed_in.status_code == 302
    back = signed_in.headers["Location"]
    assert back.startswith("/embed/aanmelden?origin=")
    token_page = _text(client.get(back))
    assert 'data-session-url="/embed/sessie"' in token_page and "Popupfan" in token_page
    assert f'data-host-origin="{HOST}"' in token_page


# ---------------------------------------------------------------- CORS (comments.js)

CORS_ROUTES = ["thread", "post", "edit", "delete", "report", "undelete", "appeal"]


def _route_path(name: str, article: Article, comment_id: int) -> tuple[str, str]:
    if name == "thread":
        return "GET", f"/embed/comments/{article.cms_id}"
    if name == "post":
        return "POST", f"/embed/comments/{article.cms_id}/reacties"
    segment = {
        "edit": "bewerken",
        "delete": "verwijderen",
        "report": "melden",
        "undelete": "terugzetten",
        "appeal": "bezwaar",
    }[name]
    return "POST", f"/embed/comments/reacties/{comment_id}/{segment}"


@pytest.mark.parametrize("name", CORS_ROUTES)
def test_cors_answers_allowed_host_origins_only_with_preflight(
    client: FlaskClient,
    db: Session,
    article: Article,
    make_user: Callable[..., User],
    name: str,
) -> None:
    fan = make_user()
    comment = create_comment(db, article, fan, CommentState.PUBLISHED, CLEAN_TEXTS[0])
    _, plain = issue_embed_session(db, fan, EmbedVia.LOGIN)
    db.commit()
    method, path = _route_path(name, article, comment.id)
    preflight = client.options(
        path,
        headers={
            "Origin": HOST,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, if-none-match",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == HOST
    assert method in preflight.headers["Access-Control-Allow-Methods"]
    allowed_headers = preflight.headers["Access-Control-Allow-Headers"]
    for header in ("Authorization", "Content-Type", "If-None-Match"):
        assert header in allowed_headers
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    foreign = client.options(
        path,
        headers={"Origin": "https://elders.example", "Access-Control-Request-Method": method},
    )
    assert "Access-Control-Allow-Origin" not in foreign.headers
    body = {"body": CLEAN_TEXTS[1], "reason": "spam"} if method == "POST" else None
    auth = {"Authorization": f"Bearer {plain}"}
    answer = client.open(path, method=method, data=body, headers={"Origin": HOST, **auth})
    assert answer.headers["Access-Control-Allow-Origin"] == HOST
    assert answer.headers["Access-Control-Expose-Headers"] == "ETag, Tribune-Refresh, Tribune-Live"
    assert "Origin" in answer.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in answer.headers
    assert "Set-Cookie" not in answer.headers
    other = client.open(
        path, method=method, data=body, headers={"Origin": "https://elders.example", **auth}
    )
    assert "Access-Control-Allow-Origin" not in other.headers


def test_star_echoes_the_origin_and_anonymous_cross_origin_reads_set_no_cookie(
    app: Any, client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    app.config["EMBED_ALLOWED_ORIGINS"] = "*"
    create_comment(db, article, make_user(), CommentState.PUBLISHED, CLEAN_TEXTS[0])
    answer = client.get(
        f"/embed/comments/{article.cms_id}?fragment=1", headers={"Origin": "https://x.example"}
    )
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "https://x.example"
    assert "Set-Cookie" not in answer.headers
    # Even a cookie that rides along is not read: the host page's fetch is anonymous.
    fan = make_user()
    login(client, fan)
    cross = client.get(
        f"/embed/comments/{article.cms_id}?fragment=1", headers={"Origin": "https://x.example"}
    )
    assert fan.username not in _text(cross) and "Set-Cookie" not in cross.headers
    assert fan.username in _text(client.get(f"/embed/comments/{article.cms_id}?fragment=1"))
    # The stylesheet comments.js adopts is readable from any page.
    css = client.get("/static/css/embed-comments.css", headers={"Origin": "https://x.example"})
    assert css.headers["Access-Control-Allow-Origin"] == "*"
    css.close()


def test_the_anonymous_fragment_is_kept_until_the_thread_or_its_mode_changes(
    client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    author = make_user()
    create_comment(db, article, author, CommentState.PUBLISHED, CLEAN_TEXTS[0])
    first = _text(_embed(client, article.cms_id, fragment="1"))
    assert first.count('<li class="comment"') == 1
    # Kept (the thread cache, by thread version): a change that does not raise the version,
    # like a rename, shows only when the entry ends (TRIBUNE_THREAD_CACHE_SECONDS), as in the API.
    old_name = author.username
    reload(db, User, author.id).username = "Hernoemd"
    db.commit()
    assert _text(_embed(client, article.cms_id, fragment="1")) == first
    assert old_name in first
    # A new comment raises the thread version: the next reader sees it at once.
    create_comment(db, article, author, CommentState.PUBLISHED, CLEAN_TEXTS[1])
    assert _text(_embed(client, article.cms_id, fragment="1")).count('<li class="comment"') == 2
    # What the clock or a setting changes without touching the thread is in the key too.
    reload(db, Article, article.id).comment_mode = CommentMode.CLOSED
    db.commit()
    closed = _text(_embed(client, article.cms_id, fragment="1"))
    assert "Reageren op dit artikel is gesloten." in closed
    # A signed-in reader never gets the shared fragment.
    fan = make_user()
    _, plain = issue_embed_session(db, fan, EmbedVia.LOGIN)
    db.commit()
    mine = _embed_as(client, article.cms_id, plain)
    assert fan.username in mine
    assert fan.username not in _text(_embed(client, article.cms_id, fragment="1"))


def _embed_as(client: FlaskClient, article_id: str, plain: str) -> str:
    return _text(
        client.get(
            f"/embed/comments/{article_id}?fragment=1",
            headers={"Authorization": f"Bearer {plain}"},
        )
    )


# ---------------------------------------------------------------- comments.js's lean answers


def test_bearer_post_answers_only_the_new_comment_not_the_thread(
    client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    others = [create_comment(db, article, make_user(), CommentState.PUBLISHED) for _ in range(3)]
    fan = make_user()
    auth = _bearer(db, fan)
    posted = client.post(
        f"/embed/comments/{article.cms_id}/reacties", data={"body": CLEAN}, headers=auth
    )
    assert posted.status_code == 201
    html = _text(posted)
    comment = db.scalar(select(Comment).where(Comment.author_id == fan.id))
    assert comment is not None and comment.state is CommentState.PUBLISHED
    assert 'id="tribune-change"' in html and 'id="tribune-embed"' not in html
    assert html.count('class="comment"') == 1
    assert f'<li class="comment" id="reactie-{comment.id}">' in html
    for other in others:
        assert f"reactie-{other.id}" not in html
    assert "Je reactie staat online." in html
    assert 'data-place="thread"' in html and 'data-count="4"' in html
    assert 'data-count-label="4 reacties"' in html
    assert f'data-focus="reactie-{comment.id}"' in html and 'data-own-post="1"' in html
    # The same partial as the thread: the author's own edit control and delete link are there
    # (the form itself comes from the thread's <template>, as for every comment).
    assert f'<details data-form="edit" data-body="{CLEAN}"><summary>Bewerken' in html
    assert f'href="/embed/comments/reacties/{comment.id}/verwijderen"' in html
    # A reply names its parent and holds only itself.
    reply = client.post(
        f"/embed/comments/{article.cms_id}/reacties",
        data={"body": CLEAN_TEXTS[1], "parent_id": str(others[0].id)},
        headers=auth,
    )
    assert reply.status_code == 201
    answer = _text(reply)
    assert f'data-parent="{others[0].id}"' in answer and 'data-kind="reply"' in answer
    assert answer.count('class="comment"') == 1 and f"reactie-{comment.id}" not in answer


def test_bearer_post_held_or_rejected_answers_the_pending_card(
    client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    create_comment(db, article, make_user(), CommentState.PUBLISHED)
    auth = _bearer(db, make_user())
    rejected = _text(
        client.post(
            f"/embed/comments/{article.cms_id}/reacties", data={"body": REJECT_TEXT}, headers=auth
        )
    )
    assert 'data-place="pending"' in rejected and 'class="comment"' not in rejected
    assert "Jouw reacties in behandeling" in rejected and "Niet geplaatst: " in rejected
    comment = db.scalar(select(Comment).where(Comment.state == CommentState.REJECTED))
    assert comment is not None
    assert f'action="/embed/comments/reacties/{comment.id}/bezwaar"' in rejected
    assert 'class="notice error" role="alert"' in rejected
    held = _text(
        client.post(
            f"/embed/comments/{article.cms_id}/reacties", data={"body": HOLD_TEXT}, headers=auth
        )
    )
    assert "Je reactie wordt eerst nagekeken door een moderator." in held
    assert "Wacht op nakijken door een moderator." in held and 'data-count="1"' in held


def test_bearer_refusal_answers_only_the_refused_form_with_the_text(
    client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    theirs = create_comment(db, article, make_user(), CommentState.PUBLISHED)
    auth = _bearer(db, make_user())
    refused = client.post(
        f"/embed/comments/{article.cms_id}/reacties", data={"body": "x"}, headers=auth
    )
    assert refused.status_code == 422
    html = _text(refused)
    assert 'id="tribune-refused" data-replace="reageer"' in html
    assert 'id="tribune-embed"' not in html and f"reactie-{theirs.id}" not in html
    assert re.search(r'<textarea[^>]*aria-invalid="true"[^>]*>\s*x</textarea>', html)
    assert 'class="form-error"' in html and 'action="/embed/comments/' in html
    reply = client.post(
        f"/embed/comments/{article.cms_id}/reacties",
        data={"body": "y", "parent_id": str(theirs.id)},
        headers=auth,
    )
    assert reply.status_code == 422
    answer = _text(reply)
    assert f'data-replace="antwoord-{theirs.id}"' in answer and "<details open>" in answer
    assert re.search(r'<textarea[^>]*aria-invalid="true"[^>]*>\s*y</textarea>', answer)
    assert f'id="reply-{theirs.id}"' in answer
    assert 'class="comment"' not in answer
    assert db.scalar(select(Comment).where(Comment.id != theirs.id)) is None


def test_bearer_thread_renders_the_per_comment_forms_once_as_templates(
    client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    for _ in range(3):
        create_comment(db, article, make_user(), CommentState.PUBLISHED)
    fan = make_user()
    mine = create_comment(db, article, fan, CommentState.PUBLISHED)
    html = _text(
        client.get(
            f"/embed/comments/{article.cms_id}",
            query_string={"fragment": "1"},
            headers=_bearer(db, fan),
        )
    )
    assert html.count('<template id="vorm-reply"') == 1
    assert html.count('<template id="vorm-edit"') == 1
    assert html.count('<template id="vorm-report"') == 1
    # One form each (in the templates) plus the top-level post form and the appeal form of
    # the rejected-comment template, not one per comment.
    assert html.count("<form ") == 5
    # Per comment, plus one in the new comment's template.
    assert html.count('<details data-form="reply"') == 5
    assert html.count('<details data-form="report"') == 3
    assert html.count('<details data-form="edit"') == 2 and f"reactie-{mine.id}" in html
    # The article page (no script needed) keeps its forms per comment.
    login(client, fan)
    page = _text(client.get(f"/artikels/{article.cms_id}"))
    assert "data-form=" not in page and f'id="antwoord-{mine.id}"' in page
    assert f'id="bewerk-{mine.id}"' in page


def test_bearer_thread_carries_the_templates_of_the_readers_new_comment(
    client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    fan = make_user()
    html = _text(
        client.get(
            f"/embed/comments/{article.cms_id}",
            query_string={"fragment": "1"},
            headers=_bearer(db, fan),
        )
    )
    # comments.js builds the reader's posted comment from these (docs/embed.md).
    comment = re.search(r'<template id="vorm-comment"([^>]*)>(.*?)</template>', html, re.S)
    assert comment is not None
    assert 'data-notice="Je reactie staat online."' in comment.group(1)
    assert 'data-count-one="1 reactie"' in comment.group(1)
    assert 'data-count-many="999999999 reacties"' in comment.group(1)
    assert '<li class="comment" id="reactie-999999999">' in comment.group(2)
    assert f"<strong>{fan.username}</strong>" in comment.group(2)
    assert "antwoord op __REDEN__" in comment.group(2)
    assert "/embed/comments/reacties/999999999/verwijderen" in comment.group(2)
    held = re.search(r'<template id="vorm-held-signals"[^>]*>(.*?)</template>', html, re.S)
    assert held is not None and "Signalen: __REDEN__." in held.group(1)
    rejected = re.search(r'<template id="vorm-rejected"[^>]*>(.*?)</template>', html, re.S)
    assert rejected is not None and "Niet geplaatst: __REDEN__." in rejected.group(1)
    assert "/embed/comments/reacties/999999999/bezwaar" in rejected.group(1)
    labels = re.search(r'data-reasons="([^"]*)"', html)
    assert labels is not None
    assert json.loads(unescape(labels.group(1)))["racisme"] == "Racisme of haat"
    # Not for an anonymous reader (the cached fragment every host page loads first).
    anonymous = _text(client.get(f"/embed/comments/{article.cms_id}?fragment=1"))
    assert "<template" not in anonymous


def test_the_sign_in_popup_shows_login_and_registration_without_the_site_layout(
    client: FlaskClient,
) -> None:
    popup = "/embed/aanmelden?origin=https://krant.example"
    login_page = _text(client.get("/login", query_string={"next": popup}))
    register_page = _text(client.get("/registreren", query_string={"next": popup}))
    for html in (login_page, register_page):
        assert 'class="popup"' in html and "Tribune · aanmelden om te reageren" in html
        assert "site-header" not in html and "site-footer" not in html
        assert "Hoofdmenu" not in html
    assert 'name="password"' in login_page
    # Both keep the way back to the popup's token page.
    assert "aanmelden%3Forigin" in login_page or "/embed/aanmelden?origin" in login_page
    # The same pages opened from the site keep the site's layout.
    site = _text(client.get("/login"))
    assert "site-header" in site and 'class="popup"' not in site
