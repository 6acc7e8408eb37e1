"""Vote badges ("stemde: Ja" beside a member's comments under the poll's article): opt-in per
ballot (the vote's checkbox, `show_badge` in the API) and per account (/profiel), never for an
anonymous ballot, gone in quarantine and with the account; the thread filter by answer; one
query per page of comments; the GDPR export."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from models import Article, Ballot, CommentState, Poll, Role, User, utcnow
from polls.quarantine import QuarantineScope, set_quarantine
from privacy.deletion import CommentChoice, delete_account
from tests.conftest import TEST_PASSWORD, client_for
from tests.factories import create_comment, error_code, fresh
from tests.polls_fixtures import SAME_ORIGIN, create_poll, voter_token

pytestmark = pytest.mark.usefixtures("own_redis_keys")

# The account setting's checkbox, ticked.
CHECKED = re.compile(r'<input[^>]*checked[^>]*name="show"|<input[^>]*name="show"[^>]*checked')


def cast(client: FlaskClient, poll: Poll, label: str, show: Any = None, **extra: Any) -> Any:
    """A member's vote through the API, with the badge choice when given."""
    option = next(o.id for o in poll.options if o.label == label)
    body: dict[str, Any] = {"option_ids": [option], **extra}
    if show is not None:
        body["show_badge"] = show
    return client.post(f"/api/v1/polls/{poll.id}/votes", json=body, headers=SAME_ORIGIN)


def option(poll: Poll, label: str) -> int:
    return next(o.id for o in poll.options if o.label == label)


def badges(client: FlaskClient, article: Article, **query: Any) -> dict[int, str | None]:
    """Comment id → vote badge, every comment of the thread API's page (replies too)."""
    response = client.get(f"/api/v1/articles/{article.cms_id}/comments", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    found: dict[int, str | None] = {}

    def walk(nodes: list[dict[str, Any]]) -> None:
        for node in nodes:
            found[node["id"]] = node["vote_badge"]
            walk(node["replies"])

    walk(response.get_json()["comments"])
    return found


@pytest.fixture
def scene(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> dict[str, Any]:
    article = make_article("derby")
    poll = create_poll(db, article, ("Ja", "Nee"))
    fan = make_user(Role.FAN, username="Jonas")
    other = make_user(Role.FAN, username="Lotte")
    mine = create_comment(db, article, fan, CommentState.PUBLISHED, "Ik stemde ja, uiteraard.")
    theirs = create_comment(db, article, other, CommentState.PUBLISHED, "Nee natuurlijk.")
    return {
        "article": article,
        "poll": poll,
        "fan": fan,
        "other": other,
        "mine": mine,
        "theirs": theirs,
        "fan_client": client_for(app, fan),
        "other_client": client_for(app, other),
    }


def test_an_opted_in_vote_shows_beside_every_comment_of_the_member(
    app: Flask, db: Session, client: FlaskClient, scene: dict[str, Any]
) -> None:
    article, poll = scene["article"], scene["poll"]
    reply = create_comment(
        db, article, scene["fan"], CommentState.PUBLISHED, "Nog eens ja.", parent=scene["theirs"]
    )

    answer = cast(scene["fan_client"], poll, "Ja", show=True)

    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.get_json()["ballot"]["show_badge"] is True
    assert badges(client, article) == {
        scene["mine"].id: "Ja",
        scene["theirs"].id: None,
        reply.id: "Ja",
    }
    body = client.get("/api/v1/articles/derby/comments").get_json()
    mine = next(c for c in body["comments"] if c["id"] == scene["mine"].id)
    assert mine["vote_option_ids"] == [option(poll, "Ja")]
    page = client.get("/artikels/derby").get_data(as_text=True)
    assert '<span class="vote-badge">stemde: Ja</span>' in page
    embed = client.get("/embed/comments/derby").get_data(as_text=True)
    assert "stemde: Ja" in embed


def test_no_badge_without_the_opt_in(client: FlaskClient, scene: dict[str, Any]) -> None:
    assert cast(scene["fan_client"], scene["poll"], "Ja").status_code == 201  # setting off
    assert cast(scene["other_client"], scene["poll"], "Nee", show=False).status_code == 201

    assert set(badges(client, scene["article"]).values()) == {None}
    assert "stemde:" not in client.get("/artikels/derby").get_data(as_text=True)


def test_the_account_setting_prefills_the_choice_and_shows_every_ballot(
    app: Flask,
    db: Session,
    client: FlaskClient,
    scene: dict[str, Any],
    make_article: Callable[..., Article],
) -> None:
    fan_client = scene["fan_client"]
    second = make_article("beker")
    cup_poll = create_poll(db, second, ("Winst", "Verlies"))
    cup_comment = create_comment(db, second, scene["fan"], CommentState.PUBLISHED)
    assert cast(fan_client, scene["poll"], "Ja", show=False).status_code == 201

    on = fan_client.post("/profiel/stembadge", data={"show": "y"})

    assert on.status_code == 303
    assert on.headers["Location"].endswith("/profiel#stem-bij-reacties")
    assert badges(client, scene["article"])[scene["mine"].id] == "Ja"  # an existing ballot
    new = cast(fan_client, cup_poll, "Winst")  # no choice sent: the setting
    assert new.get_json()["ballot"]["show_badge"] is True
    assert badges(client, second)[cup_comment.id] == "Winst"
    assert CHECKED.search(fan_client.get("/profiel").get_data(as_text=True))
    third = make_article("derde")
    create_poll(db, third, ("Ja", "Nee"))
    prefilled = fan_client.get("/artikels/derde").get_data(as_text=True)
    assert re.search(r'name="show_badge" value="1" id="p\d+-badge" checked', prefilled)

    off = fan_client.post("/profiel/stembadge", data={})

    assert off.status_code == 303
    assert not CHECKED.search(fan_client.get("/profiel").get_data(as_text=True))
    assert badges(client, scene["article"])[scene["mine"].id] is None
    assert badges(client, second)[cup_comment.id] is None
    fresh(db)
    assert db.get_one(User, scene["fan"].id).show_vote_badge is False


def test_a_repeat_vote_changes_only_the_badge(client: FlaskClient, scene: dict[str, Any]) -> None:
    fan_client, poll = scene["fan_client"], scene["poll"]
    assert cast(fan_client, poll, "Ja").status_code == 201

    again = cast(fan_client, poll, "Ja", show=True)

    assert again.status_code == 200 and again.get_json()["counted"] is False
    assert again.get_json()["ballot"]["show_badge"] is True
    assert badges(client, scene["article"])[scene["mine"].id] == "Ja"
    hidden = cast(fan_client, poll, "Ja", show=False)
    assert hidden.get_json()["ballot"]["show_badge"] is False
    assert badges(client, scene["article"])[scene["mine"].id] is None


def test_an_anonymous_ballot_never_shows(
    app: Flask, db: Session, client: FlaskClient, scene: dict[str, Any]
) -> None:
    poll = scene["poll"]
    anonymous = app.test_client()
    token = voter_token(anonymous, poll.id)

    answer = anonymous.post(
        f"/api/v1/polls/{poll.id}/votes",
        json={"option_ids": [option(poll, "Ja")], "show_badge": True},
        headers={**SAME_ORIGIN, "X-Tribune-Voter-Token": token},
    )

    assert answer.status_code == 201
    assert answer.get_json()["ballot"]["show_badge"] is False
    fresh(db)
    [ballot] = db.scalars(select(Ballot).where(Ballot.poll_id == poll.id))
    assert ballot.user_id is None and ballot.show_badge is False
    assert set(badges(client, scene["article"]).values()) == {None}


def test_a_quarantined_ballot_loses_its_badge_and_release_brings_it_back(
    app: Flask, db: Session, client: FlaskClient, scene: dict[str, Any]
) -> None:
    article, poll = scene["article"], scene["poll"]
    assert cast(scene["fan_client"], poll, "Ja", show=True).status_code == 201
    assert badges(client, article)[scene["mine"].id] == "Ja"  # now in the thread cache
    fresh(db)
    ballot_id = db.scalar(select(Ballot.id).where(Ballot.user_id == scene["fan"].id))
    assert ballot_id is not None

    set_quarantine(db, poll.id, True, QuarantineScope.SELECTED, [ballot_id], None, utcnow())
    db.commit()

    assert badges(client, article)[scene["mine"].id] is None
    assert badges(client, article, stemde=option(poll, "Ja")) == {}

    set_quarantine(db, poll.id, False, QuarantineScope.SELECTED, [ballot_id], None, utcnow())
    db.commit()

    assert badges(client, article)[scene["mine"].id] == "Ja"


def test_account_deletion_takes_the_badge_away(
    app: Flask, db: Session, client: FlaskClient, scene: dict[str, Any]
) -> None:
    assert cast(scene["fan_client"], scene["poll"], "Ja", show=True).status_code == 201
    fresh(db)

    delete_account(db, db.get_one(User, scene["fan"].id), TEST_PASSWORD, CommentChoice.KEEP)
    db.commit()

    assert badges(client, scene["article"])[scene["mine"].id] is None
    fresh(db)
    [ballot] = db.scalars(select(Ballot).where(Ballot.poll_id == scene["poll"].id))
    assert ballot.user_id is None and ballot.show_badge is False


def test_the_thread_filters_by_answer_on_the_api_the_page_and_the_embed(
    app: Flask,
    db: Session,
    client: FlaskClient,
    scene: dict[str, Any],
    make_article: Callable[..., Article],
) -> None:
    article, poll = scene["article"], scene["poll"]
    assert cast(scene["fan_client"], poll, "Ja", show=True).status_code == 201
    assert cast(scene["other_client"], poll, "Nee", show=True).status_code == 201
    yes, no = option(poll, "Ja"), option(poll, "Nee")

    assert badges(client, article, stemde=yes) == {scene["mine"].id: "Ja"}
    assert badges(client, article, stemde=no) == {scene["theirs"].id: "Nee"}
    page = client.get(f"/artikels/derby?stemde={yes}").get_data(as_text=True)
    assert "Ik stemde ja, uiteraard." in page and "Nee natuurlijk." not in page
    assert "reacties van Ja-stemmers" in page and "reacties van Nee-stemmers" in page
    embed = client.get(f"/embed/comments/derby?stemde={no}").get_data(as_text=True)
    assert "Nee natuurlijk." in embed and "Ik stemde ja, uiteraard." not in embed

    foreign = create_poll(db, make_article("ander"), ("Ja", "Nee"))
    refused = client.get(
        "/api/v1/articles/derby/comments", query_string={"stemde": foreign.options[0].id}
    )
    assert (refused.status_code, error_code(refused)) == (422, "invalid_parameter")
    assert client.get("/api/v1/articles/derby/comments?stemde=ja").status_code == 422
    # Digits int() refuses ("²") and numbers no row can have are 422s too, never a 500.
    for raw in ("²", "99999999999", str(2**70)):
        answer = client.get("/api/v1/articles/derby/comments", query_string={"stemde": raw})
        assert answer.status_code == 422, raw
    assert client.get(f"/artikels/derby?stemde={foreign.options[0].id}").status_code == 422


def test_the_vote_form_checkbox_on_the_article_page(
    app: Flask, client: FlaskClient, scene: dict[str, Any]
) -> None:
    fan_client, poll = scene["fan_client"], scene["poll"]
    form = fan_client.get("/artikels/derby").get_data(as_text=True)
    assert "Toon mijn stem bij mijn reacties" in form
    assert "Toon mijn stem bij mijn reacties" not in client.get("/artikels/derby").get_data(
        as_text=True
    )  # visitors vote anonymously: no badge to offer

    voted = fan_client.post(
        f"/artikels/derby/peilingen/{poll.id}",
        data={"option": str(option(poll, "Ja")), "show_badge": "1"},
    )
    assert voted.status_code == 303
    assert badges(client, scene["article"])[scene["mine"].id] == "Ja"

    other = scene["other_client"].post(
        f"/artikels/derby/peilingen/{poll.id}", data={"option": str(option(poll, "Nee"))}
    )
    assert other.status_code == 303
    assert badges(client, scene["article"])[scene["theirs"].id] is None


def test_show_badge_must_be_a_boolean(scene: dict[str, Any]) -> None:
    answer = cast(scene["fan_client"], scene["poll"], "Ja", show="ja")

    assert (answer.status_code, error_code(answer)) == (422, "invalid_parameter")


@contextmanager
def counted_statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = app.extensions["tribune.engine"]

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_page_of_comments_loads_its_badges_in_one_query(
    app: Flask,
    db: Session,
    client: FlaskClient,
    scene: dict[str, Any],
    make_user: Callable[..., User],
) -> None:
    article, poll = scene["article"], scene["poll"]
    for number in range(8):
        fan = make_user(Role.FAN, username=f"Fan{number}")
        create_comment(db, article, fan, CommentState.PUBLISHED, f"Reactie nummer {number}.")
        label = "Ja" if number % 2 else "Nee"
        assert cast(client_for(app, fan), poll, label, show=True).status_code == 201

    with counted_statements(app) as seen:
        shown = badges(client, article)

    assert sorted(v for v in shown.values() if v) == ["Ja"] * 4 + ["Nee"] * 4
    on_ballots = [s for s in seen if "ballots" in s.lower()]
    assert len(on_ballots) == 1, on_ballots


def test_the_gdpr_export_has_the_setting_and_each_ballots_choice(
    scene: dict[str, Any],
) -> None:
    fan_client = scene["fan_client"]
    assert cast(fan_client, scene["poll"], "Ja", show=True).status_code == 201
    assert fan_client.post("/profiel/stembadge", data={"show": "y"}).status_code == 303

    document = fan_client.get("/profiel/gegevens.json").get_json()

    assert document["account"]["show_vote_badge"] is True
    assert [b["show_badge"] for b in document["ballots"]] == [True]
