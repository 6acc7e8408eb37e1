"""The queue pages: tabs, filters, sorts, paging, highlighting, counts, history, stats, word
lists, and the permission matrix on every /moderatie/ route."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import create_app
from comments.services import report_comment
from dsa.notices import NoticeInput, file_notice
from models import (
    Article,
    Comment,
    CommentState,
    Flag,
    LexiconAction,
    LexiconEntry,
    MatchDayMode,
    ModerationAction,
    ReasonCode,
    ReportOutcome,
    Role,
    User,
    utcnow,
)
from moderation import actions
from moderation.actions import SUSPENSIONS
from moderation.comment_states import TRANSITIONS, transition
from moderation.rules import PostingPolicy
from moderation.runtime import add_entry
from moderation.triage import PAGE_SIZE, highlight, tab_counts
from tests.conftest import login
from tests.factories import (
    HOLD_TEXT,
    assert_no_drift,
    create_comment,
    error_code,
    fresh,
    post_comment,
)
from views.templating import ACTION_LABELS_NL, STATE_LABELS_NL

JSON = {"Accept": "application/json"}
ITEM = re.compile(r'id="item-(\d+)"')
T0 = utcnow().replace(microsecond=0) - timedelta(days=2)


pytestmark = pytest.mark.usefixtures("own_redis_keys")


@pytest.fixture
def moderator(make_user: Callable[..., User]) -> User:
    return make_user(Role.MODERATOR, username="modAnne")


@pytest.fixture
def mod_client(client: FlaskClient, moderator: User) -> FlaskClient:
    login(client, moderator)
    return client


def held(
    db: Session,
    article: Article,
    author: User,
    queued_at: datetime,
    severity: int = 20,
    reason: str = "beledigend",
    score: float = 0.0,
    body: str = "Wat een sukkel, die scheids",
    spans: tuple[tuple[int, int], ...] = (),
) -> Comment:
    """A held comment that entered the queue at `queued_at`, with flags as screening stores."""
    comment = Comment(
        article_id=article.id,
        author_id=author.id,
        body=body,
        created_at=queued_at,
        updated_at=queued_at,
        top_severity=severity,
        top_reason=reason,
        flags=[
            Flag(
                code="insult",
                reason=ReasonCode(reason),
                severity=severity,
                detail="sukkel",
                span_start=start,
                span_end=end,
            )
            for start, end in spans or ((None, None),)
        ],
    )
    transition(db, comment, CommentState.HELD, "post", None, now=queued_at)
    comment.report_score = score
    db.commit()
    return comment


def listed(client: FlaskClient, query: str = "") -> list[int]:
    response = client.get(f"/moderatie/?{query}")
    assert response.status_code == 200
    return [int(i) for i in ITEM.findall(response.get_data(as_text=True))]


# ---------------------------------------------------------------- tabs and counts


@pytest.fixture
def every_tab(
    db: Session,
    moderator: User,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> dict[str, Comment]:
    """One comment for each place a comment can be in the queue."""
    article, author, reader = make_article(), make_user(), make_user()
    made = {
        "held": held(db, article, author, T0),
        "reported": create_comment(db, article, author, CommentState.PUBLISHED),
        "new": create_comment(db, article, author, CommentState.PUBLISHED),
        "reviewed": create_comment(db, article, author, CommentState.PUBLISHED),
        "rejected": create_comment(db, article, author, CommentState.REJECTED),
        "removed": create_comment(db, article, author, CommentState.REMOVED, actor=moderator),
        "appealed": create_comment(db, article, author, CommentState.REJECTED),
        "deleted": create_comment(db, article, author, CommentState.DELETED),
    }
    report_comment(db, made["reported"].id, reader, "spam", None, PostingPolicy())
    actions.approve(db, moderator, made["reviewed"].id)
    actions.file_appeal(db, author, made["appealed"].id, "Dit was een grap onder vrienden.")
    db.commit()
    return made


EXPECTED_TABS = {
    "wachtrij": ["held"],
    "gemeld": ["reported"],
    "recent": ["new", "reported"],
    "goedgekeurd": ["reviewed"],
    "afgewezen": ["appealed", "removed", "rejected"],
    "bezwaren": ["appealed"],
}


@pytest.mark.parametrize("tab", list(EXPECTED_TABS))
def test_each_tab_lists_its_comments(
    mod_client: FlaskClient, every_tab: dict[str, Comment], tab: str
) -> None:
    ids = listed(mod_client, f"tab={tab}")

    assert sorted(ids) == sorted(every_tab[name].id for name in EXPECTED_TABS[tab])
    assert every_tab["deleted"].id not in ids


def test_counts_come_from_the_counter_rows_and_match_the_tabs(
    mod_client: FlaskClient, db: Session, every_tab: dict[str, Comment]
) -> None:
    page = mod_client.get("/moderatie/").get_data(as_text=True)
    response = mod_client.get("/moderatie/tellers")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    body = response.get_json()
    fresh(db)
    assert body["tabs"] == tab_counts(db)
    assert body["tabs"] == {tab: len(names) for tab, names in EXPECTED_TABS.items()}
    for tab, count in body["tabs"].items():
        assert f'data-count-for="{tab}">{count}<' in page
    waited = (utcnow() - T0).total_seconds()
    assert waited - 5 <= body["oldest_waiting_seconds"] <= waited + 5
    minutes = int((utcnow() - T0).total_seconds() // 60)
    assert any(f"oudste wacht {m} min" in page for m in (minutes - 1, minutes))
    assert_no_drift(db)


def test_counts_follow_decisions(
    mod_client: FlaskClient, db: Session, every_tab: dict[str, Comment]
) -> None:
    mod_client.post(f"/moderatie/reacties/{every_tab['held'].id}/goedkeuren", headers=JSON)
    mod_client.post(
        f"/moderatie/reacties/{every_tab['reported'].id}/meldingen-afwijzen", headers=JSON
    )

    body = mod_client.get("/moderatie/tellers").get_json()

    assert body["tabs"] == {
        "wachtrij": 0,
        "gemeld": 0,
        "recent": 1,
        "goedgekeurd": 3,
        "afgewezen": 3,
        "bezwaren": 1,
    }
    assert body["oldest_waiting_seconds"] is None
    assert_no_drift(db)


# ---------------------------------------------------------------- filters, sorts, pages


@pytest.fixture
def sortable(
    db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> dict[str, Any]:
    """Held comments whose queue time, report score and severity all order them differently."""
    home, away = make_article(cms_id="kvm-antwerp"), make_article(cms_id="club-genk")
    jan, piet = make_user(username="Jan"), make_user(username="Piet")
    comments = {
        "a": held(db, home, jan, T0, severity=20, reason="beledigend", score=0.5),
        "b": held(db, away, piet, T0 + timedelta(minutes=1), 30, "racisme", 3.0),
        "c": held(db, home, piet, T0 + timedelta(minutes=2), 20, "spam", 5.0),
        "d": held(db, away, jan, T0 + timedelta(minutes=3), 25, "beledigend", 1.0),
    }
    return {"comments": comments, "home": home, "jan": jan}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "abcd"),
        ("sort=oudste", "abcd"),
        ("sort=meldscore", "cbda"),
        ("sort=ernst", "bdac"),
        ("sort=onbekend", "abcd"),
        ("artikel=kvm-antwerp", "ac"),
        ("artikel=bestaat-niet", ""),
        ("reden=beledigend", "ad"),
        ("reden=racisme", "b"),
        ("reden=nonsens", "abcd"),
        ("auteur=jan", "ad"),
        ("auteur=+PIET+", "bc"),
        ("auteur=niemand", ""),
        ("artikel=club-genk&auteur=Jan&reden=beledigend", "d"),
        ("artikel=kvm-antwerp&sort=meldscore", "ca"),
        ("reden=beledigend&sort=ernst", "da"),
    ],
)
def test_filters_and_sorts(
    mod_client: FlaskClient, sortable: dict[str, Any], query: str, expected: str
) -> None:
    comments = sortable["comments"]

    assert listed(mod_client, f"tab=wachtrij&{query}") == [comments[k].id for k in expected]


def test_the_filter_form_keeps_what_was_chosen(
    mod_client: FlaskClient, sortable: dict[str, Any]
) -> None:
    page = mod_client.get("/moderatie/?artikel=kvm-antwerp&reden=spam&sort=ernst").get_data(
        as_text=True
    )

    assert 'name="artikel" value="kvm-antwerp"' in page
    assert '<option value="spam" selected>' in page
    assert '<option value="ernst" selected>' in page


def test_gemeld_sorts_by_report_score(
    mod_client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article, author = make_article(), make_user()
    old = utcnow() - timedelta(days=400)
    readers = [make_user(created_at=old) for _ in range(3)]
    once = create_comment(db, article, author, CommentState.PUBLISHED)
    twice = create_comment(db, article, author, CommentState.PUBLISHED)
    policy = PostingPolicy()
    report_comment(db, once.id, readers[0], "spam", None, policy)
    for reader in readers[1:]:
        report_comment(db, twice.id, reader, "spam", None, policy)
    db.commit()

    assert listed(mod_client, "tab=gemeld") == [once.id, twice.id]
    assert listed(mod_client, "tab=gemeld&sort=meldscore") == [twice.id, once.id]


def test_pages_of_25_in_queue_order(
    mod_client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article, author = make_article(), make_user()
    # Inserted newest first, so the order cannot come from the ids.
    comments = [
        held(db, article, author, T0 + timedelta(minutes=30 - i)) for i in range(PAGE_SIZE + 2)
    ]
    oldest_first = [c.id for c in reversed(comments)]

    first = mod_client.get("/moderatie/?tab=wachtrij").get_data(as_text=True)
    second = mod_client.get("/moderatie/?tab=wachtrij&pagina=2").get_data(as_text=True)
    beyond = listed(mod_client, "tab=wachtrij&pagina=3")

    assert [int(i) for i in ITEM.findall(first)] == oldest_first[:PAGE_SIZE]
    assert [int(i) for i in ITEM.findall(second)] == oldest_first[PAGE_SIZE:]
    assert "pagina=2" in first and "← vorige" not in first
    assert "pagina=1" in second and "volgende →" not in second
    assert beyond == []
    assert listed(mod_client, "tab=wachtrij&pagina=0") == oldest_first[:PAGE_SIZE]


# ---------------------------------------------------------------- one item


def test_flagged_spans_are_marked_and_the_rest_escaped(
    mod_client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    body = '<script>alert("x")</script> sukkel & idioot'
    start = body.index("sukkel")
    comment = held(
        db,
        make_article(),
        make_user(),
        T0,
        body=body,
        spans=((start, start + 6), (start + 2, start + 8), (body.index("idioot"), len(body))),
    )

    page = mod_client.get("/moderatie/").get_data(as_text=True)

    item = page[page.index(f'id="item-{comment.id}"') :]
    shown = item[item.index('<div class="comment-body">') :]
    shown = shown[: shown.index("</div>")]
    assert shown == (
        '<div class="comment-body">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; '
        "<mark>sukkel &amp;</mark> <mark>idioot</mark>"
    )
    assert "<script>alert" not in page
    assert "Belediging" in item  # the flag's Dutch label


def test_a_screened_comment_shows_its_flag_highlighted(
    app: Flask,
    mod_client: FlaskClient,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article()
    fan = app.test_client()
    login(fan, make_user())
    posted = post_comment(fan, article.cms_id, HOLD_TEXT)
    assert posted.status_code == 202

    page = mod_client.get("/moderatie/").get_data(as_text=True)

    assert "Wat een <mark>kankerscheids</mark> vandaag" in page
    assert "Samenstelling met een vloek" in page


@pytest.mark.parametrize(
    ("body", "spans", "expected"),
    [
        ("abc", [], "abc"),
        ("abc", [(0, 3)], "<mark>abc</mark>"),
        ("a<b", [(1, 2)], "a<mark>&lt;</mark>b"),
        ("abcdef", [(3, 5), (0, 2)], "<mark>ab</mark>c<mark>de</mark>f"),
        ("abcdef", [(0, 3), (2, 5)], "<mark>abcde</mark>f"),
        ("abcdef", [(0, 2), (2, 4)], "<mark>abcd</mark>ef"),
        ("abc", [(1, 99)], "a<mark>bc</mark>"),
        ("abc", [(2, 2), (None, None)], "abc"),
        ("ab\ncd", [(1, 4)], "a<mark>b<br>\nc</mark>d"),
    ],
)
def test_highlight(body: str, spans: list[tuple[Any, Any]], expected: str) -> None:
    flags = [Flag(span_start=start, span_end=end) for start, end in spans]

    assert str(highlight(body, flags)) == expected


def test_an_item_shows_reports_with_track_record_parent_and_article(
    mod_client: FlaskClient,
    db: Session,
    moderator: User,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article()
    article.title = "Defour blijft bij KV Mechelen"
    db.commit()
    author, parent_author = make_user(), make_user(username="Vader")
    reader = make_user(username="Lezer", created_at=utcnow() - timedelta(days=400))
    earlier = create_comment(db, article, parent_author, CommentState.PUBLISHED)
    report_comment(db, earlier.id, reader, "spam", "Reclame", PostingPolicy())
    actions.remove(db, moderator, earlier.id, "spam")
    parent = create_comment(db, article, parent_author, CommentState.PUBLISHED, body="Ouder")
    reply = create_comment(db, article, author, CommentState.PUBLISHED, parent=parent)
    report_comment(db, reply.id, reader, "beledigend", "Grof <i>taalgebruik</i>", PostingPolicy())
    db.commit()

    page = mod_client.get("/moderatie/?tab=gemeld").get_data(as_text=True)

    assert ITEM.findall(page) == [str(reply.id)]
    assert '<span class="badge badge-published">gepubliceerd</span>' in page
    assert "Defour blijft bij KV Mechelen" in page
    assert "Antwoord op Vader:</span> Ouder" in page
    assert (
        "Gemeld door <strong>Lezer</strong> (1 terecht, 0 onterecht) als <em>Beledigend</em>"
        in page
    )
    assert "Grof &lt;i&gt;taalgebruik&lt;/i&gt;" in page
    assert "gewicht 1.25" in page


# ---------------------------------------------------------------- history and stats


def test_the_comment_history_page_shows_the_audit_trail(
    mod_client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    comment = create_comment(db, make_article(), make_user(), CommentState.HELD)
    mod_client.post(
        f"/moderatie/reacties/{comment.id}/afwijzen", data={"reason": "spam", "note": "Reclame"}
    )
    mod_client.post(f"/moderatie/reacties/{comment.id}/herstellen", data={"note": "Toch niet"})

    response = mod_client.get(f"/moderatie/reacties/{comment.id}")
    missing = mod_client.get("/moderatie/reacties/999999", headers=JSON)

    assert response.status_code == 200
    rows = re.findall(r"<tr><td[^>]*>.*?</tr>", response.get_data(as_text=True), re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[1:] for row in rows]
    assert [[c.strip() for c in row] for row in cells] == [
        ["systeem", "geplaatst", "nieuw → wacht op nakijken", "", ""],
        ["modAnne", "afgewezen", "wacht op nakijken → afgewezen", "Spam of reclame", "Reclame"],
        ["modAnne", "hersteld", "afgewezen → gepubliceerd", "", "Toch niet"],
    ]
    # The stored codes stay at hand, in the action cell's title.
    assert re.findall(r'<td[^>]* title="(\w+)">', response.get_data(as_text=True)) == [
        "post",
        "reject",
        "restore",
    ]
    assert missing.status_code == 404
    assert error_code(missing) == "comment_not_found"


def test_the_user_history_page_shows_decisions_about_them(
    mod_client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    fan = make_user(username="Stoker")
    create_comment(db, make_article(), fan, CommentState.REJECTED, body="Eerste reactie")
    mod_client.post(f"/moderatie/gebruikers/{fan.id}/notities", data={"body": "Let op"})
    mod_client.post(
        f"/moderatie/gebruikers/{fan.id}/schorsen", data={"duration": "7d", "reason": "spam"}
    )
    mod_client.post(f"/moderatie/gebruikers/{fan.id}/opheffen")

    page = mod_client.get(f"/moderatie/gebruikers/{fan.id}").get_data(as_text=True)
    missing = mod_client.get("/moderatie/gebruikers/999999", headers=JSON)

    actions_shown = re.findall(r'<td[^>]*>modAnne</td><td[^>]* title="(\w+)">([^<]+)</td>', page)
    assert actions_shown == [
        ("add_note", "notitie"),
        ("suspend_7d", "geschorst (7 dagen)"),
        ("lift_ban", "schorsing opgeheven"),
    ]
    assert "Eerste reactie" in page
    assert '<span class="badge badge-rejected">afgewezen</span>' in page
    assert "0 geplaatst · 0 wachtend · 1 afgewezen" in page
    assert missing.status_code == 404
    assert error_code(missing) == "user_not_found"


def test_the_stats_page_counts_decisions_per_moderator_and_reason(
    app: Flask,
    mod_client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article, author = make_article(), make_user()
    other = app.test_client()
    login(other, make_user(Role.ADMIN, username="adminBert"))
    comments = [create_comment(db, article, author, CommentState.HELD) for _ in range(4)]
    mod_client.post(f"/moderatie/reacties/{comments[0].id}/afwijzen", data={"reason": "spam"})
    mod_client.post(f"/moderatie/reacties/{comments[1].id}/afwijzen", data={"reason": "spam"})
    mod_client.post(f"/moderatie/reacties/{comments[2].id}/goedkeuren")
    other.post(f"/moderatie/reacties/{comments[3].id}/afwijzen", data={"reason": "racisme"})

    response = mod_client.get("/moderatie/statistieken?uren=6")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Statistieken (laatste 6 uur)" in page
    assert "<p>4 beslissingen.</p>" in page
    assert "<tr><td>modAnne</td><td>3</td></tr><tr><td>adminBert</td><td>1</td></tr>" in page
    # Reasons and actions by their Dutch labels, never the stored codes.
    spam, racism = ReasonCode.SPAM.label_nl, ReasonCode.RACISME.label_nl
    assert f"<tr><td>{spam}</td><td>2</td></tr><tr><td>{racism}</td><td>1</td></tr>" in page
    assert "<tr><td>afgewezen</td><td>3</td></tr><tr><td>goedgekeurd</td><td>1</td></tr>" in page
    assert page.count("<rect") >= 7  # one bar per hour, plus the waiting-time bars


# ---------------------------------------------------------------- word lists


def test_every_audited_code_has_a_dutch_label() -> None:
    actions_recorded = set().union(*TRANSITIONS.values()) | {
        "dismiss_reports", "mark_reviewed", "appeal", "appeal_denied", "ban", "lift_ban",
        "add_note", "set_role", "create_token", "revoke_token",
        "schedule_match_day", "cancel_match_day",
    }  # fmt: skip
    actions_recorded |= {f"suspend_{duration}" for duration in SUSPENSIONS}
    actions_recorded |= {f"lexicon_{a.value}" for a in LexiconAction}
    actions_recorded |= {f"lexicon_undo_{a.value}" for a in LexiconAction}
    states = {"new", "active", "banned"} | {s.value for s in CommentState}
    states |= {s.value for s in ReportOutcome} | {m.value for m in MatchDayMode}

    assert actions_recorded - ACTION_LABELS_NL.keys() == set()
    assert states - STATE_LABELS_NL.keys() == set()


def test_word_list_changes_are_listed_audited_and_undone(
    mod_client: FlaskClient, db: Session, moderator: User
) -> None:
    added = mod_client.post(
        "/moderatie/woorden",
        data={"action": "add", "word": "  Zwalpgast ", "list": "hold"},
        headers=JSON,
    )
    fresh(db)
    entry = db.scalar(select(LexiconEntry))
    page = mod_client.get("/moderatie/woorden").get_data(as_text=True)
    removed = mod_client.post(f"/moderatie/woorden/{entry.id}/verwijderen", headers=JSON)
    after = mod_client.get("/moderatie/woorden").get_data(as_text=True)

    assert added.status_code == 200
    assert added.get_json()["version"] == 1
    assert (entry.word, entry.list_name, entry.created_by_id) == ("zwalpgast", "hold", moderator.id)
    assert "<code>zwalpgast</code>" in page and "(nu 1)" in page
    assert '<td data-label="Actie" title="add">woord toegevoegd</td>' in page
    assert '<td data-label="Lijst">beledigingen</td>' in page  # the list by its Dutch name
    assert removed.status_code == 200
    # The version the workers are told is the one stored (runtime.read_version).
    assert removed.get_json()["version"] == 2
    assert "<code>zwalpgast</code>" not in after and "(nu 2)" in after
    fresh(db)
    rows = db.scalars(
        select(ModerationAction)
        .where(ModerationAction.target_type == "lexicon")
        .order_by(ModerationAction.id)
    ).all()
    assert [(r.actor_id, r.action, r.note) for r in rows] == [
        (moderator.id, "lexicon_add", "zwalpgast (versie 1)"),
        (moderator.id, "lexicon_undo_add", "zwalpgast (versie 2)"),
    ]


@pytest.mark.parametrize(
    ("path", "form", "status", "code"),
    [
        ("woorden", {"action": "wis", "word": "zwalpgast"}, 422, "invalid_action"),
        ("woorden", {"action": "add", "word": "zwalpgast", "list": "x"}, 422, "invalid_list"),
        ("woorden", {"action": "allow", "word": "z"}, 422, "invalid_word"),
        ("woorden/999999/verwijderen", {}, 404, "entry_not_found"),
    ],
)
def test_bad_word_list_changes_are_refused(
    mod_client: FlaskClient,
    db: Session,
    path: str,
    form: dict[str, str],
    status: int,
    code: str,
) -> None:
    response = mod_client.post(f"/moderatie/{path}", data=form, headers=JSON)

    assert response.status_code == status
    assert error_code(response) == code
    fresh(db)
    assert db.scalars(select(LexiconEntry)).all() == []
    assert db.scalars(select(ModerationAction)).all() == []


# ---------------------------------------------------------------- permission matrix


def _moderatie_routes() -> list[tuple[str, str, str]]:
    """(method, rule, endpoint) for every rule under /moderatie, from the URL map."""
    app = create_app(
        {
            "DATABASE_URL": "sqlite://",
            "SECRET_KEY": "collection",
            "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://",
            "TRIBUNE_RATELIMIT_ENABLED": False,
        }
    )
    routes = sorted(
        (method, rule.rule, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/moderatie")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    )
    app.extensions["tribune.engine"].dispose()
    return routes


ROUTES = _moderatie_routes()
POST_ROUTES = [route for route in ROUTES if route[0] == "POST"]


def test_the_route_list_covers_the_queue() -> None:
    endpoints = {endpoint for _, _, endpoint in ROUTES}

    assert len(ROUTES) >= 18
    assert {
        "moderator.queue",
        "moderator.counts",
        "moderator.approve",
        "moderator.bulk",
        "moderator.ban",
        "moderator.decide_appeal",
        "moderator.add_word",
        "moderator.statistics",
    } <= endpoints


@pytest.fixture
def targets(
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> dict[str, int]:
    """Real rows for the route parameters, so allowed requests reach the view."""
    author, article = make_user(), make_article()
    comment = create_comment(db, article, author, CommentState.REJECTED)
    appeal = actions.file_appeal(db, author, comment.id, "Dit klopt echt niet.")
    entry, _ = add_entry(db, author, LexiconAction.ALLOW, "stadionbier")
    noticed = create_comment(db, article, author, CommentState.PUBLISHED)
    notice = file_notice(
        db,
        noticed.id,
        NoticeInput("kindermisbruik", "Anoniem gemeld: illegale inhoud.", good_faith=True),
        None,
    )
    db.commit()
    return {
        "comment_id": comment.id,
        "user_id": author.id,
        "appeal_id": appeal.id,
        "entry_id": entry.id,
        "notice_id": notice.id,
    }


def fill(rule: str, targets: dict[str, int]) -> str:
    return re.sub(r"<int:(\w+)>", lambda m: str(targets[m.group(1)]), rule)


FORM = {"reason": "spam", "duration": "24h", "body": "Notitie", "decision": "deny", "ids": "1"}


@pytest.mark.parametrize("role", [None, Role.FAN, Role.EDITOR, Role.MODERATOR, Role.ADMIN], ids=str)
@pytest.mark.parametrize(("method", "rule", "endpoint"), ROUTES, ids=lambda v: str(v))
def test_permission_matrix(
    client: FlaskClient,
    make_user: Callable[..., User],
    targets: dict[str, int],
    role: Role | None,
    method: str,
    rule: str,
    endpoint: str,
) -> None:
    if role is not None:
        login(client, make_user(role))

    response = client.open(fill(rule, targets), method=method, data=FORM)

    if role is None:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    elif role in (Role.FAN, Role.EDITOR):
        assert response.status_code == 403
        assert "Geen toegang" in response.get_data(as_text=True)
    else:
        assert response.status_code not in (401, 403), response.get_data(as_text=True)[:300]
        assert response.status_code < 500
