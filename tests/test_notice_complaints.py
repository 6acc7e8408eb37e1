"""The notifier's complaint against "no action" on a notice (DSA art. 20): the signed link in
the outcome mail and on /profiel/gemeld, the form logged out (CSRF, validation beside the field,
one complaint, six months), the moderators' decision (upheld: the comment goes and the author
gets the statement of reasons; denied: it stays), the notifier's outcome mail, and the
transparency export's count."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

import brussels
from dsa.links import complaint_path, complaint_token
from dsa.notices import NoticeInput, decide_notice, file_notice
from models import (
    Article,
    Comment,
    CommentState,
    ComplaintState,
    ModerationAction,
    Notice,
    ReasonCode,
    Role,
    User,
    utcnow,
)
from tests.conftest import client_for
from tests.factories import create_comment, fresh
from tests.test_notices import (  # noqa: F401  (scene is a fixture)
    CSRF_FIELD,
    JSON,
    Scene,
    anonymous,
    csrf_on,
    scene,
)
from tests.test_notifications import PUBLIC, html_of, mails_to, text_of, verified, work

pytestmark = pytest.mark.usefixtures("own_redis_keys")


@pytest.fixture
def stage(scene: Scene) -> Scene:  # noqa: F811  (the notices tests' scene, by another name)
    return scene


NOTIFIER = "els@example.test"
COMPLAINT = "Dit is wel degelijk een bedreiging: hij noemt de plek en het uur."
LINK = re.compile(re.escape(PUBLIC) + r"(/melden/bezwaar/[0-9]+\.[0-9a-f]+)")


def kept(stage: Scene) -> tuple[Notice, str]:
    """A notice decided "no action", and the complaint path from its outcome mail."""
    assert stage.file().status_code == 303
    [notice] = stage.notices()
    assert stage.decide(notice.id, "no_action", "Scherp maar niet illegaal.").status_code == 303
    work(stage.app)
    _, outcome = mails_to(stage.smtp, NOTIFIER)
    found = LINK.search(text_of(outcome))
    assert found is not None, text_of(outcome)
    assert found.group(1) in html_of(outcome)
    return stage.notices()[0], found.group(1)


def decide_complaint(stage: Scene, notice_id: int, decision: str, note: str = "") -> TestResponse:
    return stage.mod_client.post(
        f"/moderatie/meldingen-dsa/{notice_id}/bezwaar",
        data={"decision": decision, "note": note},
    )


def test_the_outcome_of_no_action_links_to_a_complaint_anyone_with_the_link_can_file(
    stage: Scene,
) -> None:
    notice, path = kept(stage)
    client = anonymous(stage.app)

    page = client.get(path)
    filed = client.post(path, data={"body": COMPLAINT})

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Bezwaar tegen een beslissing over je melding" in text
    assert "Geen actie" in text and "Scherp maar niet illegaal." in text
    assert filed.status_code == 200
    assert "We ontvingen je bezwaar" in filed.get_data(as_text=True)
    [notice] = stage.notices()
    assert notice.complaint_state is ComplaintState.PENDING
    assert notice.complaint_body == COMPLAINT and notice.complaint_at is not None
    actions = stage.db.scalars(
        select(ModerationAction.action)
        .where(ModerationAction.target_type == "notice")
        .order_by(ModerationAction.id)
    ).all()
    assert actions == ["notice_filed", "notice_kept", "notice_complaint_filed"]


def test_a_removal_offers_the_notifier_no_complaint(stage: Scene) -> None:
    assert stage.file().status_code == 303
    [notice] = stage.notices()
    assert stage.decide(notice.id, "removed").status_code == 303
    work(stage.app)
    _, outcome = mails_to(stage.smtp, NOTIFIER)
    assert LINK.search(text_of(outcome)) is None
    path = "/melden/bezwaar/" + _token(stage, notice.id)

    page = anonymous(stage.app).get(path)
    refused = anonymous(stage.app).post(path, data={"body": COMPLAINT}, headers=JSON)

    assert "alleen tegen een beslissing om geen actie" in page.get_data(as_text=True)
    assert "<textarea" not in page.get_data(as_text=True)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "complaint_not_possible"
    assert stage.notices()[0].complaint_state is None


def _token(stage: Scene, notice_id: int) -> str:
    token = complaint_token(stage.db, stage.db.get_one(Notice, notice_id))
    stage.db.commit()
    return token


def test_one_complaint_per_notice(stage: Scene) -> None:
    notice, path = kept(stage)
    client = anonymous(stage.app)
    assert client.post(path, data={"body": COMPLAINT}).status_code == 200

    again = client.post(path, data={"body": "Nog een keer, want ik ben het echt niet eens."})

    assert again.status_code == 409
    assert "Je maakte al bezwaar tegen deze beslissing." in again.get_data(as_text=True)
    assert stage.notices()[0].complaint_body == COMPLAINT


def test_a_short_complaint_is_refused_beside_the_field_and_kept(stage: Scene) -> None:
    _, path = kept(stage)

    response = anonymous(stage.app).post(path, data={"body": "Nee."})
    as_json = anonymous(stage.app).post(path, data={"body": "Nee."}, headers=JSON)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="body-error"' in page and "tekens uit waarom je het niet eens bent" in page
    assert re.search(r">\s*Nee\.</textarea>", page)
    assert as_json.status_code == 422
    assert as_json.get_json()["error"]["code"] == "invalid_complaint"
    assert stage.notices()[0].complaint_state is None


def test_after_six_months_the_complaint_is_too_late(stage: Scene) -> None:
    notice, path = kept(stage)
    notice.decided_at = utcnow() - timedelta(days=200)
    stage.db.commit()

    response = anonymous(stage.app).post(path, data={"body": COMPLAINT}, headers=JSON)

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "complaint_too_late"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda path: path[:-1] + ("0" if path[-1] != "0" else "1"),  # a forged signature
        lambda path: re.sub(r"/(\d+)\.", lambda m: f"/{int(m.group(1)) + 1}.", path),
        lambda path: path.rsplit(".", 1)[0],  # no signature
        lambda path: "/melden/bezwaar/abc.def",
    ],
)
def test_a_forged_or_broken_link_is_a_404(stage: Scene, mangle: Callable[[str], str]) -> None:
    _, path = kept(stage)

    page = anonymous(stage.app).get(mangle(path))
    posted = anonymous(stage.app).post(mangle(path), data={"body": COMPLAINT}, headers=JSON)

    assert page.status_code == 404
    assert "Deze link om bezwaar te maken is ongeldig." in page.get_data(as_text=True)
    assert posted.status_code == 404
    assert posted.get_json()["error"]["code"] == "complaint_link_invalid"
    assert stage.notices()[0].complaint_state is None


@pytest.mark.usefixtures("csrf_on")
def test_without_the_csrf_token_a_complaint_is_refused(
    app: Flask, db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    moderator = make_user(Role.MODERATOR)
    comment = create_comment(db, make_article("derby"), make_user(), CommentState.PUBLISHED)
    notice = file_notice(
        db,
        comment.id,
        NoticeInput("bedreiging", "Een bedreiging van de scheidsrechter.", "Els", NOTIFIER, True),
        None,
    )
    decide_notice(db, moderator, notice.id, "no_action")
    path = complaint_path(db, notice)
    db.commit()
    client = anonymous(app)

    refused = client.post(path, data={"body": COMPLAINT})
    token = CSRF_FIELD.search(client.get(path).get_data(as_text=True))
    assert token is not None
    accepted = client.post(path, data={"body": COMPLAINT, "csrf_token": token.group(1)})

    assert refused.status_code == 400
    assert accepted.status_code == 200
    fresh(db)
    assert db.get_one(Notice, notice.id).complaint_state is ComplaintState.PENDING


def test_upheld_the_comment_goes_and_author_and_notifier_are_told(
    stage: Scene, make_user: Callable[..., User]
) -> None:
    second = client_for(stage.app, verified(make_user, Role.MODERATOR, username="Mod2"))
    notice, path = kept(stage)
    assert anonymous(stage.app).post(path, data={"body": COMPLAINT}).status_code == 200
    tab = second.get("/moderatie/meldingen-dsa").get_data(as_text=True)
    assert f'id="bezwaar-{notice.id}"' in tab and COMPLAINT in tab

    response = second.post(
        f"/moderatie/meldingen-dsa/{notice.id}/bezwaar",
        data={"decision": "uphold", "note": "Bij nader inzien een bedreiging."},
    )

    assert response.status_code == 303
    fresh(stage.db)
    comment = stage.db.get_one(Comment, stage.comment.id)
    assert comment.state is CommentState.REMOVED
    assert comment.decision_reason is ReasonCode.BEDREIGING
    [notice] = stage.notices()
    assert notice.complaint_state is ComplaintState.UPHELD
    assert notice.complaint_note == "Bij nader inzien een bedreiging."
    assert notice.complaint_decided_at is not None
    work(stage.app)
    [statement] = mails_to(stage.smtp, stage.author.email)
    assert "Bedreiging of aanzetten tot geweld" in text_of(statement)
    receipt, outcome, complaint_outcome = mails_to(stage.smtp, NOTIFIER)
    assert complaint_outcome["Subject"] == f"Je bezwaar over melding nr. {notice.id}: toegekend"
    assert "alsnog van de site gehaald" in text_of(complaint_outcome)
    assert "Jonas" not in text_of(complaint_outcome)
    after = second.get("/moderatie/meldingen-dsa").get_data(as_text=True)
    assert "Geen open bezwaren van melders." in after
    assert "bezwaar van de melder: toegekend" in after


def test_denied_the_comment_stays_and_the_notifier_hears_the_outside_routes(
    stage: Scene,
) -> None:
    notice, path = kept(stage)
    assert anonymous(stage.app).post(path, data={"body": COMPLAINT}).status_code == 200

    assert (
        decide_complaint(stage, notice.id, "deny", "Nog steeds niet illegaal.").status_code == 303
    )
    again = stage.mod_client.post(
        f"/moderatie/meldingen-dsa/{notice.id}/bezwaar", data={"decision": "uphold"}, headers=JSON
    )

    assert again.status_code == 409 and again.get_json()["error"]["code"] == "complaint_decided"
    fresh(stage.db)
    assert stage.db.get_one(Comment, stage.comment.id).state is CommentState.PUBLISHED
    assert stage.notices()[0].complaint_state is ComplaintState.DENIED
    work(stage.app)
    assert mails_to(stage.smtp, stage.author.email) == []
    *_, complaint_outcome = mails_to(stage.smtp, NOTIFIER)
    text = text_of(complaint_outcome)
    assert complaint_outcome["Subject"].endswith(": afgewezen")
    assert "Nog steeds niet illegaal." in text
    assert "buitengerechtelijke geschillenbeslechting (art. 21 DSA)" in text


def test_a_bad_complaint_decision_comes_back_beside_its_field(stage: Scene) -> None:
    notice, path = kept(stage)
    assert anonymous(stage.app).post(path, data={"body": COMPLAINT}).status_code == 200

    response = decide_complaint(stage, notice.id, "misschien", "mijn notitie")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="complaint-decision-{notice.id}-error"' in page
    assert "Kies bezwaar toekennen of afwijzen." in page and 'value="mijn notitie"' in page
    assert stage.notices()[0].complaint_state is ComplaintState.PENDING


@pytest.mark.parametrize("role", [None, Role.FAN, Role.EDITOR])
def test_only_moderators_decide_complaints(
    stage: Scene, make_user: Callable[..., User], role: Role | None
) -> None:
    client = client_for(stage.app, make_user(role)) if role else anonymous(stage.app)
    notice, path = kept(stage)
    assert anonymous(stage.app).post(path, data={"body": COMPLAINT}).status_code == 200

    response = client.post(
        f"/moderatie/meldingen-dsa/{notice.id}/bezwaar", data={"decision": "uphold"}
    )

    assert response.status_code in (302, 403)
    assert stage.notices()[0].complaint_state is ComplaintState.PENDING


def test_a_signed_in_notifier_finds_the_complaint_link_on_the_profile(
    stage: Scene, make_user: Callable[..., User]
) -> None:
    reader = verified(make_user, username="Lotte")
    client = client_for(stage.app, reader)
    assert stage.file(client, name="Lotte", email=reader.email).status_code == 303
    [notice] = stage.notices()
    assert stage.decide(notice.id, "no_action").status_code == 303

    page = client.get("/profiel/gemeld").get_data(as_text=True)
    found = re.search(r'href="(/melden/bezwaar/[^"]+)">Bezwaar maken<', page)
    assert found is not None
    assert client.post(found.group(1), data={"body": COMPLAINT}).status_code == 200
    after = client.get("/profiel/gemeld").get_data(as_text=True)

    assert "Je bezwaar: in behandeling" in after and ">Bezwaar maken<" not in after


def test_the_transparency_report_counts_complaints_by_outcome(
    stage: Scene, make_user: Callable[..., User]
) -> None:
    notice, path = kept(stage)
    assert anonymous(stage.app).post(path, data={"body": COMPLAINT}).status_code == 200
    assert decide_complaint(stage, notice.id, "deny").status_code == 303
    # A second notice whose complaint is still open, and one complained about long ago.
    assert stage.file().status_code == 303
    second = stage.notices()[-1]
    assert stage.decide(second.id, "no_action").status_code == 303
    token = _token(stage, second.id)
    assert (
        anonymous(stage.app).post("/melden/bezwaar/" + token, data={"body": COMPLAINT}).status_code
        == 200
    )
    assert stage.file().status_code == 303
    old = stage.notices()[-1]
    assert stage.decide(old.id, "no_action").status_code == 303
    old_token = _token(stage, old.id)
    assert (
        anonymous(stage.app)
        .post("/melden/bezwaar/" + old_token, data={"body": COMPLAINT})
        .status_code
        == 200
    )
    fresh(stage.db)
    stored = stage.db.get_one(Notice, old.id)
    stored.complaint_at = utcnow() - timedelta(days=40)
    stage.db.commit()
    expected: dict[str, int] = {"received": 0, "pending": 0, "upheld": 0, "denied": 0}
    today = brussels.to_local(utcnow()).date()
    first = today - timedelta(days=6)
    start = brussels.from_local(datetime.combine(first, time()))
    for row in stage.notices():
        if row.complaint_state is not None and row.complaint_at and row.complaint_at >= start:
            expected["received"] += 1
            expected[row.complaint_state.value] += 1
    admin = client_for(stage.app, verified(make_user, Role.ADMIN, username="Baas"))

    document = admin.get(f"/beheer/transparantie?van={first}&tot={today}&formaat=json").get_json()
    as_csv = admin.get(f"/beheer/transparantie?van={first}&tot={today}&formaat=csv")

    assert expected == {"received": 2, "pending": 1, "upheld": 0, "denied": 1}
    assert document["notice_complaints"] == expected
    lines = as_csv.get_data(as_text=True).splitlines()
    for key, count in expected.items():
        assert f"notice_complaints,{key},{count}" in lines
