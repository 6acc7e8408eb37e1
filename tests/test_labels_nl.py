"""Every code a person can see on a page has a Dutch label (views/templating.py): error codes,
audited actions and states, reasons, word lists and their changes, poll states. The codes are
collected from the code itself (enums, the transition table, and the string literals handed to
the error classes and the audit writer), so a new code without a label fails here."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from errors import STATUS_ERRORS
from forms.base import TribuneForm
from models import (
    AppealState,
    Article,
    CommentMode,
    CommentState,
    LexiconAction,
    MatchDayMode,
    ModerationAction,
    ReportOutcome,
    Role,
    User,
    utcnow,
)
from moderation import runtime
from moderation.comment_states import TRANSITIONS
from moderation.lexicon import CATEGORIES
from moderation.stats import DECISIONS
from polls.states import PollState
from reasons import ReasonCode
from tests.conftest import login
from views import templating
from views.templating import (
    ACTION_LABELS_NL,
    ERROR_LABELS_NL,
    LIST_LABELS_NL,
    POLL_STATE_LABELS_NL,
    STATE_LABELS_NL,
    SUSPICION_LABELS_NL,
)

ROOT = Path(__file__).resolve().parents[1]
NOT_APP_CODE = {".venv", "tests", "alembic", "bench", "demo"}
ERROR_CLASSES = {"DomainError", "NotFound", "Conflict", "Invalid", "VoterTokenError"}
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
# Codes that are a Dutch word themselves.
SAME_IN_DUTCH = {"open"}


def app_modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(ROOT.rglob("*.py")):
        if NOT_APP_CODE.isdisjoint(path.relative_to(ROOT).parts):
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def literals(node: ast.AST | None) -> Iterator[str]:
    """The string constants an argument can be ('a' if x else 'b' gives both)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from literals(node.body)
        yield from literals(node.orelse)


def call_argument(call: ast.Call, position: int, keyword: str) -> ast.AST | None:
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def called(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def collect() -> dict[str, set[str]]:
    """Error codes, audit actions and audit states written as literals in the app's code."""
    found: dict[str, set[str]] = {"errors": set(), "actions": set(), "states": set()}
    for _path, tree in app_modules():
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            name = called(call)
            if name in ERROR_CLASSES:
                found["errors"].update(literals(call_argument(call, 0, "code")))
            elif name == "get_or_404":
                found["errors"].update(literals(call_argument(call, 3, "code")))
            elif name == "record_action":
                found["actions"].update(literals(call_argument(call, 4, "action")))
                found["states"].update(literals(call_argument(call, 5, "from_state")))
                found["states"].update(literals(call_argument(call, 6, "to_state")))
            elif name == "transition":
                found["actions"].update(literals(call_argument(call, 3, "action")))
    return found


FOUND = collect()


def form_error_codes() -> set[str]:
    codes: set[str] = set()
    stack: list[type] = [TribuneForm]
    while stack:
        form = stack.pop()
        codes.update(form.error_codes.values())  # type: ignore[attr-defined]
        stack.extend(form.__subclasses__())
    return codes


def test_the_scan_finds_the_codes_it_should() -> None:
    # The collector itself works: known codes from each kind of call are found.
    assert {"own_account", "comment_not_found", "invalid_window"} <= FOUND["errors"]
    assert {"ban", "appeal_denied", "dismiss_reports", "set_role"} <= FOUND["actions"]
    assert {"banned", "active", "quarantined"} <= FOUND["states"]
    assert all(SNAKE.match(code) for kind in FOUND.values() for code in kind), FOUND


def test_every_error_code_has_a_dutch_label() -> None:
    codes = (
        FOUND["errors"]
        | {code for code, _ in STATUS_ERRORS.values()}
        | {"csrf_failed"}
        | form_error_codes()
    )
    missing = sorted(code for code in codes if code not in ERROR_LABELS_NL)
    assert not missing, f"error codes without a Dutch label: {missing}"


def test_every_audited_action_has_a_dutch_label() -> None:
    lexicon = {f"lexicon_{a.value}" for a in LexiconAction} | {
        f"lexicon_undo_{a.value}" for a in LexiconAction
    }
    transitions = {action for actions in TRANSITIONS.values() for action in actions}
    codes = FOUND["actions"] | lexicon | transitions | set(DECISIONS)
    missing = sorted(code for code in codes if code not in ACTION_LABELS_NL)
    assert not missing, f"audit actions without a Dutch label: {missing}"


def test_every_state_has_a_dutch_label() -> None:
    enums = (CommentState, AppealState, ReportOutcome, MatchDayMode, CommentMode)
    codes = FOUND["states"] | {member.value for enum in enums for member in enum}
    missing = sorted(code for code in codes if code not in STATE_LABELS_NL)
    assert not missing, f"states without a Dutch label: {missing}"


def test_lists_reasons_and_poll_codes_have_dutch_labels() -> None:
    assert set(CATEGORIES) <= set(LIST_LABELS_NL), set(CATEGORIES) - set(LIST_LABELS_NL)
    assert {s.value for s in PollState} <= set(POLL_STATE_LABELS_NL)
    assert {"ip_allowance", "burst"} <= set(SUSPICION_LABELS_NL)
    for code in ReasonCode:
        assert code.label_nl and code.label_nl != code.value
        assert templating.reason_nl(code.value) == code.label_nl


@pytest.mark.parametrize("table", ["ERROR", "ACTION", "STATE", "LIST", "POLL_STATE", "SUSPICION"])
def test_labels_are_dutch_words_not_codes(table: str) -> None:
    labels: dict[str, str] = getattr(templating, f"{table}_LABELS_NL")
    same = sorted(
        code
        for code, label in labels.items()
        if not label or (label == code and code not in SAME_IN_DUTCH)
    )
    underscored = sorted(code for code, label in labels.items() if "_" in label)
    assert not same and not underscored, (same, underscored)


# ---------------------------------------------------------------- pages


def raw_codes_in(html: str, codes: set[str]) -> set[str]:
    """Codes that appear as text of the page (not inside tags or attributes)."""
    text = re.sub(r"<script.*?</script>|<[^>]+>", " ", html, flags=re.S)
    words = set(re.findall(r"[a-z][a-z0-9_]+", text))
    return codes & words


def test_statistics_and_word_lists_show_no_raw_codes(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    moderator = make_user(Role.MODERATOR, username="scheids")
    now = utcnow()
    for action, reason in (
        ("approve", None),
        ("reject", "racisme"),
        ("remove", "spam"),
        ("restore", None),
        ("appeal_upheld", None),
        ("dismiss_reports", None),
    ):
        db.add(
            ModerationAction(
                actor_id=moderator.id,
                target_type="comment",
                target_id="1",
                action=action,
                reason_code=reason,
                created_at=now - timedelta(minutes=5),
            )
        )
    for name in CATEGORIES:
        runtime.add_entry(db, moderator, LexiconAction.ADD, f"woord {name}", name)
    runtime.add_entry(db, moderator, LexiconAction.ALLOW, "toegestaan")
    db.commit()
    login(client, moderator)

    shown = {a for a in DECISIONS} | {r.value for r in ReasonCode if "_" in r.value}
    stats = client.get("/moderatie/statistieken")
    assert stats.status_code == 200
    html = stats.get_data(as_text=True)
    assert not raw_codes_in(html, shown), raw_codes_in(html, shown)
    assert "bezwaar toegekend" in html and "Racisme" in html

    words = client.get("/moderatie/woorden")
    assert words.status_code == 200
    html = words.get_data(as_text=True)
    # List names are also Dutch-looking words ("hate", "spam"): each row's list cell is checked.
    cells = re.findall(r'data-label="Lijst">([^<]*)<', html)
    assert len(cells) == len(CATEGORIES) + 1
    assert not set(cells) & set(CATEGORIES), cells
    assert set(cells) >= {LIST_LABELS_NL[name] for name in CATEGORIES}
    options = re.findall(r'<option value="(\w+)"[^>]*>([^<]*)<', html)
    assert all(label != value for value, label in options), options
