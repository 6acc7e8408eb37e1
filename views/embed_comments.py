"""The comments embed: /embed/comments/<article_id>, rendered by /static/comments.js into a
shadow root of the publisher's page (docs/embed.md).

The thread is pages/_thread.html, the same partial, services and forms as /artikels/<id>; only
the layout (no site header or footer, its own compact CSS) and the write routes differ. The
host page's script calls these routes cross-origin (CORS for EMBED_ALLOWED_ORIGINS,
views.embed_auth) without cookies: every form and in-thread link goes by fetch with
`Authorization: Bearer <embed token>` when a reader is signed in, and swaps in the thread
fragment (templates/embed/_comments.html) this blueprint answers to `?fragment=1` and to every
write. A refusal keeps the typed text with the Dutch error beside the field, with the refusal's
status. Such requests read no cookie and are not CSRF-able; the same routes reached with the
first-party session cookie (a direct visit: the full page, a link to the article) keep the
form's CSRF check.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from articles.from_embed import NOT_OPEN_NL, create_article_from_embed
from comments import services as comments
from comments.services import posting_block
from comments.threads import ThreadNode, authors_pending
from db import get_session, read_first, start_write
from errors import DomainError
from extensions import limits_checked
from forms.base import ConfirmForm, TribuneForm
from forms.comments import (
    AppealForm,
    ArticleForms,
    CommentForm,
    EditCommentForm,
    ReactionForm,
    ReportForm,
)
from lookups import get_or_404
from models import Article, Comment, CommentState, ThreadSort, User, utcnow
from moderation.actions import file_appeal
from moderation.comment_states import PostedComment
from moderation.modes import ActiveMode, active_mode
from reasons import ReasonCode
from views.comments import (
    OUTCOME_MESSAGES,
    reaction_limited,
    reply_target,
    submit_comment,
    submit_reaction,
    submit_report,
)
from views.embed_auth import embed_authenticated
from views.headers import PRIVATE_CACHE
from views.pages import page_sort, thread_context
from views.poll_support import parent_origin_allowed
from wiring import posting_policy, refresh_hint, screen_text, thread_cache

bp = Blueprint("embed_comments", __name__, url_prefix="/embed/comments")

SIGN_IN_NL = "Meld je aan om te reageren."
EDITED_NL = "Je reactie is aangepast."
EDIT_HELD_NL = "Je aangepaste reactie wordt eerst nagekeken."
REPORTED_NL = "Bedankt, een moderator bekijkt je melding."
REPORTED_AGAIN_NL = "Je had deze reactie al gemeld."
APPEALED_NL = "Je bezwaar is ingediend. Een moderator bekijkt het."
REACTED_NL = "Je gaf deze reactie een Sterk."
UNREACTED_NL = "Je Sterk is ingetrokken."


def _origin_allowed(origin: str) -> bool:
    return parent_origin_allowed(origin, current_app.config["EMBED_ALLOWED_ORIGINS"]) is not None


def _article(article_id: str) -> Article | None:
    return get_session().scalar(select(Article).where(Article.cms_id == article_id))


def thread_etag(article: Article) -> str:
    """The thread's validator for this reader and view: the article's thread_version (bumped
    with every published change), the reader, the sort and the page. Weak: the edit links
    also follow the clock."""
    reader = current_user.id if current_user.is_authenticated else 0
    sort = _sort_mark(article)
    page = request.args.get("pagina", "1")[:6]
    shape = "f" if wants_fragment() else "p"
    return (
        f'W/"t{article.thread_version}-u{reader}-{sort}{page}-c{article.comment_count}{shape}'
        f'{_filter_variant()}"'
    )


def _filter_variant() -> str:
    """The thread filter of the request in a cache key or validator ("" without one)."""
    # Letters and digits only: it goes into a quoted header value.
    featured = "".join(ch for ch in request.args.get("filter", "")[:12] if ch.isalnum())
    stemde = "".join(ch for ch in request.args.get("stemde", "")[:12] if ch.isalnum())
    return f"-f{featured}-s{stemde}" if featured or stemde else ""


def _sort_mark(article: Article) -> str:
    """The sort of this view in a validator or cache key; "beste" also follows the clock (a
    new mark every ten minutes: ages change the order without a write)."""
    sort = page_sort(article)
    if sort is ThreadSort.BEST:
        return f"b{int(time.time() // 600)}"
    return str(sort.value)[0]


def _render(
    article: Article,
    forms: ArticleForms | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    context = thread_context(article, forms)
    html = render_template(
        "embed/_comments.html" if wants_fragment() else "embed/comments.html",
        **_forms_once(),
        comment_routes="embed_comments",
        thread_endpoint="embed_comments.thread",
        embed=True,
        etag=thread_etag(article),
        auth_error=g.get("embed_auth_error"),
        **context,
        **extra,
    )
    response = make_response(html, status)
    response.headers["Cache-Control"] = _cache_control()
    response.vary.add("Authorization")
    return response


# The comment id in the embed's form templates, replaced by comments.js with the real one.
FORM_PLACEHOLDER_ID = 999_999_999


# Where comments.js puts a Dutch reason label (a held comment's signals, a rejection's reason)
# in the templates of the reader's own new comment.
REASON_MARKER = "__REDEN__"


def _forms_once() -> dict[str, Any]:
    """comments.js's reader (an embed token) gets the per-comment forms once, as <template>s
    it clones when a comment's form is opened (embed/_form_templates.html), not rendered for
    every comment; a direct visit (cookie, maybe no script) keeps them per comment.

    With them come the templates of the reader's own new comment, which comments.js posts to
    the JSON API and builds from the answer without another request: its `<li>` in the thread
    (pages/_comment.html) and its entry in the "in behandeling" card when held or rejected
    (pages/_own_pending.html), each rendered for a stub with the placeholder id, plus the
    outcome notices, the count's words and the reasons' Dutch labels."""
    if not embed_authenticated():
        return {"forms_once": False}
    stub = SimpleNamespace(id=FORM_PLACEHOLDER_ID, body="")
    now = utcnow()
    # Depth 3 shows "antwoord op …" (filled in or taken out by comments.js), below 6 "Antwoorden".
    new = SimpleNamespace(
        id=FORM_PLACEHOLDER_ID,
        body="",
        depth=3,
        parent_id=None,
        author_id=current_user.id,
        created_at=now,
        edited_at=None,
        reaction_count=0,
    )
    marker = SimpleNamespace(label_nl=REASON_MARKER)

    def pending(state: CommentState, signals: bool = False) -> SimpleNamespace:
        return SimpleNamespace(
            id=FORM_PLACEHOLDER_ID,
            body="",
            state=state,
            flags=[SimpleNamespace(reason=marker)] if signals else [],
            decision_reason=marker if state is CommentState.REJECTED else None,
            decision_note=None,
        )

    return {
        "forms_once": True,
        "form_stub": stub,
        "form_stub_node": SimpleNamespace(comment=stub, author_name="", replies=[]),
        "new_stub_node": SimpleNamespace(
            comment=new, author_name=current_user.username, replies=[], is_deleted=False
        ),
        "pending_stubs": {
            "held": pending(CommentState.HELD),
            "held-signals": pending(CommentState.HELD, signals=True),
            "rejected": pending(CommentState.REJECTED),
        },
        "reason_marker": REASON_MARKER,
        "reason_labels": {code.value: code.label_nl for code in ReasonCode},
        "outcome_notices": {
            state.value: message for state, (message, _) in OUTCOME_MESSAGES.items()
        },
        # What comments.js says after an edit or a report it sent to the JSON API.
        "edit_notices": {"done": EDITED_NL, "held": EDIT_HELD_NL},
        "report_notices": {"new": REPORTED_NL, "again": REPORTED_AGAIN_NL},
        "appeal_notice": APPEALED_NL,
    }


def wants_fragment() -> bool:
    """The thread fragment (no <html> shell) for comments.js: `?fragment=1` on a GET, and
    every write's answer (only comments.js and a direct visit's forms write; both swap or show
    the thread)."""
    return request.method != "GET" or request.args.get("fragment") == "1"


def _cache_control() -> str:
    """Never shared. A signed-in reader's page (their own comments, the delete question) is
    not kept at all; the anonymous thread is revalidated (the "nieuwe reacties" check sends
    its own If-None-Match either way)."""
    return PRIVATE_CACHE if current_user.is_authenticated else "private, no-cache"


def _not_open(status: int = 404) -> Response:
    template = "embed/_comments_closed.html" if wants_fragment() else "embed/comments_closed.html"
    response = make_response(render_template(template, message=NOT_OPEN_NL), status)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/<article_id>")
def thread(article_id: str) -> ResponseReturnValue:
    """The embed page of one article's thread (If-None-Match on its ETag → 304)."""
    article = _article(article_id)
    if article is None:
        article = _create_article(article_id)
        if article is None:
            return _not_open()
    etag = thread_etag(article)
    if etag.removeprefix("W/") in {t.removeprefix("W/") for t in _if_none_match()}:
        response = Response(status=304)
    elif _shared_view():
        response = _cached_fragment(article)
    else:
        response = _render(article)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = _cache_control()
    refresh_hint(get_session(), article.id, utcnow()).apply(response.headers)
    response.vary.add("Authorization")
    return response


def _shared_view() -> bool:
    """The anonymous fragment every host page's first load asks for: the same for every reader
    of the article (no reader, no refused token, no form state), so it can be kept."""
    return wants_fragment() and not current_user.is_authenticated and not g.get("embed_auth_error")


def _cached_fragment(article: Article) -> Response:
    """The anonymous fragment from the thread cache (caching.ThreadCache: keyed by the
    article's thread version, which every change readers can see raises, plus what the clock
    can change without a write: the mode in force, with match-day windows and auto-close)."""
    mode = active_mode(get_session(), article, posting_policy().auto_close_days)
    label = mode.window.label if mode.window is not None else ""
    sort = _sort_mark(article)
    page = request.args.get("pagina", "1")[:6]
    variant = (
        f"embed:{sort}:{page}:{article.comment_count}:{int(mode.closed)}"
        f":{int(mode.premoderated)}:{mode.slow_seconds or 0}:{label}{_filter_variant()}"
    )
    cache = thread_cache()
    key = cache.key(article.id, article.thread_version, variant)
    body = cache.get(key)
    if body is None:
        response = _render(article)
        cache.put(key, response.get_data())
        return response
    response = make_response(body)
    response.headers["Cache-Control"] = _cache_control()
    response.vary.add("Authorization")
    return response


def _if_none_match() -> list[str]:
    raw = request.headers.get("If-None-Match", "")
    return [part.strip() for part in raw.split(",") if part.strip()][:10]


def _create_article(article_id: str) -> Article | None:
    """The article the host page asks for, created when the rules allow (articles.from_embed)."""
    session = get_session()
    start_write(session)
    try:
        article = create_article_from_embed(
            session,
            article_id,
            request.args.get("title"),
            request.args.get("url"),
            enabled=bool(current_app.config["TRIBUNE_EMBED_CREATES_ARTICLES"]),
            origin_allowed=_origin_allowed,
        )
        if article is None:
            session.rollback()
            return None
        session.commit()
    except IntegrityError:
        # Two readers opened the new article's page at once: the other one created it.
        session.rollback()
        return _article(article_id)
    return article


# ---------------------------------------------------------------- writes


def _signed_in_or_refuse(article: Article) -> Response | None:
    """None when a reader is signed in; else the embed page with the Dutch sign-in message
    (a refused token's own message is shown by the page already)."""
    if current_user.is_authenticated:
        return None
    get_session().rollback()
    notice = None if g.get("embed_auth_error") else SIGN_IN_NL
    return _render(article, status=401, notice=notice, notice_error=True)


def _failed(
    form: TribuneForm,
    kind: str,
    target: int | None,
    article: Article,
    exc: DomainError | None = None,
) -> Response:
    """The embed page again, this form holding the typed text and the error beside it; to
    comments.js (an embed token) a refused post or reply's text answers only that form."""
    get_session().rollback()
    lean = exc is None or exc.status_code == 422
    if exc is None:
        exc = form.invalid()
    else:
        form.refuse(exc)
    forms = ArticleForms(kind, target, form)
    if lean and embed_authenticated() and kind in ("post", "reply"):
        return _refused_form(article, forms, kind, target, exc.status_code)
    return _render(article, forms, exc.status_code)


def _refused_form(
    article: Article, forms: ArticleForms, kind: str, target: int | None, status: int
) -> Response:
    """Only the refused form (embed/_refused.html); the thread around it is not read."""
    session = get_session()
    context: dict[str, Any] = {}
    if kind == "reply":
        row = session.execute(
            select(Comment, User.username)
            .join(User, Comment.author_id == User.id)
            .where(Comment.id == target, Comment.article_id == article.id)
        ).first()
        if row is None:
            return _render(article, forms, status)
        context = {"c": row[0], "node": ThreadNode(row[0], row[1])}
    html = render_template(
        "embed/_refused.html",
        comment_routes="embed_comments",
        embed=True,
        article=article,
        kind=kind,
        forms=forms,
        mode=active_mode(session, article, posting_policy().auto_close_days),
        **context,
    )
    session.rollback()
    response = make_response(html, status)
    response.headers["Cache-Control"] = _cache_control()
    response.vary.add("Authorization")
    return response


def _article_of(comment_id: int) -> Article:
    session = get_session()
    comment = get_or_404(
        session, Comment, comment_id, "comment_not_found", "Deze reactie bestaat niet."
    )
    return session.get_one(Article, comment.article_id)


def _done(article: Article, message: str, focus: str, status: int = 200, **extra: Any) -> Response:
    get_session().commit()
    session = get_session()
    session.refresh(article)
    return _render(article, status=status, notice=message, focus=focus, **extra)


def _changed(
    article: Article, comment: Comment | PostedComment, kind: str, message: str, focus: str
) -> Response:
    """The lean answer to comments.js's post or reply (embed/_change.html): the new comment's
    <li> (or, held or rejected, the reader's "in behandeling" card) with the outcome notice,
    instead of the re-rendered thread; the other comments are not read."""
    session = get_session()
    session.commit()
    # Only what the answer reads: the count and the version (the ETag).
    session.refresh(article, ["comment_count", "thread_version"])
    state = comment.state
    context: dict[str, Any] = {"node": None, "own_pending": [], "reply_to": None}
    if state is CommentState.PUBLISHED:
        # A PostedComment holds every column the partial reads.
        context["node"] = ThreadNode(comment, current_user.username)  # type: ignore[arg-type]
        if comment.parent_id is not None:
            # As in the thread: a deep reply names whom it answers.
            row = session.execute(
                select(User.username, Comment.state)
                .join(Comment, Comment.author_id == User.id)
                .where(Comment.id == comment.parent_id)
            ).first()
            if row is not None and row[1] is not CommentState.DELETED:
                context["reply_to"] = row[0]
    else:
        context["own_pending"], context["appeals"] = authors_pending(
            session, article, current_user.id
        )
    now = utcnow()
    html = render_template(
        "embed/_change.html",
        **_forms_once(),
        comment_routes="embed_comments",
        thread_endpoint="embed_comments.thread",
        embed=True,
        article=article,
        kind=kind,
        place="thread" if state is CommentState.PUBLISHED else "pending",
        parent_id=comment.parent_id,
        notice=message,
        notice_error=state is CommentState.REJECTED,
        focus=focus,
        etag=thread_etag(article),
        # The post went through, so the article is open: the new comment's controls read
        # only mode.closed (no need to read the match-day windows again).
        mode=ActiveMode(),
        suspension=posting_block(current_user, now),
        forms=ArticleForms(),
        edit_window=posting_policy().edit_window_seconds,
        now=now,
        **context,
    )
    response = make_response(html, 201)
    response.headers["Cache-Control"] = _cache_control()
    response.vary.add("Authorization")
    return response


@bp.post("/<article_id>/reacties")
@read_first
def post(article_id: str) -> ResponseReturnValue:
    """Post a comment or a reply from the embed."""
    article = _article(article_id)
    if article is None:
        return _not_open()
    form = CommentForm()
    refused = _signed_in_or_refuse(article)
    if refused is not None:
        return refused
    parent_id, kind, target = reply_target(form)
    if not form.validate():
        return _failed(form, kind, target, article)
    try:
        result = submit_comment(article_id, form, parent_id)
    except DomainError as exc:
        return _failed(form, kind, target, article, exc)
    state = result.comment.state
    message, _ = OUTCOME_MESSAGES[state]
    comment_id = result.comment.id
    anchor = f"reactie-{comment_id}" if state is CommentState.PUBLISHED else "reacties"
    if embed_authenticated():
        return _changed(article, result.comment, kind, message, anchor)
    return _done(
        article,
        message,
        anchor,
        201,
        notice_error=state is CommentState.REJECTED,
        own_post=True,
    )


@bp.post("/reacties/<int:comment_id>/bewerken")
def edit(comment_id: int) -> ResponseReturnValue:
    """Edit one's own comment within the edit window."""
    session = get_session()
    article = _article_of(comment_id)
    form = EditCommentForm()
    refused = _signed_in_or_refuse(article)
    if refused is not None:
        return refused
    if not form.validate():
        return _failed(form, "edit", comment_id, article)
    try:
        result = comments.edit_comment(
            session, comment_id, current_user, form.body.data, screen_text, posting_policy()
        )
    except DomainError as exc:
        return _failed(form, "edit", comment_id, article, exc)
    held = result.comment.state is CommentState.HELD
    return _done(
        article,
        EDIT_HELD_NL if held else EDITED_NL,
        "reacties" if held else f"reactie-{comment_id}",
    )


@bp.route("/reacties/<int:comment_id>/verwijderen", methods=["GET", "POST"])
def delete(comment_id: int) -> ResponseReturnValue:
    """Delete one's own comment in two steps, as on the site: first the question (with the
    comment), then only the confirm button's POST deletes; undo follows."""
    session = get_session()
    article = _article_of(comment_id)
    refused = _signed_in_or_refuse(article)
    if refused is not None:
        return refused
    form = ConfirmForm()
    if request.method == "GET" or not form.confirmed():
        comment = comments.own_comment(session, comment_id, current_user)
        session.rollback()
        return _render(
            article,
            confirm_delete=comment,
            confirm_form=ConfirmForm(formdata=None),
            undo_minutes=posting_policy().undo_delete_seconds // 60,
            focus="bevestig",
        )
    comments.delete_comment(session, comment_id, current_user)
    return _done(
        article,
        "Je reactie is verwijderd. Je kan dit nog even ongedaan maken.",
        f"verwijderd-{comment_id}",
    )


@bp.post("/reacties/<int:comment_id>/terugzetten")
def undelete(comment_id: int) -> ResponseReturnValue:
    """Take back deleting one's own comment, within the undo window."""
    session = get_session()
    article = _article_of(comment_id)
    refused = _signed_in_or_refuse(article)
    if refused is not None:
        return refused
    try:
        comments.undelete_comment(session, comment_id, current_user, posting_policy())
    except DomainError as exc:
        session.rollback()
        if exc.status_code == 404:
            raise
        return _render(article, status=exc.status_code, notice=exc.message, notice_error=True)
    return _done(article, "Je reactie staat terug.", f"reactie-{comment_id}")


@bp.post("/reacties/<int:comment_id>/melden")
def report(comment_id: int) -> ResponseReturnValue:
    """Report someone else's comment, with a reason."""
    article = _article_of(comment_id)
    form = ReportForm()
    refused = _signed_in_or_refuse(article)
    if refused is not None:
        return refused
    if not form.validate():
        return _failed(form, "report", comment_id, article)
    try:
        created = submit_report(comment_id, form)
    except DomainError as exc:
        return _failed(form, "report", comment_id, article, exc)
    return _done(article, REPORTED_NL if created else REPORTED_AGAIN_NL, f"reactie-{comment_id}")


@bp.post("/reacties/<int:comment_id>/sterk")
@limits_checked
@reaction_limited
def react(comment_id: int) -> ResponseReturnValue:
    """Give someone else's comment a "Sterk", or take it back (the form says which)."""
    article = _article_of(comment_id)
    form = ReactionForm()
    refused = _signed_in_or_refuse(article)
    if refused is not None:
        return refused
    if not form.validate():
        return _failed(form, "reaction", comment_id, article)
    try:
        state = submit_reaction(comment_id, form)
    except DomainError as exc:
        # As undoing a delete: the comment may be gone from the thread, so a notice on top.
        get_session().rollback()
        if exc.status_code == 404:
            raise
        return _render(article, status=exc.status_code, notice=exc.message, notice_error=True)
    return _done(article, REACTED_NL if state.reacted else UNREACTED_NL, f"reactie-{comment_id}")


@bp.post("/reacties/<int:comment_id>/bezwaar")
def appeal(comment_id: int) -> ResponseReturnValue:
    """The author appeals a rejection or removal (once)."""
    session = get_session()
    article = _article_of(comment_id)
    form = AppealForm()
    refused = _signed_in_or_refuse(article)
    if refused is not None:
        return refused
    if not form.validate():
        return _failed(form, "appeal", comment_id, article)
    try:
        file_appeal(session, current_user, comment_id, form.body.data)
    except DomainError as exc:
        if exc.status_code == 404:
            session.rollback()
            raise
        return _failed(form, "appeal", comment_id, article, exc)
    return _done(article, APPEALED_NL, f"reactie-{comment_id}")


# ---------------------------------------------------------------- the popup sign-in

signin_bp = Blueprint("embed_signin", __name__, url_prefix="/embed")


@signin_bp.get("/aanmelden")
def sign_in() -> ResponseReturnValue:
    """The first-party popup comments.js opens from the host page: the normal login (or
    registration) first, then this page asks POST /embed/sessie for an embed token (session
    cookie + CSRF) and hands it to the host page (window.opener) by postMessage with
    targetOrigin = `?origin=`, which must be an allowed host origin (EMBED_ALLOWED_ORIGINS:
    checked here, so a token never goes to any other page), and closes."""
    origin = parent_origin_allowed(
        request.args.get("origin"), current_app.config["EMBED_ALLOWED_ORIGINS"]
    )
    if origin is None:
        response = make_response(render_template("embed/sign_in_refused.html"), 400)
    elif not current_user.is_authenticated:
        endpoint = "auth.register" if request.args.get("registreren") else "auth.login"
        return redirect(url_for(endpoint, next=url_for("embed_signin.sign_in", origin=origin)))
    else:
        response = make_response(render_template("embed/sign_in.html", host_origin=origin))
    # First-party only: never framed (the page hands out a token), never cached.
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
