"""Forms of the article page: post, reply, edit, report, appeal; and which of them a page
shows filled in (the one that failed keeps what the reader typed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from wtforms import HiddenField, SelectField, StringField, TextAreaField

from comments.services import BODY_MAX, BODY_MIN, REPORT_NOTE_MAX
from forms.base import ButtonForm, TribuneForm, choices_of, length, optional, required
from moderation.actions import APPEAL_MAX, APPEAL_MIN
from reasons import ReasonCode

F = TypeVar("F", bound=TribuneForm)

BODY_RULE_NL = f"Een reactie heeft {BODY_MIN} tot {BODY_MAX} tekens."


class CommentForm(TribuneForm):
    """A comment, or a reply when parent_id names the comment it answers."""

    refusal_field = "body"  # too fast, suspended, closed, duplicate: all about this text

    parent_id = HiddenField()
    body = TextAreaField(
        "Jouw reactie", [required(BODY_RULE_NL), length(BODY_MIN, BODY_MAX, BODY_RULE_NL)]
    )


class EditCommentForm(TribuneForm):
    """The new text of one's own comment, within the edit window."""

    refusal_field = "body"

    body = TextAreaField(
        "Je reactie", [required(BODY_RULE_NL), length(BODY_MIN, BODY_MAX, BODY_RULE_NL)]
    )


class ReportForm(TribuneForm):
    """Why a reader reports someone else's comment."""

    reason = SelectField(
        "Waarom meld je deze reactie?",
        [required("Kies een reden.")],
        choices=choices_of(ReasonCode),
        validate_choice=True,
    )
    note = StringField(
        "Toelichting (niet verplicht)", [optional(), length(maximum=REPORT_NOTE_MAX)]
    )


class ReactionForm(TribuneForm):
    """The "Sterk" button of someone else's comment: sterk=1 gives it, sterk=0 takes it back
    (the state the reader asks for, so a second click of a stale page changes nothing)."""

    sterk = HiddenField()


class AppealForm(TribuneForm):
    """The author's one appeal against a rejection or removal."""

    refusal_field = "body"

    body = TextAreaField(
        "Waarom klopt deze beslissing niet?",
        [
            required(),
            length(
                APPEAL_MIN,
                APPEAL_MAX,
                f"Leg in {APPEAL_MIN} tot {APPEAL_MAX} tekens uit waarom je bezwaar maakt.",
            ),
        ],
    )


@dataclass
class ArticleForms:
    """The forms of one article page. Each is built once and rendered per comment; the one
    that failed (`kind` on the comment `target`) comes back with the text and its errors."""

    kind: str | None = None
    target: int | None = None
    failed: TribuneForm | None = None
    _empty: dict[type[TribuneForm], TribuneForm] = field(default_factory=dict)

    def is_failed(self, kind: str, target: int | None = None) -> bool:
        """Whether this is the form that failed (its <details> opens, its errors show)."""
        return self.failed is not None and self.kind == kind and self.target == target

    def _form(self, kind: str, target: int | None, form_type: type[F]) -> F:
        if self.is_failed(kind, target) and isinstance(self.failed, form_type):
            return self.failed
        empty = self._empty.get(form_type)
        if not isinstance(empty, form_type):
            # Never filled from the request: a failed reply must not fill every other form.
            empty = self._empty[form_type] = form_type(formdata=None)
        return empty

    def post(self) -> CommentForm:
        """The top-level comment form."""
        return self._form("post", None, CommentForm)

    def reply(self, comment_id: int) -> CommentForm:
        """The reply form under one comment."""
        return self._form("reply", comment_id, CommentForm)

    def edit(self, comment: Any) -> EditCommentForm:
        """The edit form of one's own comment, holding its current text."""
        if self.is_failed("edit", comment.id) and isinstance(self.failed, EditCommentForm):
            return self.failed
        return EditCommentForm(formdata=None, body=comment.body)

    def report(self, comment_id: int) -> ReportForm:
        """The report form under someone else's comment."""
        return self._form("report", comment_id, ReportForm)

    def appeal(self, comment_id: int) -> AppealForm:
        """The appeal form under one's own rejected comment."""
        return self._form("appeal", comment_id, AppealForm)

    def reaction(self, comment_id: int) -> ReactionForm:
        """The "Sterk" button under someone else's comment."""
        return self._form("reaction", comment_id, ReactionForm)

    def button(self) -> ButtonForm:
        """A one-click form (delete)."""
        return self._form("button", None, ButtonForm)
