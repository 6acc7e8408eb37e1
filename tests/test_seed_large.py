"""bench/seed_large.py leaves a database whose counters and derived columns recount finds true."""

from __future__ import annotations

from bench import seed_large


def test_a_seeded_database_has_no_drift(database_url: str) -> None:
    # main() runs tallies.recount afterwards (in a rolled-back transaction): 1 on any drift,
    # users.last_rejected_at included.
    assert (
        seed_large.main(
            [
                "--database-url",
                database_url,
                "--articles",
                "40",
                "--comments",
                "3000",
                "--authors",
                "80",
                "--rejected-share",
                "0.1",
                "--removed-share",
                "0.05",
            ]
        )
        == 0
    )
