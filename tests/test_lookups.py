"""get_or_404: the row, or NotFound with the caller's code when it is missing or not visible."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from errors import NotFound
from lookups import get_or_404
from models import User


def test_returns_the_row(db: Session, make_user: Callable[..., User]) -> None:
    user = make_user()

    assert get_or_404(db, User, user.id, "user_not_found", "Weg.") is user


def test_missing_row_is_the_callers_404(db: Session) -> None:
    with pytest.raises(NotFound) as caught:
        get_or_404(db, User, 987_654, "user_not_found", "Die gebruiker bestaat niet.")

    assert caught.value.status_code == 404
    assert caught.value.code == "user_not_found"
    assert caught.value.message == "Die gebruiker bestaat niet."


def test_a_row_the_caller_may_not_see_is_a_404_too(
    db: Session, make_user: Callable[..., User]
) -> None:
    user = make_user()

    with pytest.raises(NotFound):
        get_or_404(db, User, user.id, "user_not_found", "Weg.", visible=lambda u: u.id != user.id)
    assert get_or_404(db, User, user.id, "x", "y", visible=lambda u: u.id == user.id) is user
