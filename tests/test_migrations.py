"""Alembic owns the schema: head matches the models, and every revision goes down cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

import models
from config import normalise_database_url
from migrations import UNCOMPARED_INDEXES, alembic_config, include_object, upgrade_database


def _empty_database(request: pytest.FixtureRequest, tmp_path: Path, name: str) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / f'{name}.db'}"
    server = request.getfixturevalue("postgres_server")
    return normalise_database_url(server.url_for(server.create(name)))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend (PostgreSQL skips when no server answers)."""
    return _empty_database(request, tmp_path, "mig")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_pair(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """Two empty databases on one backend."""
    return _empty_database(request, tmp_path, "mig"), _empty_database(request, tmp_path, "made")


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def schema_diff(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": include_object}
            )
            return compare_metadata(context, models.Base.metadata)
    finally:
        engine.dispose()


def test_there_is_a_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))

    assert len(script.get_heads()) == 1


def test_upgrade_creates_every_model_table(empty_database_url: str) -> None:
    upgrade_database(empty_database_url)

    assert table_names(empty_database_url) == set(models.Base.metadata.tables) | {"alembic_version"}


def test_migrated_schema_matches_the_models(empty_database_url: str) -> None:
    upgrade_database(empty_database_url)

    assert schema_diff(empty_database_url) == []
    # The same check `alembic check` runs, through the project's env.py.
    command.check(alembic_config(empty_database_url))


def test_downgrade_to_base_removes_every_table_and_upgrade_works_again(
    empty_database_url: str,
) -> None:
    cfg = alembic_config(empty_database_url)
    upgrade_database(empty_database_url)

    command.downgrade(cfg, "base")

    assert table_names(empty_database_url) <= {"alembic_version"}

    upgrade_database(empty_database_url)
    assert schema_diff(empty_database_url) == []


def test_desc_index_left_out_of_comparison_exists_after_upgrade(tmp_path) -> None:
    """The hand-written DESC index is really created (the comparison skips it)."""
    url = f"sqlite:///{tmp_path / 'desc.db'}"
    upgrade_database(url)
    engine = create_engine(url)
    try:
        names = {index["name"] for index in inspect(engine).get_indexes("comments")}
    finally:
        engine.dispose()
    assert names >= UNCOMPARED_INDEXES


def index_definitions(url: str) -> dict[str, str]:
    """Every index as the database itself states it (columns, order, partial condition)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                rows = conn.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                )
            else:
                rows = conn.exec_driver_sql(
                    "SELECT indexname, indexdef FROM pg_indexes"
                    " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                )
            # SQLite keeps the CREATE INDEX text as written: compare it without quoting/spacing.
            return {
                name: " ".join(sql.replace('"', "").replace("(", " ( ").split()).lower()
                for name, sql in rows
            }
    finally:
        engine.dispose()


def test_migrated_indexes_are_the_models_indexes(database_pair: tuple[str, str]) -> None:
    """Alembic's comparison sees index columns, not partial conditions or DESC: the migrated
    indexes must read exactly as the ones the models create."""
    migrated, made = database_pair
    upgrade_database(migrated)
    engine = create_engine(made)
    models.Base.metadata.create_all(engine)
    engine.dispose()

    wanted = index_definitions(made)
    assert any("where" in definition for definition in wanted.values())
    assert index_definitions(migrated) == wanted


def test_0009_gives_existing_tokens_the_writes_they_had(empty_database_url: str) -> None:
    """Tokens made before scopes keep articles, polls and comments writes (no moderation API
    existed); a revoked one is marked revoked by its owner."""
    upgrade_database(empty_database_url, "0008")
    engine = create_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, username, username_key, email, password_hash, role,"
                    " is_active, created_at, session_version, published_count, held_count,"
                    " rejected_count) VALUES (1, 'Red', 'red', 'red@example.test', 'x',"
                    " 'editor', true, CURRENT_TIMESTAMP, 1, 0, 0, 0)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at,"
                    " revoked_at) VALUES (1, 1, 'cms', 'a', 'trb_a', CURRENT_TIMESTAMP, NULL),"
                    " (2, 1, 'oud', 'b', 'trb_b', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        upgrade_database(empty_database_url)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, scopes, revoked_reason FROM api_tokens ORDER BY id")
            ).all()
    finally:
        engine.dispose()

    assert [tuple(row) for row in rows] == [
        (1, "articles:write polls:write comments:write", None),
        (2, "articles:write polls:write comments:write", "owner"),
    ]


def test_0010_keeps_every_account_and_its_rows_and_allows_password_login(
    empty_database_url: str,
) -> None:
    """Adding users.password_login must not rebuild `users` (on SQLite a batch copy drops the
    table, and the drop cascades to every row that references an account)."""
    upgrade_database(empty_database_url, "0009")
    engine = create_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, username, username_key, email, password_hash, role,"
                    " is_active, created_at, session_version, published_count, held_count,"
                    " rejected_count) VALUES (1, 'Red', 'red', 'red@example.test', 'x',"
                    " 'editor', true, CURRENT_TIMESTAMP, 1, 0, 0, 0)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at,"
                    " scopes) VALUES (1, 1, 'cms', 'a', 'trb_a', CURRENT_TIMESTAMP, '')"
                )
            )
        upgrade_database(empty_database_url)
        with engine.connect() as conn:
            login = conn.execute(text("SELECT password_login FROM users")).scalar_one()
            tokens = conn.execute(text("SELECT count(*) FROM api_tokens")).scalar_one()
    finally:
        engine.dispose()

    assert bool(login) is True
    assert tokens == 1
