"""Poll pages: embed (framing, token checks, no-JS form), article-page form, /redactie/, CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import Article, Ballot, CommentMode, Poll, Role, User, VoterScope, utcnow
from polls import services as polls
from polls.export import neutralise
from tests.conftest import login
from tests.polls_fixtures import (
    assert_no_drift,
    audit_rows,
    ballots,
    make_poll_fixture,  # noqa: F401
    option_ids,
    vote,
    voter_token,
)

FORM_TOKEN = re.compile(r'name="form_token"[^>]*value="([^"]+)"')
SAME_ORIGIN = {"Origin": "http://localhost"}


def form_token(client: FlaskClient, poll_id: int) -> str:
    match = FORM_TOKEN.search(client.get(f"/embed/polls/{poll_id}").get_data(as_text=True))
    assert match
    return match.group(1)


# ---------------------------------------------------------------- framing


@pytest.fixture
def framed(app_settings: dict[str, Any]) -> dict[str, Any]:
    app_settings["EMBED_ALLOWED_ORIGINS"] = "https://www.kvm.be, https://*.voetbalkrant.be bad;x"
    return app_settings


def test_by_default_no_foreign_site_may_frame_the_embed(
    client: FlaskClient, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll()
    embed = client.get(f"/embed/polls/{poll.id}")
    assert embed.status_code == 200
    assert embed.headers["Content-Security-Policy"].endswith("; frame-ancestors 'none'")


@pytest.mark.usefixtures("framed")
def test_framing_headers_per_route(client: FlaskClient, make_poll: Callable[..., Poll]) -> None:
    poll = make_poll()
    embed = client.get(f"/embed/polls/{poll.id}")
    assert embed.status_code == 200
    assert embed.headers["Content-Security-Policy"].endswith(
        "; frame-ancestors https://www.kvm.be https://*.voetbalkrant.be"
    )
    assert "X-Frame-Options" not in embed.headers
    for path in ("/", f"/api/v1/polls/{poll.id}", "/redactie/", "/login"):
        response = client.get(path)
        assert response.headers["X-Frame-Options"] == "DENY", path
        policy = response.headers["Content-Security-Policy"]
        assert policy.endswith("; frame-ancestors 'none'"), path


@pytest.mark.usefixtures("framed")
def test_embed_posts_height_only_to_an_allowed_parent(
    client: FlaskClient, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll()
    allowed = client.get(f"/embed/polls/{poll.id}?origin=https://sport.voetbalkrant.be")
    assert 'data-parent-origin="https://sport.voetbalkrant.be"' in allowed.get_data(as_text=True)
    for origin in ("https://evil.example", "javascript:alert(1)", "https://www.kvm.be/path"):
        page = client.get(f"/embed/polls/{poll.id}", query_string={"origin": origin})
        assert 'data-parent-origin=""' in page.get_data(as_text=True)


def test_embed_page_is_an_accessible_form(
    client: FlaskClient, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll(options=("A", "B", "C"), max_choices=2)
    html = client.get(f"/embed/polls/{poll.id}").get_data(as_text=True)
    assert "<fieldset>" in html and "<legend>" in html
    assert html.count('type="checkbox"') == 3
    assert 'aria-live="polite"' in html
    assert "Kies maximaal 2 antwoorden" in html


# ---------------------------------------------------------------- the no-JS embed form


def test_embed_form_vote_without_javascript(
    app: Flask, client: FlaskClient, db: Session, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll()
    token = form_token(client, poll.id)
    response = client.post(
        f"/embed/polls/{poll.id}",
        data={"form_token": token, "option": str(option_ids(poll)[1])},
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    assert "Bedankt, je stem is geteld." in html
    assert "Jouw stem: Nee" in html
    cookie = response.headers["Set-Cookie"]
    assert "Partitioned" in cookie and "SameSite=None" in cookie and "Secure" in cookie
    voter = re.search(r"tribune_voter_\d+=([^;]+);", cookie)
    assert voter and voter.group(1)
    again = client.post(
        f"/embed/polls/{poll.id}",
        data={"form_token": token, "voter_token": voter.group(1), "option": "x"},
        headers=SAME_ORIGIN,
    )
    assert again.status_code == 422
    repeat = client.post(
        f"/embed/polls/{poll.id}",
        data={
            "form_token": token,
            "voter_token": voter.group(1),
            "option": str(option_ids(poll)[0]),
        },
        headers=SAME_ORIGIN,
    )
    assert repeat.status_code == 200
    assert len(ballots(db, poll.id)) == 1
    assert_no_drift(app)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"form_token": "forged"}, 400),
        ({"headers": {"Origin": "https://evil.example"}}, 403),
        ({"headers": {"Sec-Fetch-Site": "cross-site"}}, 403),
        ({"headers": {}}, 403),
        ({"voter_token": "forged"}, 403),
        ({"option": []}, 200),
    ],
)
def test_embed_form_token_checks(
    client: FlaskClient,
    db: Session,
    make_poll: Callable[..., Poll],
    change: dict,
    status: int,
) -> None:
    poll = make_poll()
    data: dict[str, Any] = {
        "form_token": form_token(client, poll.id),
        "option": option_ids(poll)[0],
    }
    headers = change.pop("headers", SAME_ORIGIN)
    data.update(change)
    response = client.post(f"/embed/polls/{poll.id}", data=data, headers=headers)
    if status == 200:  # no option chosen: the form again, with a Dutch error
        assert response.status_code == 422
        assert "antwoord" in response.get_data(as_text=True)
    else:
        assert response.status_code == status
    assert ballots(db, poll.id) == []


def test_form_token_of_another_poll_is_refused(
    client: FlaskClient, db: Session, make_poll: Callable[..., Poll]
) -> None:
    poll, other = make_poll(), make_poll()
    response = client.post(
        f"/embed/polls/{poll.id}",
        data={"form_token": form_token(client, other.id), "option": option_ids(poll)[0]},
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 400


def test_members_only_embed_links_to_the_article_page(
    client: FlaskClient, db: Session, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll(voter_scope=VoterScope.LOGGED_IN)
    html = client.get(f"/embed/polls/{poll.id}").get_data(as_text=True)
    article = db.get(Article, poll.article_id)
    assert "Enkel aangemelde fans kunnen stemmen" in html
    assert f"/artikels/{article.cms_id}#peiling-{poll.id}" in html
    assert 'class="poll-form"' not in html


# ---------------------------------------------------------------- article page


def test_article_page_form_vote_without_javascript(
    app: Flask, client: FlaskClient, db: Session, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll()
    article = db.get(Article, poll.article_id)
    page = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    assert 'class="poll-form"' in page and 'type="radio"' in page
    response = client.post(
        f"/artikels/{article.cms_id}/peilingen/{poll.id}", data={"option": option_ids(poll)[0]}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#peiling-{poll.id}")
    page = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    assert "Bedankt, je stem is geteld." in page
    assert "Jouw stem: Ja" in page
    assert 'class="poll-form"' not in page
    client.post(
        f"/artikels/{article.cms_id}/peilingen/{poll.id}", data={"option": option_ids(poll)[1]}
    )
    assert len(ballots(db, poll.id)) == 1
    assert_no_drift(app)


def test_article_page_bad_vote_is_a_dutch_message(
    client: FlaskClient, db: Session, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll()
    article = db.get(Article, poll.article_id)
    url = f"/artikels/{article.cms_id}/peilingen/{poll.id}"
    assert client.post(url, data={"option": "abc"}).status_code == 303
    assert "Kies een geldig antwoord." in client.get(f"/artikels/{article.cms_id}").get_data(
        as_text=True
    )
    assert client.post(f"/artikels/{article.cms_id}/peilingen/999999").status_code == 404
    assert client.post(f"/artikels/bestaat-niet/peilingen/{poll.id}").status_code == 404


# ---------------------------------------------------------------- /redactie/


@pytest.fixture
def editor_client(client: FlaskClient, make_user: Callable[..., User]) -> FlaskClient:
    login(client, make_user(Role.EDITOR))
    return client


def test_editor_creates_a_poll_in_brussels_time(
    editor_client: FlaskClient, db: Session, make_article: Callable[..., Article]
) -> None:
    article = make_article()
    response = editor_client.post(
        f"/redactie/artikels/{article.cms_id}/peilingen/nieuw",
        data={
            "question": "Wie wint de derby?",
            "option_0": "KVM",
            "option_1": "Antwerp",
            "option_2": "",
            "max_choices": "1",
            "opens_at": "2030-07-01T20:30",  # summer: UTC+2
            "closes_at": "2030-12-01T20:30",  # winter: UTC+1
            "results_visibility": "after_vote",
            "voter_scope": "everyone",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    poll = db.scalars(__import__("sqlalchemy").select(Poll)).one()
    assert poll.opens_at.isoformat() == "2030-07-01T18:30:00+00:00"
    assert poll.closes_at.isoformat() == "2030-12-01T19:30:00+00:00"
    assert [o.label for o in poll.options] == ["KVM", "Antwerp"]
    page = editor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="2030-07-01T20:30"' in page
    assert f"data-tribune-poll=&#34;{poll.id}&#34;" in page  # the snippet, escaped
    assert "gepland" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("opens_at", "2030-03-31T02:30", "zomertijd"),
        ("opens_at", "morgen", "datum"),
        ("option_1", "", "antwoorden"),
        ("question", "", "vraag"),
    ],
)
def test_editor_form_errors_are_dutch_422(
    editor_client: FlaskClient,
    make_article: Callable[..., Article],
    field: str,
    value: str,
    message: str,
) -> None:
    article = make_article()
    data = {"question": "Vraag?", "option_0": "A", "option_1": "B", "max_choices": "1"}
    data[field] = value
    response = editor_client.post(f"/redactie/artikels/{article.cms_id}/peilingen/nieuw", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True).lower()


def test_editor_pages_close_reopen_results_quarantine(
    app: Flask,
    editor_client: FlaskClient,
    db: Session,
    make_poll: Callable[..., Poll],
) -> None:
    poll = make_poll()
    vote(editor_client, poll.id, option_ids(poll)[:1])  # the editor votes as a fan too
    anon = app.test_client()
    for _ in range(2):
        vote(anon, poll.id, option_ids(poll)[1:2], voter_token(anon, poll.id))
    rows = ballots(db, poll.id)
    rows[2].is_suspicious, rows[2].suspicion = True, "burst"
    db.commit()

    assert editor_client.get("/redactie/").status_code == 200
    results = editor_client.get(f"/redactie/peilingen/{poll.id}/resultaten")
    html = results.get_data(as_text=True)
    assert results.status_code == 200
    assert "<svg" in html and "Stemmen per uur" in html
    assert "aangemelde fans" in html and "piek nieuwe stemmers" in html

    response = editor_client.post(
        f"/redactie/peilingen/{poll.id}/quarantaine",
        data={"action": "quarantine", "scope": "selected", "ballot": str(rows[2].id)},
    )
    assert response.status_code == 303
    db.rollback()
    db.expire_all()
    assert db.get(Ballot, rows[2].id).quarantined_at is not None
    assert db.get(Poll, poll.id).ballot_count == 2
    editor_client.post(
        f"/redactie/peilingen/{poll.id}/quarantaine",
        data={"action": "release", "scope": "suspicious"},
    )
    db.rollback()
    db.expire_all()
    assert db.get(Poll, poll.id).ballot_count == 3
    assert_no_drift(app)

    # Frozen: the question cannot change, the closing time can.
    frozen = editor_client.post(
        f"/redactie/peilingen/{poll.id}",
        data={"closes_at": "2031-01-01T12:00", "results_visibility": "never"},
    )
    assert frozen.status_code == 303
    db.rollback()
    db.expire_all()
    assert db.get(Poll, poll.id).results_visibility.value == "never"
    assert editor_client.post(f"/redactie/peilingen/{poll.id}/sluiten").status_code == 303
    assert editor_client.post(f"/redactie/peilingen/{poll.id}/heropenen").status_code == 303
    assert (
        editor_client.post(
            f"/redactie/peilingen/{poll.id}/verwijderen", data={"bevestigd": "ja"}
        ).status_code
        == 303
    )
    db.rollback()
    db.expire_all()
    assert db.get(Poll, poll.id) is not None  # has ballots: not deleted
    actions = [r.action for r in audit_rows(db, "poll")]
    assert {"close_poll", "reopen_poll", "update_poll", "quarantine", "release"} <= set(actions)


def test_editor_sets_the_comment_mode_with_audit(
    editor_client: FlaskClient, db: Session, make_article: Callable[..., Article]
) -> None:
    article = make_article()
    response = editor_client.post(
        f"/redactie/artikels/{article.cms_id}/reactiemodus", data={"mode": "premoderated"}
    )
    assert response.status_code == 303
    db.rollback()
    db.expire_all()
    assert db.get(Article, article.id).comment_mode is CommentMode.PREMODERATED
    rows = audit_rows(db, "article", "set_comment_mode")
    assert [(r.from_state, r.to_state) for r in rows] == [("open", "premoderated")]
    bad = editor_client.post(
        f"/redactie/artikels/{article.cms_id}/reactiemodus", data={"mode": "chaos"}
    )
    assert bad.status_code == 303


# ---------------------------------------------------------------- CSV


def test_neutralise() -> None:
    assert neutralise("=SUM(A1)") == "'=SUM(A1)"
    assert neutralise("+32 15") == "'+32 15"
    assert neutralise("-1") == "'-1"
    assert neutralise("@cmd") == "'@cmd"
    assert neutralise("Ja") == "Ja"
    assert neutralise(12) == "12"


def test_csv_exports(
    app: Flask,
    editor_client: FlaskClient,
    db: Session,
    make_poll: Callable[..., Poll],
) -> None:
    poll = make_poll(options=('=HYPERLINK("x")', "Nee; zeker niet", "@ja"), max_choices=2)
    ids = option_ids(poll)
    vote(editor_client, poll.id, [ids[0], ids[2]])
    anon = app.test_client()
    vote(anon, poll.id, [ids[1]], voter_token(anon, poll.id))

    response = editor_client.get(f"/redactie/peilingen/{poll.id}/resultaten.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[2] == ['\'=HYPERLINK("x")', "1", "50", "1", "100"]
    assert rows[3][0] == "Nee; zeker niet"
    assert rows[4][0] == "'@ja"

    ballots_csv = editor_client.get(f"/redactie/peilingen/{poll.id}/stemmen.csv").get_data()
    lines = list(csv.reader(io.StringIO(ballots_csv.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == [
        "tijdstip (Brussel)",
        "antwoorden",
        "type stemmer",
        "verdacht",
        "quarantaine",
    ]
    assert sorted(line[2] for line in lines[1:]) == ["aangemeld", "anoniem"]
    text = ballots_csv.decode("utf-8-sig")
    for ballot in ballots(db, poll.id):
        assert ballot.voter_key not in text
        assert (ballot.ip_hash or "-") not in text
    assert "'=HYPERLINK" in text


def test_quarantine_changes_the_counters_recount_agrees(
    app: Flask, db: Session, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll()
    moved = polls.set_quarantine(
        db, poll.id, True, polls.QuarantineScope.SUSPICIOUS, [], None, utcnow()
    )
    db.commit()
    assert moved == []
    assert_no_drift(app)


def test_a_views_own_security_header_is_kept_and_the_rest_added(app: Flask) -> None:
    @app.get("/eigen-kop")
    def own_header():  # type: ignore[no-untyped-def]
        return "ok", 200, {"Content-Security-Policy": "default-src 'self'"}

    response = app.test_client().get("/eigen-kop")

    assert response.headers.getlist("Content-Security-Policy") == ["default-src 'self'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def own_bar(html: str, label: str) -> str:
    """The figure of `label`'s bar in the stand (percent and count)."""
    match = re.search(
        rf'poll-bar-label">{re.escape(label)}</span>\s*<span class="poll-bar-figure">([^<]*)'
        r'<span class="poll-bar-count">\((\d+)\)',
        html,
    )
    assert match, html
    return f"{match.group(1).strip()} ({match.group(2)})"


def test_embed_answer_after_a_vote_counts_that_vote(
    app: Flask, client: FlaskClient, db: Session, make_poll: Callable[..., Poll]
) -> None:
    """The no-JS answer reads the counters after the vote (issue 15, point 10)."""
    poll = make_poll(options=("Ja", "Nee", "Geen idee"))
    vote(client, poll.id, [option_ids(poll)[0]], voter_token(client, poll.id))
    token = form_token(client, poll.id)
    response = client.post(
        f"/embed/polls/{poll.id}",
        data={"form_token": token, "option": str(option_ids(poll)[2])},
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    assert "Bedankt, je stem is geteld." in html
    assert own_bar(html, "Geen idee") == "50% (1)"
    assert own_bar(html, "Ja") == "50% (1)"
    assert "2 stemmen" in html
    voter = re.search(r"tribune_voter_\d+=([^;]+);", response.headers["Set-Cookie"])
    assert voter
    repeat = client.post(
        f"/embed/polls/{poll.id}",
        data={"form_token": token, "voter_token": voter.group(1), "option": option_ids(poll)[1]},
        headers=SAME_ORIGIN,
    )
    assert repeat.status_code == 200
    again = repeat.get_data(as_text=True)
    assert own_bar(again, "Geen idee") == "50% (1)" and own_bar(again, "Nee") == "0% (0)"
    assert_no_drift(app)
