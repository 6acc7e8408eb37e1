"""The baseline for bench/vote_bench.py: a tiny Flask app that inserts and commits one row.

Same engine settings as Tribune (db.make_engine: SQLite WAL, synchronous NORMAL, busy timeout,
BEGIN IMMEDIATE for writes; PostgreSQL through psycopg 3), so the ratio measures Tribune's own
overhead on a vote, not the database's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask, jsonify
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config import normalise_database_url  # noqa: E402
from db import WRITE_OPTION, make_engine  # noqa: E402

metadata = MetaData()
rows = Table(
    "bench_rows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("note", String(40)),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)


def create_app() -> Flask:
    app = Flask(__name__)
    engine = make_engine(normalise_database_url(os.environ["DATABASE_URL"]))
    metadata.create_all(engine)

    @app.post("/write")
    def write():  # type: ignore[no-untyped-def]
        with (
            engine.connect().execution_options(**{WRITE_OPTION: True}) as conn,
            conn.begin(),
        ):
            new_id = conn.execute(insert(rows).values(note="x").returning(rows.c.id)).scalar()
        return jsonify(id=new_id), 201

    return app
