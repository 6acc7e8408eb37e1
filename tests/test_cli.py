"""`flask tribune …` commands through the CLI runner: create-user, seed-demo, recount, migrate."""

from __future__ import annotations

from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from demo.seed import (
    DEFOUR_ID,
    POLL_OPTIONS,
    POLL_QUESTION,
    read_headline_polls,
    read_headlines,
)
from models import Article, Ballot, Comment, Poll, PollOption, Role, User
from tests.conftest import get_user

PASSWORD = "groen wit gestreept"


def reread(db: Session) -> None:
    """End the test session's read snapshot and forget loaded rows: see what requests committed."""
    db.rollback()
    db.expire_all()


def invoke(runner: FlaskCliRunner, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(args=["tribune", *args], input=input)


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


# ---------------------------------------------------------------- create-user


def test_create_user_reads_the_password_from_stdin(
    runner: FlaskCliRunner, client: FlaskClient, db: Session
) -> None:
    result = invoke(
        runner, "create-user", "Redactie_Jan", "--role", "editor", input=PASSWORD + "\n"
    )

    assert result.exit_code == 0, result.output
    assert "Account Redactie_Jan (editor) aangemaakt." in result.output
    user = get_user(db, "Redactie_Jan")
    assert user.role is Role.EDITOR
    assert user.email == "redactie_jan@tribune.local"
    response = client.post("/login", data={"login": "redactie_jan", "password": PASSWORD})
    assert response.status_code == 302


def test_create_user_defaults_to_fan_and_takes_an_email(
    runner: FlaskCliRunner, db: Session
) -> None:
    result = invoke(
        runner, "create-user", "Supporter", "--email", "Fan@Example.test", input=PASSWORD + "\n"
    )

    assert result.exit_code == 0, result.output
    user = get_user(db, "Supporter")
    assert user.role is Role.FAN
    assert user.email == "fan@example.test"


def test_create_user_refuses_a_short_password_in_dutch(runner: FlaskCliRunner, db: Session) -> None:
    result = invoke(runner, "create-user", "Redactie_Jan", "--role", "editor", input="kort\n")

    assert result.exit_code != 0
    assert "Kies een wachtwoord van minstens 10 tekens." in result.output
    assert count(db, User) == 0


def test_create_user_refuses_a_taken_name(runner: FlaskCliRunner, db: Session) -> None:
    invoke(runner, "create-user", "Redactie_Jan", input=PASSWORD + "\n")

    result = invoke(
        runner,
        "create-user",
        "REDACTIE_JAN",
        "--email",
        "ander@example.test",
        input=PASSWORD + "\n",
    )

    assert result.exit_code != 0
    assert "al in gebruik" in result.output
    assert count(db, User) == 1


def test_create_user_refuses_an_unknown_role(runner: FlaskCliRunner, db: Session) -> None:
    result = invoke(runner, "create-user", "Redactie_Jan", "--role", "baas", input=PASSWORD + "\n")

    assert result.exit_code != 0
    assert count(db, User) == 0


# ---------------------------------------------------------------- set-password

NEW_PASSWORD = "een heel nieuw wachtwoord"


def test_set_password_prompts_twice_and_ends_the_sessions(
    runner: FlaskCliRunner, client: FlaskClient, db: Session
) -> None:
    invoke(runner, "create-user", "Redactie_Jan", input=PASSWORD + "\n")
    response = client.post("/login", data={"login": "redactie_jan", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/profiel").status_code == 200

    result = invoke(
        runner, "set-password", "REDACTIE_JAN", input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    )

    assert result.exit_code == 0, result.output
    assert "Nieuw wachtwoord voor Redactie_Jan" in result.output
    assert NEW_PASSWORD not in result.output  # the prompt hides it
    assert client.get("/profiel").status_code == 302  # the old session ended
    response = client.post("/login", data={"login": "redactie_jan", "password": PASSWORD})
    assert response.status_code != 302  # the old password no longer works
    response = client.post("/login", data={"login": "redactie_jan", "password": NEW_PASSWORD})
    assert response.status_code == 302


def test_set_password_reads_stdin_and_applies_the_registration_rules(
    runner: FlaskCliRunner, client: FlaskClient, db: Session
) -> None:
    invoke(runner, "create-user", "Supporter", input=PASSWORD + "\n")

    short = invoke(runner, "set-password", "Supporter", "--password-stdin", input="kort\n")
    assert short.exit_code == 1
    assert "Kies een wachtwoord van minstens 10 tekens." in short.output

    result = invoke(
        runner, "set-password", "Supporter", "--password-stdin", input=NEW_PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    response = client.post("/login", data={"login": "supporter", "password": NEW_PASSWORD})
    assert response.status_code == 302


def test_set_password_refuses_mismatched_prompts(
    runner: FlaskCliRunner, client: FlaskClient
) -> None:
    invoke(runner, "create-user", "Supporter", input=PASSWORD + "\n")

    result = invoke(runner, "set-password", "Supporter", input=f"{NEW_PASSWORD}\nanders\n")

    assert result.exit_code != 0
    response = client.post("/login", data={"login": "supporter", "password": PASSWORD})
    assert response.status_code == 302


def test_set_password_for_an_unknown_user_is_a_clear_error(runner: FlaskCliRunner) -> None:
    result = invoke(
        runner, "set-password", "Niemand", "--password-stdin", input=NEW_PASSWORD + "\n"
    )

    assert result.exit_code == 1
    assert "Er is geen account met de naam Niemand." in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- seed-demo


def test_seed_demo_fills_the_database(runner: FlaskCliRunner, db: Session) -> None:
    result = invoke(runner, "seed-demo")

    assert result.exit_code == 0, result.output
    seeded = 8 + sum(int(row["comments_shown"]) for row in read_headlines())  # Defour + headlines
    votes = 88 + sum(sum(poll.ballots) for poll in read_headline_polls())  # Defour + headlines
    assert f"Demo: 26 artikels, {seeded} reacties, {votes} stemmen aangemaakt." in result.output
    for name in ("fan", "moderator", "redacteur", "beheerder"):
        assert f"  {name} " in result.output
    assert "flask --app app tribune set-password NAAM" in result.output
    assert count(db, Article) == 26 == len(read_headlines()) + 1
    defour = db.scalars(select(Article).where(Article.cms_id == DEFOUR_ID)).one()
    assert defour.title == "Defour volgend jaar nog bij KV Mechelen? Coach reageert"
    poll = db.scalars(select(Poll).where(Poll.article_id == defour.id)).one()
    assert poll.question == POLL_QUESTION == "Moet KVM verder doen met Defour?"
    assert [option.label for option in poll.options] == ["Ja", "Nee", "Weet niet"]
    assert list(POLL_OPTIONS) == ["Ja", "Nee", "Weet niet"]
    assert [option.vote_count for option in poll.options] == [58, 21, 9]
    assert poll.ballot_count == defour.vote_count == 88
    assert defour.comment_count == 8
    assert get_user(db, "redacteur").role is Role.EDITOR
    assert get_user(db, "beheerder").role is Role.ADMIN


def test_seed_demo_twice_creates_nothing_the_second_time(
    runner: FlaskCliRunner, db: Session
) -> None:
    invoke(runner, "seed-demo")
    before = {model: count(db, model) for model in (User, Article, Comment, Ballot, PollOption)}
    reread(db)

    result = invoke(runner, "seed-demo")

    assert result.exit_code == 0, result.output
    assert "Demo: 0 artikels, 0 reacties, 0 stemmen aangemaakt." in result.output
    assert "Demo-accounts bestonden al" in result.output
    assert {model: count(db, model) for model in before} == before
    assert count(db, Article) == 26


# ---------------------------------------------------------------- recount


def test_recount_on_a_clean_database(runner: FlaskCliRunner) -> None:
    result = invoke(runner, "recount")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Alle tellers kloppen."


def test_recount_after_seeding_is_clean(runner: FlaskCliRunner) -> None:
    invoke(runner, "seed-demo")

    result = invoke(runner, "recount")

    assert result.output.strip() == "Alle tellers kloppen."


def test_recount_reports_and_fixes_drift(runner: FlaskCliRunner, db: Session) -> None:
    invoke(runner, "seed-demo")
    defour = db.scalars(select(Article).where(Article.cms_id == DEFOUR_ID)).one()
    option = db.scalars(
        select(PollOption).join(Poll).where(Poll.article_id == defour.id, PollOption.label == "Ja")
    ).one()
    defour.comment_count = 999
    option.vote_count = 3
    db.commit()

    result = invoke(runner, "recount")
    again = invoke(runner, "recount")

    assert result.exit_code == 0, result.output
    assert f"articles.comment_count [{DEFOUR_ID}]: 999 -> 8" in result.output
    assert f"poll_options.vote_count [{option.id}]: 3 -> 58" in result.output
    assert "2 tellers hersteld." in result.output
    assert again.output.strip() == "Alle tellers kloppen."
    reread(db)
    assert db.get(Article, defour.id).comment_count == 8  # type: ignore[union-attr]
    assert db.get(PollOption, option.id).vote_count == 58  # type: ignore[union-attr]


# ---------------------------------------------------------------- migrate


def test_migrate_on_a_migrated_database_is_a_no_op(runner: FlaskCliRunner, db: Session) -> None:
    result = invoke(runner, "migrate")

    assert result.exit_code == 0, result.output
    assert "Database at revision head." in result.output
    assert count(db, User) == 0
