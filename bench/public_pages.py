"""Benchmark for the public side: full-text search plans and page timings on a larger table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/accountability \
        .venv/bin/python bench/public_pages.py [N]

Everything it writes (N commitments and N statements, default 50,000) is inside one
transaction that is rolled back at the end, so it can run against a real database.
Prints the EXPLAIN ANALYZE of a search, and the time and query count of the main pages.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accountability.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from commitments import selectors  # noqa: E402


class Rollback(Exception):
    pass


def fill(n: int) -> None:
    from tests.test_public_search import fill as fill_rows

    fill_rows(n)


def timed_get(client: Client, url: str, repeat: int = 5) -> tuple[float, int]:
    best = float("inf")
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - start
        assert response.status_code == 200, (url, response.status_code)
        best = min(best, elapsed)
    return best * 1000, len(queries)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    if connection.vendor != "postgresql":
        sys.exit("Run this on PostgreSQL (set DATABASE_URL).")
    try:
        with transaction.atomic():
            start = time.perf_counter()
            fill(n)
            print(
                f"filled {n:,} commitments and {n:,} statements in "
                f"{time.perf_counter() - start:.1f}s"
            )
            queryset = selectors.search_commitments(selectors.public_commitments(), "zeppelin")
            print("\nEXPLAIN ANALYZE of the search for 'zeppelin':")
            print(queryset.explain(analyze=True))
            client = Client(HTTP_HOST="127.0.0.1")
            print(f"\n{'page':<55} {'best of 5 (ms)':>15} {'queries':>8}")
            for url in [
                "/",
                "/commitments/",
                "/commitments/?q=zeppelin",
                "/commitments/?q=border+patrol&sort=made",
                "/commitments/?status=not_started&page=500",
                "/commitments/filler-7/",
                "/api/commitments?q=zeppelin",
                "/feeds/changes/",
            ]:
                ms, count = timed_get(client, url)
                print(f"{url:<55} {ms:>15.1f} {count:>8}")
            raise Rollback
    except Rollback:
        print("\n(rolled back: nothing was kept)")


if __name__ == "__main__":
    main()
