"""GET /api/v1/tallies and /fragments/tallies: validation, one indexed query, caching, CORS."""

from __future__ import annotations

import time
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text, update
from sqlalchemy.orm import Session

from models import Article
from tallies.ids import MAX_IDS, parse_ids


@pytest.fixture(autouse=True)
def own_redis_prefix(app_settings: dict) -> None:
    """Cached tallies of one test must not leak into another through a shared Redis."""
    app_settings["TRIBUNE_REDIS_PREFIX"] = "tribune-test-" + uuid.uuid4().hex[:8]


@pytest.fixture
def no_cache(app_settings: dict) -> dict:
    app_settings["TRIBUNE_TALLY_CACHE_SECONDS"] = 0
    return app_settings


def set_counts(db: Session, cms_id: str, comments: int, votes: int) -> None:
    db.execute(
        update(Article)
        .where(Article.cms_id == cms_id)
        .values(comment_count=comments, vote_count=votes)
    )
    db.commit()


def assert_error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.data
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "no-store"
    return error


# ---------------------------------------------------------------- pure parsing


def test_parse_ids_sorts_and_deduplicates() -> None:
    assert parse_ids("b,a,b,,c_1,A-2,") == ["A-2", "a", "b", "c_1"]


@pytest.mark.parametrize("raw", [None, "", ",", ",,,"])
def test_parse_ids_needs_at_least_one(raw: str | None) -> None:
    from errors import Invalid

    with pytest.raises(Invalid) as caught:
        parse_ids(raw)
    assert caught.value.code == "missing_ids"


@pytest.mark.parametrize("bad", ["a b", "a.b", "é", "x" * 65, "a;b", "<script>"])
def test_parse_ids_rejects_malformed(bad: str) -> None:
    from errors import Invalid

    with pytest.raises(Invalid) as caught:
        parse_ids("ok," + bad)
    assert caught.value.code == "invalid_article_id"


def test_parse_ids_limit_counts_distinct_ids() -> None:
    from errors import Invalid

    assert len(parse_ids(",".join(f"a{i % MAX_IDS}" for i in range(3 * MAX_IDS)))) == MAX_IDS
    with pytest.raises(Invalid) as caught:
        parse_ids(",".join(f"a{i}" for i in range(MAX_IDS + 1)))
    assert caught.value.code == "too_many_ids"
    assert caught.value.details == {"parameter": "ids", "max": MAX_IDS, "count": MAX_IDS + 1}


# ---------------------------------------------------------------- the endpoint


def test_tallies_for_known_and_unknown_ids(
    no_cache: dict, client: FlaskClient, db: Session, make_article
) -> None:
    make_article("kvm-defour")
    make_article("rsca-dreyer")
    set_counts(db, "kvm-defour", 12, 340)
    response = client.get("/api/v1/tallies?ids=rsca-dreyer,kvm-defour,onbekend,kvm-defour")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "kvm-defour": {"comments": 12, "votes": 340},
        "onbekend": {"comments": 0, "votes": 0},
        "rsca-dreyer": {"comments": 0, "votes": 0},
    }
    # Keys come back sorted: the same bytes for every order of the same ids.
    assert list(response.get_json()) == ["kvm-defour", "onbekend", "rsca-dreyer"]
    again = client.get("/api/v1/tallies?ids=onbekend,kvm-defour,rsca-dreyer")
    assert again.data == response.data
    assert again.headers["ETag"] == response.headers["ETag"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "missing_ids"),
        ("?ids=", "missing_ids"),
        ("?ids=,", "missing_ids"),
        ("?ids=a,b%20c", "invalid_article_id"),
        ("?ids=a," + "x" * 65, "invalid_article_id"),
        ("?ids=" + ",".join(f"id{i}" for i in range(MAX_IDS + 1)), "too_many_ids"),
        ("?ids=" + "a," * 20000, "too_many_ids"),
    ],
)
def test_tallies_validation(client: FlaskClient, query: str, code: str) -> None:
    error = assert_error(client.get("/api/v1/tallies" + query), 422, code)
    assert error["details"]["parameter"] == "ids"


def test_tallies_accepts_exactly_the_maximum(client: FlaskClient) -> None:
    ids = [f"id{i}" for i in range(MAX_IDS)]
    response = client.get("/api/v1/tallies?ids=" + ",".join(ids + ids[:10]))
    assert response.status_code == 200
    assert len(response.get_json()) == MAX_IDS


def test_tallies_caching_headers_etag_and_304(
    no_cache: dict, client: FlaskClient, db: Session, make_article
) -> None:
    make_article("a1")
    set_counts(db, "a1", 3, 0)
    first = client.get("/api/v1/tallies?ids=a1,a2")
    cache_control = first.headers["Cache-Control"]
    assert cache_control.startswith("public, ")
    assert "max-age=" in cache_control and "stale-while-revalidate=" in cache_control
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    # Public means no cookie in or out.
    assert "Set-Cookie" not in first.headers
    assert "Cookie" not in first.headers.get("Vary", "")

    not_modified = client.get("/api/v1/tallies?ids=a2,a1", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.data == b""
    assert not_modified.headers["ETag"] == etag
    assert not_modified.headers["Cache-Control"] == cache_control
    assert not_modified.headers["Access-Control-Allow-Origin"] == "*"
    listed = client.get("/api/v1/tallies?ids=a1,a2", headers={"If-None-Match": f'"x", {etag}'})
    assert listed.status_code == 304

    set_counts(db, "a1", 4, 0)
    changed = client.get("/api/v1/tallies?ids=a1,a2", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.get_json()["a1"] == {"comments": 4, "votes": 0}


def test_tallies_head_and_preflight(client: FlaskClient) -> None:
    head = client.head("/api/v1/tallies?ids=a")
    assert head.status_code == 200
    assert head.headers["ETag"]
    preflight = client.options(
        "/api/v1/tallies",
        headers={"Origin": "https://www.example.be", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]


def test_tallies_ignore_session_cookie(client: FlaskClient, make_user, make_article) -> None:
    from tests.conftest import login

    login(client, make_user())
    response = client.get("/api/v1/tallies?ids=a")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


def count_statements(app: Flask) -> list[str]:
    statements: list[str] = []

    @event.listens_for(app.extensions["tribune.engine"], "before_cursor_execute")
    def _record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if not statement.startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    return statements


def test_one_query_on_a_miss_none_on_a_hit(app: Flask, client: FlaskClient, make_article) -> None:
    for number in range(30):
        make_article(f"artikel-{number}")
    statements = count_statements(app)
    ids = ",".join(f"artikel-{n}" for n in range(25)) + ",onbekend"
    assert client.get("/api/v1/tallies?ids=" + ids).status_code == 200
    assert len(statements) == 1
    assert "articles" in statements[0] and "cms_id IN" in statements[0]
    assert client.get("/api/v1/tallies?ids=" + ids).status_code == 200
    assert len(statements) == 1  # served from the cache: no query at all


def test_tally_query_uses_the_cms_id_index(app: Flask, db: Session, make_article) -> None:
    from sqlalchemy import select

    from models import Article as A

    make_article("a")
    stmt = select(A.cms_id, A.comment_count, A.vote_count).where(A.cms_id.in_(["a", "b", "c"]))
    compiled = stmt.compile(db.get_bind(), compile_kwargs={"literal_binds": True})
    if db.get_bind().dialect.name == "sqlite":
        plan = " ".join(str(row[-1]) for row in db.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "USING INDEX" in plan and "SCAN" not in plan.replace("SCAN CONSTANT", ""), plan
    else:
        db.execute(text("SET LOCAL enable_seqscan = off"))
        plan = " ".join(row[0] for row in db.execute(text(f"EXPLAIN {compiled}")))
        assert "Index" in plan and "uq_articles_cms_id" in plan, plan
        db.rollback()


@pytest.fixture
def short_memory_cache(app_settings: dict) -> dict:
    # Long enough that a slow host still reads the second answer from the cache.
    app_settings["TRIBUNE_TALLY_CACHE_SECONDS"] = 2.0
    app_settings["REDIS_URL"] = None
    app_settings["RATELIMIT_STORAGE_URI"] = "memory://"
    return app_settings


def test_in_process_cache_is_short_lived(
    short_memory_cache: dict, client: FlaskClient, db: Session, make_article
) -> None:
    make_article("a")
    assert client.get("/api/v1/tallies?ids=a").get_json()["a"]["comments"] == 0
    set_counts(db, "a", 1, 0)
    assert client.get("/api/v1/tallies?ids=a").get_json()["a"]["comments"] == 0  # cached
    time.sleep(2.1)
    assert client.get("/api/v1/tallies?ids=a").get_json()["a"]["comments"] == 1


def test_redis_cache_shared_with_prefix_and_ttl(
    app_settings: dict, redis_url: str, db: Session, make_article
) -> None:
    import redis

    from app import create_app

    prefix = "tribune-test-" + uuid.uuid4().hex[:8]
    app_settings.update(
        REDIS_URL=redis_url, TRIBUNE_REDIS_PREFIX=prefix, TRIBUNE_TALLY_CACHE_SECONDS=2
    )
    make_article("a")
    first_worker = create_app(app_settings)
    second_worker = create_app(app_settings)
    client = redis.Redis.from_url(redis_url)
    try:
        assert first_worker.test_client().get("/api/v1/tallies?ids=a").status_code == 200
        keys = client.keys(f"{prefix}:tallies:*")
        assert len(keys) == 1
        assert 0 < client.pttl(keys[0]) <= 2000
        set_counts(db, "a", 7, 0)
        # The other worker answers from Redis until the entry expires.
        body = second_worker.test_client().get("/api/v1/tallies?ids=a").get_json()
        assert body["a"]["comments"] == 0
        client.delete(*keys)
        body = second_worker.test_client().get("/api/v1/tallies?ids=a").get_json()
        assert body["a"]["comments"] == 7
    finally:
        for key in client.keys(f"{prefix}:*"):
            client.delete(key)
        for application in (first_worker, second_worker):
            application.extensions["tribune.engine"].dispose()


def test_redis_failure_falls_back_to_the_counters(
    app_settings: dict, db: Session, make_article
) -> None:
    from app import create_app

    app_settings.update(REDIS_URL="redis://127.0.0.1:1/0", TRIBUNE_TALLY_CACHE_SECONDS=5)
    app_settings["RATELIMIT_STORAGE_URI"] = "memory://"
    make_article("a")
    set_counts(db, "a", 2, 1)
    application = create_app(app_settings)
    try:
        response = application.test_client().get("/api/v1/tallies?ids=a")
        assert response.status_code == 200
        assert response.get_json() == {"a": {"comments": 2, "votes": 1}}
    finally:
        application.extensions["tribune.engine"].dispose()


def test_openapi_documents_tallies(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/tallies"]
    assert "422" in paths["/api/v1/tallies"]["get"]["responses"]


# ---------------------------------------------------------------- the HTML fragment


def test_fragment_renders_dutch_text_with_headers(
    no_cache: dict, client: FlaskClient, db: Session, make_article
) -> None:
    make_article("een")
    make_article("vijf")
    set_counts(db, "een", 1, 1)
    set_counts(db, "vijf", 5, 340)
    response = client.get("/fragments/tallies?ids=vijf,een,niets")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'data-tribune-tally="een"' in html and ">1 reactie · 1 stem<" in html
    assert ">5 reacties · 340 stemmen<" in html
    assert 'data-tribune-tally="niets"' in html and ">nog geen reacties<" in html
    assert "<html" not in html
    assert response.headers["Cache-Control"].startswith("public, ")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    etag = response.headers["ETag"]
    json_etag = client.get("/api/v1/tallies?ids=vijf,een,niets").headers["ETag"]
    assert etag != json_etag
    again = client.get("/fragments/tallies?ids=een,niets,vijf", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_fragment_validation(client: FlaskClient) -> None:
    response = client.get("/fragments/tallies?ids=a%20b")
    assert response.status_code == 422
    assert response.headers["Access-Control-Allow-Origin"] == "*"
