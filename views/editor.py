"""/redactie/: editors' pages for polls (create, schedule, edit, close, results, quarantine,
CSV export, embed snippet) and each article's comment mode."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from articles import services as articles
from db import get_session
from errors import DomainError
from forms.base import ButtonForm, ConfirmForm
from forms.editor import (
    MODE_NL,
    OPTION_FIELDS,
    SORT_NL,
    VISIBILITY_NL,
    CommentModeForm,
    DefaultSortForm,
    PollForm,
    PredictionPollForm,
    QuarantineForm,
    RatingsPollForm,
    ReopenForm,
    ResultForm,
    player_field_names,
)
from models import (
    Article,
    Ballot,
    CommentMode,
    Poll,
    PollKind,
    ResultsVisibility,
    Role,
    ThreadSort,
    VoterScope,
)
from parsing import page_number
from polls import export, predictions
from polls import services as polls
from polls.ratings import rating_results
from polls.results import ballot_stats, poll_results, votes_over_time
from security import role_required
from views import poll_support as support
from views.public_url import external_url
from views.templating import POLL_STATE_LABELS_NL, SUSPICION_LABELS_NL

bp = Blueprint("editor", __name__, url_prefix="/redactie")
EDITORS = (Role.EDITOR, Role.ADMIN)
ARTICLES_PER_PAGE = 30
SUSPICIOUS_SHOWN = 200

STATE_NL = POLL_STATE_LABELS_NL
SUSPICION_NL = SUSPICION_LABELS_NL


def _same_minute(submitted: datetime | None, stored: datetime | None) -> bool:
    if submitted is None or stored is None:
        return submitted is stored
    return submitted == stored.replace(second=0, microsecond=0)


# ---------------------------------------------------------------- helpers


def _poll_or_404(poll_id: int) -> Poll:
    return polls.get_poll(get_session(), poll_id, support.now(), editor=True)


def _article_of(poll: Poll) -> Article:
    return get_session().get_one(Article, poll.article_id)


def snippet(poll: Poll) -> str:
    """The copy-paste embed code for a poll."""
    script = external_url("static", filename="embed.js")
    return f'<div data-tribune-poll="{poll.id}"></div>\n<script src="{script}" async></script>'


def _poll_data(poll: Poll) -> dict:
    """A stored poll as the form's starting values (also what frozen fields keep)."""
    data = {
        "question": poll.question,
        "max_choices": poll.max_choices,
        "opens_at": poll.opens_at,
        "closes_at": poll.closes_at,
        "results_visibility": poll.results_visibility.value,
        "voter_scope": poll.voter_scope.value,
    }
    for name, option in zip(OPTION_FIELDS, poll.options, strict=False):
        data[name] = option.label
    return data


def _draft_from_form(form: PollForm, poll: Poll | None, frozen: bool) -> polls.PollDraft:
    """The poll as typed; a frozen poll keeps its question, answers, choices, opening and
    scope whatever was sent."""
    if frozen and poll is not None:
        question = poll.question
        options = [o.label for o in poll.options]
        max_choices = poll.max_choices
        opens_at = poll.opens_at
        scope = poll.voter_scope
    else:
        question = form.question.data or ""
        options = form.labels()
        max_choices = form.max_choices.data
        opens_at = form.opens_at.data
        if poll is not None and _same_minute(opens_at, poll.opens_at):
            opens_at = poll.opens_at
        scope = VoterScope(form.voter_scope.data)
    closes_at = form.closes_at.data
    if poll is not None and _same_minute(closes_at, poll.closes_at):
        closes_at = poll.closes_at
    return polls.PollDraft(
        question=question,
        options=options,
        max_choices=max_choices,
        opens_at=opens_at,
        closes_at=closes_at,
        results_visibility=ResultsVisibility(form.results_visibility.data),
        voter_scope=scope,
    )


def _render_form(
    article: Article,
    poll: Poll | None,
    status: int = 200,
    form: PollForm | None = None,
    reopen_form: ReopenForm | None = None,
) -> ResponseReturnValue:
    session = get_session()
    frozen = poll is not None and polls.has_ballots(session, poll.id)
    if form is None:
        form = PollForm(formdata=None, data=_poll_data(poll) if poll else None)
    return (
        render_template(
            "editor/poll_form.html",
            article=article,
            poll=poll,
            frozen=frozen,
            form=form,
            reopen_form=reopen_form or ReopenForm(formdata=None),
            button=ButtonForm(formdata=None),
            state=polls.poll_state(poll, support.now()).value if poll else None,
            states=STATE_NL,
            snippet=snippet(poll) if poll else None,
            min_options=polls.MIN_OPTIONS,
            max_options=polls.MAX_OPTIONS,
        ),
        status,
    )


# ---------------------------------------------------------------- pages


@bp.get("/")
@role_required(*EDITORS)
def index() -> ResponseReturnValue:
    """Articles (newest first, searchable by title or id, one page at a time) with their polls
    and comment mode, one compact row each."""
    session = get_session()
    query = (request.args.get("q") or "").strip()[:100]
    page = page_number(request.args.get("pagina"))
    matching = select(Article)
    if query:
        # A typed % or _ is a character, not a wildcard.
        matching = matching.where(
            or_(
                Article.title.icontains(query, autoescape=True),
                Article.cms_id.icontains(query, autoescape=True),
            )
        )
    total = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    pages = max(1, -(-total // ARTICLES_PER_PAGE))
    page = min(page, pages)
    items = list(
        session.scalars(
            matching.order_by(Article.published_at.desc().nulls_last(), Article.id.desc())
            .offset((page - 1) * ARTICLES_PER_PAGE)
            .limit(ARTICLES_PER_PAGE)
        )
    )
    by_article: dict[int, list[Poll]] = {a.id: [] for a in items}
    if items:
        for poll in session.scalars(
            select(Poll)
            .where(Poll.article_id.in_(list(by_article)))
            .options(selectinload(Poll.options))
            .order_by(Poll.created_at, Poll.id)
        ):
            by_article[poll.article_id].append(poll)
    moment = support.now()
    return render_template(
        "editor/index.html",
        items=items,
        by_article=by_article,
        query=query,
        page=page,
        pages=pages,
        total=total,
        state_of=lambda p: polls.poll_state(p, moment).value,
        states=STATE_NL,
        mode_form=CommentModeForm(formdata=None, q=query),
        sort_form=DefaultSortForm(formdata=None, q=query),
    )


@bp.route("/artikels/<article_id>/peilingen/nieuw", methods=["GET", "POST"])
@role_required(*EDITORS)
def new_poll(article_id: str) -> ResponseReturnValue:
    """Create a poll on an article."""
    session = get_session()
    article = articles.article_for_page(session, article_id)
    form = PollForm()
    if request.method == "GET":
        return _render_form(article, None, form=form)
    if not form.validate():
        return _render_form(article, None, 422, form)
    try:
        draft = _draft_from_form(form, None, frozen=False)
        poll = polls.create_poll(session, article, draft, current_user, support.now())
    except DomainError as exc:
        session.rollback()
        form.refuse(exc)
        return _render_form(article, None, exc.status_code, form)
    session.commit()
    flash("De peiling is aangemaakt.", "success")
    return redirect(url_for("editor.poll", poll_id=poll.id), 303)


def _lineup_fields(error: DomainError, rows: list[int]) -> DomainError:
    """The service's "players.<i>.<part>" fields named as the form's row inputs."""
    fields = dict((error.details or {}).get("fields") or {})
    if not fields:
        return error
    named: dict[str, str] = {}
    parts = {"shirt_number": 0, "name": 1, "role": 2}
    for key, message in fields.items():
        pieces = key.split(".")
        if len(pieces) == 3 and pieces[0] == "players" and pieces[1].isdigit():
            index = int(pieces[1])
            row = rows[index] if index < len(rows) else 0
            named[player_field_names(row)[parts.get(pieces[2], 1)]] = message
        elif key == "players":
            named[player_field_names(0)[1]] = message
        else:
            named[key] = message
    return DomainError(error.code, error.message, error.status_code, {"fields": named})


@bp.route("/artikels/<article_id>/spelersbeoordelingen/nieuw", methods=["GET", "POST"])
@role_required(*EDITORS)
def new_ratings_poll(article_id: str) -> ResponseReturnValue:
    """Create a player ratings poll: the line-up, one row per player, and the coach."""
    session = get_session()
    article = articles.article_for_page(session, article_id)
    form = RatingsPollForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            players, rows = form.lineup()
            draft = polls.PollDraft(
                question=form.question.data or "",
                options=[],
                kind=PollKind.PLAYER_RATINGS,
                players=players,
                coach=(form.coach.data or "").strip() or None,
                opens_at=form.opens_at.data,
                closes_at=form.closes_at.data,
                results_visibility=ResultsVisibility(form.results_visibility.data),
                voter_scope=VoterScope(form.voter_scope.data),
            )
            try:
                poll = polls.create_poll(session, article, draft, current_user, support.now())
            except DomainError as exc:
                session.rollback()
                form.refuse(_lineup_fields(exc, rows))
                status = exc.status_code
            else:
                session.commit()
                flash("De spelersbeoordeling is aangemaakt.", "success")
                return redirect(url_for("editor.poll", poll_id=poll.id), 303)
        else:
            status = 422
    return (
        render_template("editor/ratings_form.html", article=article, form=form),
        status,
    )


@bp.route("/artikels/<article_id>/voorspellingen/nieuw", methods=["GET", "POST"])
@role_required(*EDITORS)
def new_prediction_poll(article_id: str) -> ResponseReturnValue:
    """Create a score prediction poll: the match, its competition and the kick-off."""
    session = get_session()
    article = articles.article_for_page(session, article_id)
    form = PredictionPollForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            draft = polls.PollDraft(
                question=form.question.data or "",
                options=[],
                kind=PollKind.SCORE_PREDICTION,
                home_team=form.home_team.data or "",
                away_team=form.away_team.data or "",
                competition=form.competition.data or "",
                opens_at=form.opens_at.data,
                closes_at=form.closes_at.data,
                results_visibility=ResultsVisibility(form.results_visibility.data),
            )
            try:
                poll = polls.create_poll(session, article, draft, current_user, support.now())
            except DomainError as exc:
                session.rollback()
                form.refuse(exc)
                status = exc.status_code
            else:
                session.commit()
                flash("De voorspelling is aangemaakt.", "success")
                return redirect(url_for("editor.poll", poll_id=poll.id), 303)
        else:
            status = 422
    return (
        render_template("editor/prediction_form.html", article=article, form=form),
        status,
    )


@bp.post("/peilingen/<int:poll_id>/uitslag")
@role_required(*EDITORS)
def enter_result(poll_id: int) -> ResponseReturnValue:
    """The final score of a score prediction poll: scores every prediction (again after a
    correction); a refusal shows the results page with the message beside the field."""
    session = get_session()
    form = ResultForm()
    if form.validate():
        exact, right = support.prediction_points()
        try:
            resolution = predictions.resolve(
                session,
                poll_id,
                form.home_goals.data,
                form.away_goals.data,
                current_user,
                support.now(),
                exact,
                right,
            )
        except DomainError as exc:
            session.rollback()
            if exc.status_code == 404:
                raise
            form.refuse(exc)
            return results(poll_id, result_form=form, status=exc.status_code)
        session.commit()
        flash(
            f"De uitslag is ingevuld: {resolution.scored} voorspellingen "
            f"{'opnieuw ' if resolution.corrected else ''}gescoord.",
            "success",
        )
        return redirect(url_for("editor.results", poll_id=poll_id), 303)
    return results(poll_id, result_form=form, status=422)


@bp.route("/peilingen/<int:poll_id>", methods=["GET", "POST"])
@role_required(*EDITORS)
def poll(poll_id: int) -> ResponseReturnValue:
    """Edit a poll (question and options freeze at the first ballot); the embed snippet."""
    session = get_session()
    item = _poll_or_404(poll_id)
    article = _article_of(item)
    if request.method == "GET":
        return _render_form(article, item)
    # Fields a frozen poll does not send (its fieldset is disabled) keep the stored values.
    form = PollForm(data=_poll_data(item))
    if not form.validate():
        return _render_form(article, item, 422, form)
    frozen = polls.has_ballots(session, item.id)
    try:
        draft = _draft_from_form(form, item, frozen)
        polls.update_poll(session, item.id, draft, current_user, support.now())
    except DomainError as exc:
        session.rollback()
        form.refuse(exc)
        return _render_form(article, item, exc.status_code, form)
    session.commit()
    flash("De peiling is bijgewerkt.", "success")
    return redirect(url_for("editor.poll", poll_id=item.id), 303)


def _state_action(poll_id: int, action: str) -> ResponseReturnValue:
    session = get_session()
    moment = support.now()
    try:
        if action == "close":
            polls.close_poll(session, poll_id, current_user, moment)
            message = "De peiling is gesloten."
        elif action == "reopen":
            form = ReopenForm()
            if not form.validate():
                item = _poll_or_404(poll_id)
                return _render_form(_article_of(item), item, 422, reopen_form=form)
            polls.reopen_poll(session, poll_id, current_user, moment, form.closes_at.data)
            message = "De peiling is heropend."
        else:
            poll = _poll_or_404(poll_id)
            article_id = _article_of(poll).cms_id
            polls.delete_poll(session, poll_id, current_user, moment)
            session.commit()
            flash("De peiling is verwijderd.", "success")
            return redirect(url_for("editor.index", q=article_id), 303)
    except DomainError as exc:
        session.rollback()
        if exc.status_code == 404:
            raise
        flash(exc.message, "error")
        return redirect(url_for("editor.poll", poll_id=poll_id), 303)
    session.commit()
    flash(message, "success")
    return redirect(url_for("editor.poll", poll_id=poll_id), 303)


@bp.post("/peilingen/<int:poll_id>/sluiten")
@role_required(*EDITORS)
def close(poll_id: int) -> ResponseReturnValue:
    """Close now."""
    return _state_action(poll_id, "close")


@bp.post("/peilingen/<int:poll_id>/heropenen")
@role_required(*EDITORS)
def reopen(poll_id: int) -> ResponseReturnValue:
    """Reopen (optionally until a new closing time)."""
    return _state_action(poll_id, "reopen")


@bp.route("/peilingen/<int:poll_id>/verwijderen", methods=["GET", "POST"])
@role_required(*EDITORS)
def delete(poll_id: int) -> ResponseReturnValue:
    """Delete a poll without ballots, in two steps: GET (or a POST without the confirmation)
    shows the poll, its article and its vote count with a "yes" button; only that deletes."""
    form = ConfirmForm()
    if request.method == "GET" or not form.confirmed():
        item = _poll_or_404(poll_id)
        return render_template(
            "editor/confirm_delete.html",
            poll=item,
            article=_article_of(item),
            votes=item.ballot_count,
            frozen=polls.has_ballots(get_session(), item.id),
            form=ConfirmForm(formdata=None),
        )
    return _state_action(poll_id, "delete")


@dataclass(frozen=True)
class ChartBar:
    x: float
    width: float
    members_y: float
    members_h: float
    anon_y: float
    anon_h: float
    label: str
    title: str


def timeline_bars(buckets: list, unit: str, width: float = 600, height: float = 140) -> list:
    """Stacked bars (members under anonymous) for the inline SVG chart."""
    if not buckets:
        return []
    peak = max(b.total for b in buckets) or 1
    slot = width / len(buckets)
    every = max(1, len(buckets) // 8)
    bars = []
    for i, b in enumerate(buckets):
        mh = height * b.members / peak
        ah = height * b.anonymous / peak
        stamp = b.start.strftime("%H:%M" if unit == "hour" else "%d/%m")
        if unit == "hour" and (i == 0 or b.start.hour == 0):
            stamp = b.start.strftime("%d/%m %H:%M")
        bars.append(
            ChartBar(
                x=round(i * slot, 2),
                width=round(max(slot * 0.8, 0.5), 2),
                members_y=round(height - mh, 2),
                members_h=round(mh, 2),
                anon_y=round(height - mh - ah, 2),
                anon_h=round(ah, 2),
                label=stamp if i % every == 0 else "",
                title=f"{b.start.strftime('%d/%m %H:%M')}: {b.total} "
                f"({b.members} aangemeld, {b.anonymous} anoniem)",
            )
        )
    return bars


@bp.get("/peilingen/<int:poll_id>/resultaten")
@role_required(*EDITORS)
def results(
    poll_id: int, result_form: ResultForm | None = None, status: int = 200
) -> ResponseReturnValue:
    """Stand, votes over time, member/anonymous split, suspicious ballots and quarantine; a
    score prediction poll's result form."""
    session = get_session()
    item = _poll_or_404(poll_id)
    moment = support.now()
    unit, buckets = votes_over_time(session, item, moment)
    only = request.args.get("filter", "suspicious")
    stmt = select(Ballot).where(Ballot.poll_id == item.id).options(selectinload(Ballot.choices))
    if only == "quarantined":
        stmt = stmt.where(Ballot.quarantined_at.is_not(None))
    else:
        only = "suspicious"
        stmt = stmt.where(Ballot.is_suspicious.is_(True), Ballot.quarantined_at.is_(None))
    listed = list(session.scalars(stmt.order_by(Ballot.created_at.desc()).limit(SUSPICIOUS_SHOWN)))
    ratings = ratings_members = None
    listed_scores: dict[int, list[str]] = {}
    if item.is_ratings:
        minimum = int(current_app.config["TRIBUNE_MOTM_MIN_RATINGS"])
        ratings = rating_results(session, item, minimum)
        ratings_members = rating_results(session, item, minimum, members_only=True)
        names = {p.id: p.name for p in item.players}
        for ballot in listed:
            listed_scores[ballot.id] = [
                f"{names.get(pid, '?')} {score}"
                for pid, score in support.own_ratings(session, ballot.id).items()
            ]
    if item.is_prediction:
        for ballot in listed:
            prediction = support.own_prediction(session, ballot.id)
            if prediction is not None:
                listed_scores[ballot.id] = [f"{prediction.home_goals} – {prediction.away_goals}"]
    return render_template(
        "editor/results.html",
        poll=item,
        article=_article_of(item),
        state=polls.poll_state(item, moment).value,
        states=STATE_NL,
        everyone=poll_results(session, item),
        members=poll_results(session, item, members_only=True),
        stats=ballot_stats(session, item),
        unit=unit,
        bars=timeline_bars(buckets, unit),
        listed=listed,
        listed_scores=listed_scores,
        ratings=ratings,
        ratings_members=ratings_members,
        only=only,
        labels={o.id: o.label for o in item.options},
        suspicion_nl=SUSPICION_NL,
        visibility=VISIBILITY_NL,
        quarantine_form=QuarantineForm(formdata=None),
        result_form=result_form or ResultForm(formdata=None),
        match_started=item.closes_at is not None and item.closes_at <= moment,
    ), status


@bp.post("/peilingen/<int:poll_id>/quarantaine")
@role_required(*EDITORS)
def quarantine(poll_id: int) -> ResponseReturnValue:
    """Put suspicious ballots in quarantine or release them (bulk, audited, reversible)."""
    session = get_session()
    item = _poll_or_404(poll_id)
    form = QuarantineForm()
    action = form.action.data
    back = url_for(
        "editor.results",
        poll_id=item.id,
        filter="quarantined" if action == "release" else "suspicious",
    )
    # Nothing typed to keep here (a choice and ticked rows): a refusal goes back with a flash.
    if not form.validate():
        flash("Kies wat je met de stemmen wil doen.", "error")
        return redirect(back, 303)
    scope = polls.QuarantineScope(form.scope.data)
    ids = [ballot_id for ballot_id in form.ballot.data or [] if ballot_id > 0]
    if scope is polls.QuarantineScope.SELECTED and not ids:
        flash("Vink eerst stemmen aan.", "error")
        return redirect(back, 303)
    moved = polls.set_quarantine(
        session, item.id, action == "quarantine", scope, ids, current_user, support.now()
    )
    session.commit()
    verb = "in quarantaine gezet" if action == "quarantine" else "weer meegeteld"
    flash(f"{len(moved)} {'stem' if len(moved) == 1 else 'stemmen'} {verb}.", "success")
    return redirect(back, 303)


def _csv_response(text: str, filename: str) -> Response:
    return Response(
        text.encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.post("/artikels/<article_id>/volgorde")
@role_required(*EDITORS)
def default_sort(article_id: str) -> ResponseReturnValue:
    """Set the order of an article's thread when the reader picks none (audited)."""
    session = get_session()
    article = articles.article_for_page(session, article_id)
    form = DefaultSortForm()
    if not form.validate():
        flash("Kies een geldige volgorde.", "error")
        return redirect(url_for("editor.index", q=article.cms_id), 303)
    sort = ThreadSort(form.sort.data)
    articles.set_default_sort(session, article.cms_id, sort, current_user)
    session.commit()
    flash(f"Volgorde van de reacties op '{article.title}': {SORT_NL[sort.value]}.", "success")
    return redirect(url_for("editor.index", q=form.q.data or None), 303)


@bp.get("/peilingen/<int:poll_id>/resultaten.csv")
@role_required(*EDITORS)
def results_csv(poll_id: int) -> ResponseReturnValue:
    """The stand as CSV (Belgian Excel: ';' and a BOM)."""
    item = _poll_or_404(poll_id)
    return _csv_response(
        export.results_csv(
            get_session(), item, int(current_app.config["TRIBUNE_MOTM_MIN_RATINGS"])
        ),
        f"peiling-{item.id}-resultaten.csv",
    )


@bp.get("/peilingen/<int:poll_id>/stemmen.csv")
@role_required(*EDITORS)
def ballots_csv(poll_id: int) -> ResponseReturnValue:
    """Every ballot as CSV: time, options, voter type (no personal data)."""
    item = _poll_or_404(poll_id)
    return _csv_response(export.ballots_csv(get_session(), item), f"peiling-{item.id}-stemmen.csv")


@bp.post("/artikels/<article_id>/reactiemodus")
@role_required(*EDITORS)
def comment_mode(article_id: str) -> ResponseReturnValue:
    """Set an article's comment mode (audited)."""
    session = get_session()
    article = articles.article_for_page(session, article_id)
    form = CommentModeForm()
    if not form.validate():
        flash("Kies een geldige reactiemodus.", "error")
        return redirect(url_for("editor.index", q=article.cms_id), 303)
    mode = CommentMode(form.mode.data)
    articles.set_comment_mode(session, article.cms_id, mode, current_user)
    session.commit()
    flash(f"Reageren op '{article.title}': {MODE_NL[mode.value].lower()}.", "success")
    return redirect(url_for("editor.index", q=form.q.data or None), 303)
