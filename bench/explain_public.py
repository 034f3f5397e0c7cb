"""EXPLAIN ANALYZE of every public query at N commitments, with and without the indexes of
migration 0009 (and the search as it was written before: an OR of two IN subqueries).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/accountability \\
        .venv/bin/python bench/explain_public.py [N] [--plans]

Everything it writes (N commitments, default 100,000, with actors, topics, two status
updates each, flags and N statements; see ``tests.test_public_indexes.fill_public``) is
inside one transaction that is rolled back at the end, and so is the dropping of the new
indexes for the "before" column, so it can run against a real database. Prints, per
query, the execution time (median of 5 EXPLAIN ANALYZE runs) before and after, and the
indexes the "after" plan uses; ``--plans`` prints the plans too; ``--exports`` also
times the full CSV and JSON exports (first piece, whole body, the process's peak RSS).
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accountability.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Q  # noqa: E402

from commitments import selectors  # noqa: E402
from commitments.models import Commitment, Statement  # noqa: E402

NEW_INDEXES = [
    "commitment_pub_changed",
    "commitment_pub_status_changed",
    "commitment_pub_made",
    "commitment_pub_deadline",
    "commitment_pub_recent",
    "status_update_recorded",
]


class Rollback(Exception):
    pass


def execution_ms(queryset, runs: int = 5) -> tuple[float, str]:
    times, plan = [], ""
    for _ in range(runs):
        plan = queryset.explain(analyze=True)
        match = re.search(r"Execution Time: ([\d.]+) ms", plan)
        times.append(float(match.group(1)))
    return statistics.median(times), plan


def old_search(text: str):
    """The search as it was before issue 9: an OR of two IN subqueries."""
    from django.contrib.postgres.search import SearchQuery

    query = SearchQuery(text, config=selectors.SEARCH_CONFIG, search_type="websearch")
    by_commitment = Commitment.objects.filter(search_document=query).values("pk")
    by_statement = Statement.objects.filter(
        search_document=query, commitments__isnull=False
    ).values("commitments")
    return (
        selectors.public_commitments()
        .filter(Q(pk__in=by_commitment) | Q(pk__in=by_statement))
        .recently_changed_first()
    )


def export_figures() -> None:
    import resource

    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    print(f"\n{'export':<20} {'first piece s':>14} {'whole s':>9} {'MB':>7} {'peak RSS MB':>12}")
    for url in ("/commitments.csv", "/commitments.json"):
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        response = client.get(url)
        pieces = iter(response.streaming_content)
        size = len(next(pieces))
        first = time.perf_counter() - start
        for piece in pieces:
            size += len(piece)
        whole = time.perf_counter() - start
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{url:<20} {first:>14.2f} {whole:>9.1f} {size / 1e6:>7.1f} "
            f"{rss_after:>7.0f} (+{rss_after - rss_before:.0f})"
        )


def main() -> None:
    from tests.test_public_indexes import fill_public, public_queries

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    show_plans = "--plans" in sys.argv
    n = int(args[0]) if args else 100_000
    if connection.vendor != "postgresql":
        sys.exit("Run this on PostgreSQL (set DATABASE_URL).")
    try:
        with transaction.atomic():
            start = time.perf_counter()
            fill_public(n)
            print(f"filled {n:,} commitments in {time.perf_counter() - start:.1f}s\n")
            queries = {
                name: queryset
                for name, (queryset, _index) in public_queries().items()
                if "(statements)" not in name
            }
            after = {name: execution_ms(qs) for name, qs in queries.items()}
            from tests.test_public_indexes import _list

            search_count = _list("q=zeppelin").order_by().values("pk")
            after["list, search COUNT"] = execution_ms(search_count)
            with connection.cursor() as cursor:
                for name in NEW_INDEXES:
                    cursor.execute(f'DROP INDEX "{name}"')
            before = {name: execution_ms(qs) for name, qs in queries.items()}
            before["list, search"] = execution_ms(old_search("zeppelin")[:20])
            before["list, search COUNT"] = execution_ms(
                old_search("zeppelin").order_by().values("pk")
            )
            print(f"{'query':<52} {'before ms':>10} {'after ms':>10}  indexes used after")
            for name in after:
                used = sorted(
                    set(
                        re.findall(
                            r"(?:Index|Index Only) Scan (?:Backward )?using (\S+)", after[name][1]
                        )
                        + re.findall(r"Bitmap Index Scan on (\S+)", after[name][1])
                    )
                )
                print(
                    f"{name:<52} {before[name][0]:>10.2f} {after[name][0]:>10.2f}  "
                    f"{', '.join(used)}"
                )
            if "--exports" in sys.argv:
                export_figures()
            if show_plans:
                for name in after:
                    print(f"\n=== {name}: before ===\n{before[name][1]}")
                    print(f"=== {name}: after ===\n{after[name][1]}")
            raise Rollback
    except Rollback:
        print("\n(rolled back: nothing was kept)")


if __name__ == "__main__":
    main()
