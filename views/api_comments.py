"""Comment routes of the JSON API (registered on the api blueprint)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import bindparam, select

from articles import services as articles
from comments import picks, reactions
from comments import services as comments
from comments.threads import (
    ThreadNode,
    parse_sort,
    published_threads,
    reacted_ids,
    thread_filter,
    thread_highlights,
)
from db import get_session, read_first, start_write
from errors import Invalid
from extensions import limits_checked
from models import Article, Comment, CommentState, Role, ThreadSort, TokenScope
from moderation.actions import file_appeal, report_outcomes
from moderation.comment_states import PostedComment
from parsing import is_int_text
from security import login_required_any, role_required
from views import api_schemas as schemas
from views.api import bp, json_object, parse_body
from views.comments import reaction_limited
from views.openapi import operation
from wiring import activity_store, posting_policy, screen_text, thread_cache
from writes.driver import hot_rows

# The article's row id, thread version and default sort: the key of its cached pages (one
# indexed read).
_THREAD_VERSION = select(
    Article.__table__.c.id, Article.__table__.c.thread_version, Article.__table__.c.default_sort
).where(Article.__table__.c.cms_id == bindparam("cms_id"))


def node_json(node: ThreadNode) -> dict[str, Any]:
    """A visible comment with its replies; deleted ones keep their place without text."""
    comment = node.comment
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "author": None if node.is_deleted else node.author_name,
        "body": None if node.is_deleted else comment.body,
        "deleted": node.is_deleted,
        "created_at": comment.created_at.isoformat(),
        "edited_at": comment.edited_at.isoformat() if comment.edited_at else None,
        "reaction_count": comment.reaction_count,
        # The shared (cached) answer is the anonymous reader's; with_reacted fills it in.
        "reacted": False,
        "featured": node.featured,
        "vote_badge": node.badge_text,
        "vote_option_ids": [option_id for option_id, _ in node.badge],
        "replies": [node_json(reply) for reply in node.replies],
    }


def stored_flags(comment: Comment) -> list[comments.StoredFlag]:
    """A stored comment's flags as the author's view shows them."""
    return [
        comments.StoredFlag(f.code, f.reason.value, f.severity, f.code, f.detail)
        for f in comment.flags
    ]


def own_comment_json(
    comment: Comment | PostedComment, shown_flags: list[comments.StoredFlag]
) -> dict:
    """The author's view of their comment: its state and, when not published, why."""
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "body": comment.body,
        "state": comment.state.value,
        "created_at": comment.created_at.isoformat(),
        "edited_at": comment.edited_at.isoformat() if comment.edited_at else None,
        "reasons": list(dict.fromkeys(f.reason for f in shown_flags)),
        "decision_reason": comment.decision_reason.value if comment.decision_reason else None,
        "decision_note": comment.decision_note,
    }


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not is_int_text(raw) or not low <= int(raw) <= high:
        raise Invalid("invalid_parameter", f"{name} moet een getal van {low} tot {high} zijn.")
    return int(raw)


@bp.get("/articles/<article_id>/comments")
@operation(
    query=schemas.ThreadQuery,
    responses={200: schemas.ThreadPage},
    errors={
        404: "article_not_found",
        422: "invalid_article_id or invalid_parameter (also: stemde names no option of the "
        "article's polls).",
    },
)
def list_comments(article_id: str) -> ResponseReturnValue:
    """Published comments with replies, a page of top-level threads at a time."""
    articles.validate_article_id(article_id)
    page = _int_arg("page", 1, 1, schemas.PAGE_MAX)
    per_page = _int_arg("per_page", schemas.PER_PAGE_DEFAULT, 1, schemas.PER_PAGE_MAX)
    featured_only = request.args.get("filter")
    stemde = request.args.get("stemde")
    session = get_session()
    cache = thread_cache()
    rows = hot_rows(session.connection(), _THREAD_VERSION, {"cms_id": article_id})
    if not rows:
        raise articles.article_not_found()
    found = rows[0]
    sort = parse_sort(request.args.get("sort"), ThreadSort(found.default_sort))
    if sort is None or request.args.get("sort") in ("nieuwste", "oudste"):
        raise Invalid("invalid_parameter", "sort is 'newest', 'oldest' of 'best' ('beste').")
    # "best" follows the clock as well as the writes: its cached pages live the cache's TTL.
    variant = f"{sort.value}:{page}:{per_page}"
    if featured_only or stemde:
        # Checked before the cache: a key never holds an unchecked value.
        article = articles.get_article(session, article_id)
        only = thread_filter(session, article, featured_only, stemde)
        variant += f":f{int(only.featured)}:s{only.voted_option_id or 0}"
    else:
        only = None
    key = cache.key(found.id, found.thread_version, variant)
    body = cache.get(key)
    if body is None:
        article = articles.get_article(session, article_id)
        highlights = thread_highlights(session, article)
        result = published_threads(
            session,
            article,
            page,
            per_page,
            sort=sort,
            only=only,
            also_badge=highlights.nodes(),
        )
        body = json.dumps(
            {
                "article_id": article.cms_id,
                "sort": sort.value,
                "pinned": node_json(highlights.pinned) if highlights.pinned else None,
                "featured": [node_json(node) for node in highlights.featured],
                "comments": [node_json(node) for node in result.threads],
                "count": article.comment_count,
                "page": result.page,
                "pages": result.pages,
                "per_page": per_page,
                "total_threads": result.total_threads,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        cache.put(key, body)
    if current_user.is_authenticated:
        body = with_reacted(body, current_user.id)
    return Response(body, mimetype="application/json")


def with_reacted(body: bytes, user_id: int) -> bytes:
    """The shared thread answer with this reader's "Sterk" marks (one indexed read)."""
    document = json.loads(body)
    nodes: list[dict[str, Any]] = []
    stack = list(document["comments"]) + list(document["featured"])
    if document["pinned"]:
        stack.append(document["pinned"])
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node["replies"])
    mine = reacted_ids(get_session(), user_id, [node["id"] for node in nodes])
    if not mine:
        return body
    for node in nodes:
        node["reacted"] = node["id"] in mine
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


REACTION_ERRORS = {
    403: "banned (details.banned_until), or email_unverified (TRIBUNE_REQUIRE_VERIFIED_EMAIL).",
    404: "comment_not_found",
    409: "own_comment (one's own comment takes no \"Sterk\") or comment_not_published.",
    429: "rate_limited (TRIBUNE_REACTION_LIMIT).",
}


@bp.post("/comments/<int:comment_id>/reactions")
@operation(
    auth="login",
    scope=TokenScope.COMMENTS_WRITE,
    responses={201: schemas.ReactionOut, 200: schemas.ReactionOut},
    errors=REACTION_ERRORS,
    description='Give someone else\'s published comment a "Sterk": 201 given, 200 given '
    "before (nothing changes). With an API token or an embed token (no body needed), or the "
    "session cookie plus this site's Origin and a JSON body (`{}`).",
)
@login_required_any
@limits_checked
@reaction_limited
def react(comment_id: int) -> ResponseReturnValue:
    """Give a comment a "Sterk" (once per reader)."""
    session = get_session()
    state = reactions.react(
        session, current_user._get_current_object(), comment_id, posting_policy()
    )
    session.commit()
    return jsonify(
        comment_id=state.comment_id, reaction_count=state.reaction_count, reacted=True
    ), 201 if state.changed else 200


@bp.delete("/comments/<int:comment_id>/reactions")
@operation(
    auth="login",
    scope=TokenScope.COMMENTS_WRITE,
    responses={200: schemas.ReactionOut},
    errors={404: "comment_not_found", 429: "rate_limited (TRIBUNE_REACTION_LIMIT)."},
    description='Take one\'s "Sterk" back (none given: 200, nothing changes).',
)
@login_required_any
@limits_checked
@reaction_limited
def unreact(comment_id: int) -> ResponseReturnValue:
    """Take a "Sterk" back."""
    session = get_session()
    state = reactions.unreact(session, current_user._get_current_object(), comment_id)
    session.commit()
    return jsonify(comment_id=state.comment_id, reaction_count=state.reaction_count, reacted=False)


@bp.post("/articles/<article_id>/comments")
@operation(
    auth="login",
    scope=TokenScope.COMMENTS_WRITE,
    body=schemas.CommentIn,
    responses={
        201: schemas.OwnComment,
        202: schemas.HeldComment,
        422: (schemas.Error, schemas.CommentRejected),
    },
    errors={
        403: "banned (details.banned_until), or email_unverified (TRIBUNE_REQUIRE_VERIFIED_EMAIL: "
        "the account's address is not confirmed yet).",
        404: "article_not_found or parent_not_found.",
        409: "comments_closed or parent_not_visible.",
        422: "comment_rejected (stored: details.comment_id and details.reasons), "
        "invalid_article_id, invalid_body, body_too_short, body_too_long or invalid_parent.",
        429: "too_fast (details.retry_after).",
    },
)
@read_first
@login_required_any
def post_comment(article_id: str) -> ResponseReturnValue:
    """Post a comment: 201 published, 202 held for review, 422 rejected (stored).

    With an API token, or the session cookie plus a JSON body and this site's Origin.
    """
    articles.validate_article_id(article_id)
    payload = json_object()
    session = get_session()
    result = comments.post_comment(
        session,
        article_id,
        # The user itself: the service reads it a few dozen times, each through the proxy.
        current_user._get_current_object(),
        payload.get("body"),
        payload.get("parent_id"),
        screen_text,
        posting_policy(),
        activity_store(),
        before_write=lambda: start_write(session),
    )
    session.commit()
    comment = result.comment
    body = own_comment_json(comment, result.flags)
    if comment.state is CommentState.PUBLISHED:
        return jsonify(body), 201
    if comment.state is CommentState.HELD:
        body["message"] = "Je reactie wordt eerst nagekeken door een moderator."
        return jsonify(body), 202
    return jsonify(
        error={
            "code": "comment_rejected",
            "message": "Je reactie werd niet geplaatst omdat ze onze huisregels overtreedt.",
            "details": {
                "comment_id": comment.id,
                "reasons": body["reasons"],
                "decision_reason": body["decision_reason"],
            },
        }
    ), 422


@bp.patch("/comments/<int:comment_id>")
@operation(
    auth="login",
    scope=TokenScope.COMMENTS_WRITE,
    body=schemas.CommentEdit,
    responses={200: schemas.OwnComment, 202: schemas.OwnComment},
    errors={
        403: "forbidden: not your comment.",
        404: "comment_not_found",
        409: "edit_window_closed or not_editable.",
        422: "edit_rejected (the old text stays), invalid_body, body_too_short or body_too_long.",
    },
)
@login_required_any
def edit_comment(comment_id: int) -> ResponseReturnValue:
    """Edit one's own comment within the edit window (screened again)."""
    payload = json_object()
    session = get_session()
    result = comments.edit_comment(
        session, comment_id, current_user, payload.get("body"), screen_text, posting_policy()
    )
    session.commit()
    body = own_comment_json(result.comment, result.flags)
    return jsonify(body), 202 if result.comment.state is CommentState.HELD else 200


@bp.delete("/comments/<int:comment_id>")
@operation(
    auth="login",
    scope=TokenScope.COMMENTS_WRITE,
    responses={200: schemas.DeletedComment},
    errors={
        403: "forbidden: not your comment.",
        404: "comment_not_found",
        409: "illegal_transition",
    },
)
@login_required_any
def delete_comment(comment_id: int) -> ResponseReturnValue:
    """Delete one's own comment (its replies stay)."""
    session = get_session()
    comment = comments.delete_comment(session, comment_id, current_user)
    session.commit()
    return jsonify(id=comment.id, state=comment.state.value)


@bp.post("/comments/<int:comment_id>/reports")
@operation(
    auth="login",
    scope=TokenScope.COMMENTS_WRITE,
    body=schemas.ReportIn,
    responses={201: schemas.ReportOut, 200: schemas.ReportOut},
    errors={
        403: "email_unverified (TRIBUNE_REQUIRE_VERIFIED_EMAIL: the account's address is not "
        "confirmed yet).",
        404: "comment_not_found (or not published).",
        409: "own_comment",
        422: "invalid_reason (details.allowed) or invalid_note.",
    },
)
@login_required_any
def report_comment(comment_id: int) -> ResponseReturnValue:
    """Report a comment: 201 new, 200 when this reader reported it already."""
    payload = json_object()
    session = get_session()
    report, created = comments.report_comment(
        session,
        comment_id,
        current_user,
        payload.get("reason"),
        payload.get("note"),
        posting_policy(),
    )
    session.commit()
    return jsonify(
        id=report.id,
        comment_id=report.comment_id,
        reason=report.reason.value,
        outcome=report.outcome.value,
        created_at=report.created_at.isoformat(),
    ), 201 if created else 200


@bp.get("/me/comments")
@operation(
    auth="login",
    query=schemas.MyCommentsQuery,
    responses={200: schemas.MyComments},
    errors={422: "invalid_parameter"},
)
@login_required_any
def my_comments() -> ResponseReturnValue:
    """The caller's own recent comments with their state and reasons."""
    session = get_session()
    rows = session.execute(
        select(Comment, Article.cms_id)
        .join(Article, Article.id == Comment.article_id)
        .where(Comment.author_id == current_user.id)
        .order_by(Comment.created_at.desc())
        .limit(_int_arg("limit", schemas.MY_COMMENTS_DEFAULT, 1, schemas.MY_COMMENTS_MAX))
    )
    return (
        jsonify(
            comments=[
                {**own_comment_json(c, stored_flags(c)), "article_id": cms_id} for c, cms_id in rows
            ]
        ),
        200,
        {"Cache-Control": "private, no-store"},
    )


@bp.post("/comments/<int:comment_id>/appeal")
@operation(
    auth="login",
    scope=TokenScope.COMMENTS_WRITE,
    body=schemas.AppealIn,
    responses={201: schemas.AppealOut},
    errors={
        404: "comment_not_found (or not yours).",
        409: "not_appealable or already_appealed.",
        422: "invalid_appeal",
    },
)
@login_required_any
def appeal_comment(comment_id: int) -> ResponseReturnValue:
    """The author appeals a rejection or removal, once, with a short text."""
    payload = json_object()
    session = get_session()
    appeal = file_appeal(session, current_user, comment_id, payload.get("body"))
    session.commit()
    return jsonify(id=appeal.id, comment_id=appeal.comment_id, state=appeal.state.value), 201


@bp.get("/me/reports")
@operation(auth="login", responses={200: schemas.MyReports})
@login_required_any
def my_reports() -> ResponseReturnValue:
    """The caller's reports with their outcome (upheld, dismissed or pending)."""
    reports = report_outcomes(get_session(), current_user)
    return (
        jsonify(
            reports=[
                {
                    "id": r.id,
                    "comment_id": r.comment_id,
                    "reason": r.reason.value,
                    "outcome": r.outcome.value,
                    "created_at": r.created_at.isoformat(),
                    "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None,
                }
                for r in reports
            ]
        ),
        200,
        {"Cache-Control": "private, no-store"},
    )


def _feature_json(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "featured": comment.featured_at is not None,
        "featured_at": comment.featured_at.isoformat() if comment.featured_at else None,
    }


@bp.route("/comments/<int:comment_id>/feature", methods=["PUT", "DELETE"])
@operation(
    auth="login",
    scope=TokenScope.COMMENTS_WRITE,
    reads_json=True,
    responses={200: schemas.FeatureOut},
    errors={
        403: "forbidden: editors, moderators and admins only.",
        404: "comment_not_found",
        409: "not_featurable: the comment is not published (PUT).",
    },
)
@role_required(Role.MODERATOR, Role.EDITOR, Role.ADMIN)
def feature_comment(comment_id: int) -> ResponseReturnValue:
    """PUT: mark a published comment "Uitgelicht" (its author is told); DELETE: unmark it.
    Both idempotent and audited."""
    session = get_session()
    actor = current_user._get_current_object()
    if request.method == "PUT":
        comment = picks.feature(session, actor, comment_id)
    else:
        comment = picks.unfeature(session, actor, comment_id)
    session.commit()
    return jsonify(_feature_json(comment))


@bp.route("/articles/<article_id>/pin", methods=["PUT", "DELETE"])
@operation(
    "PUT",
    auth="editor",
    scope=TokenScope.COMMENTS_WRITE,
    body=schemas.PinIn,
    responses={200: schemas.PinOut},
    errors={
        403: "forbidden (editors and admins only) or not_own_comment.",
        404: "article_not_found or comment_not_found (also: on another article).",
        409: "not_pinnable: the comment is not published.",
        422: "invalid_article_id or validation_failed.",
    },
)
@operation(
    "DELETE",
    auth="editor",
    scope=TokenScope.COMMENTS_WRITE,
    responses={200: schemas.PinOut},
    errors={403: "forbidden", 404: "article_not_found", 422: "invalid_article_id"},
)
@role_required(Role.EDITOR, Role.ADMIN)
def pin_comment(article_id: str) -> ResponseReturnValue:
    """PUT: pin the editor's own published comment above the thread (replacing the pinned
    one); DELETE: unpin. Audited."""
    articles.validate_article_id(article_id)
    session = get_session()
    article = articles.get_article(session, article_id)
    editor = current_user._get_current_object()
    if request.method == "PUT":
        payload = parse_body(schemas.PinIn)
        picks.pin(session, editor, article, payload.comment_id)
    else:
        picks.unpin(session, editor, article)
    session.commit()
    return jsonify({"article_id": article.cms_id, "pinned_comment_id": article.pinned_comment_id})
