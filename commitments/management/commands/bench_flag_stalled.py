"""Benchmark of the stall job: ``python manage.py bench_flag_stalled --commitments 1000000``.

Builds that many commitments with status updates in their own PostgreSQL database (never
the one in use: ``accountability_bench`` by default, created if missing) with
``generate_series`` SQL, then times, in the same run:

1. the flag job (``flags_refresh``: every rule, raise and resolve, and an outbox event per
   flag raised or resolved) from no flags and no events at all;
2. the same job again, which finds nothing to change (straight after, and again after a
   VACUUM, as autovacuum leaves things between two daily runs);
3. a bare ``UPDATE`` touching every row of the commitments table, for scale.

The bare UPDATE is timed last, on purpose: it leaves a dead copy of every row, and a
commitments table twice its size (even once vacuumed) is not the table the app leaves
between two daily runs; timed first, it would make the job scan that bloat. After it, the
table is compacted again (``VACUUM FULL``) so the next benchmark starts from a table as
the app leaves it; a table found bloated by an interrupted run is compacted before timing.

The data: commitments made 430 to 1,030 days ago; one in eight has no status update; a
third have a deadline (most of them passed). By default the last progress is spread
evenly over the last 400 days, so about 78% of open commitments are past the 90-day
threshold: a worst case, kept as the default. ``--stalled-share 0.15`` builds a realistic
mix instead (that share of dated progress older than 90 days); the data is rebuilt when
the mix changes. Report both.

It prints the figures and their ratio; it asserts nothing (a benchmark, not a test).
Targets for 1,000,000 commitments on a 2-core machine: first run under 10 s and at most
1.5 times the bare UPDATE; second run under 1 s.
"""

from __future__ import annotations

import os
import time

import psycopg
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from commitments.services import flags_refresh

BUILD_COMMITMENTS = """
INSERT INTO commitments_commitment (
    title, slug, summary, original_wording, made_on, made_precision, made_where,
    deadline, deadline_precision, status, status_since, status_since_precision,
    stall_after_days, is_published, published_at, created_at, updated_at
)
SELECT
    'Benchmark commitment ' || g,
    'bench-' || g,
    %(summary)s,
    '',
    made,
    'day',
    '',
    CASE WHEN g %% 3 = 0 THEN made + (h %% 800)::int END,
    'day',
    (ARRAY['not_started', 'in_progress', 'stalled', 'partially_kept', 'kept', 'broken',
           'unclear'])[1 + g %% 7],
    CASE WHEN g %% 8 <> 0 THEN
        CASE WHEN g %% 5 = 0 THEN date_trunc('month', current_date - {age})::date
             ELSE current_date - {age} END
    END,
    CASE WHEN g %% 5 = 0 THEN 'month' ELSE 'day' END,
    CASE WHEN g %% 10 = 0 THEN 30 + (g %% 300)::int END,
    g %% 20 <> 0,
    now(),
    now(),
    now()
FROM (
    SELECT g, (g * 2654435761) %% 1000003 AS h, current_date - 430 - (g %% 600)::int AS made
    FROM generate_series(1, %(n)s) AS g
) AS series
"""

# The update that set each current status, and for half of them an earlier first step.
BUILD_UPDATES = """
INSERT INTO commitments_statusupdate (
    commitment_id, status, effective_on, effective_precision, description, recorded_at,
    correction_note
)
SELECT id, status, status_since, status_since_precision, 'Benchmark step.', now(), ''
FROM commitments_commitment WHERE status_since IS NOT NULL
UNION ALL
SELECT id, 'not_started', made_on, 'day', 'Benchmark first step.', now(), ''
FROM commitments_commitment WHERE status_since IS NOT NULL AND id % 2 = 0
"""

TABLES = (
    "commitments_flag",
    "commitments_statusupdate_sources",
    "commitments_statusupdate",
    "commitments_commitment",
)


class Command(BaseCommand):
    help = "Time the stall job over many commitments against a bare UPDATE (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--commitments", type=int, default=1_000_000)
        parser.add_argument(
            "--database-name",
            default=os.environ.get("BENCH_DATABASE_NAME", "accountability_bench"),
            help="The PostgreSQL database to build in (created if missing; its data replaced).",
        )
        parser.add_argument(
            "--rebuild", action="store_true", help="Rebuild the data even if the count matches."
        )
        parser.add_argument(
            "--stalled-share",
            type=float,
            default=None,
            help="Share (0 to 1) of dated progress older than the 90-day threshold. Default: "
            "progress spread over 400 days (about 78%% stalled, a worst case).",
        )

    def handle(self, *args, commitments, database_name, rebuild, stalled_share, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
        if commitments < 1:
            raise CommandError("--commitments must be at least 1.")
        if stalled_share is not None and not 0 <= stalled_share <= 1:
            raise CommandError("--stalled-share must be between 0 and 1.")
        if database_name == connection.settings_dict["NAME"]:
            raise CommandError(
                f"--database-name {database_name!r} is the database in use: the benchmark "
                "replaces its data. Choose another."
            )
        self._create_database(database_name)
        connection.close()
        connection.settings_dict["NAME"] = database_name
        call_command("migrate", verbosity=0, interactive=False)

        say = self.stdout.write
        say(f"database {database_name}; load average {self._load()}; {os.cpu_count()} CPUs")
        summary = self._summary(stalled_share)
        if rebuild or self._count() != commitments or self._built_summary() != summary:
            say(f"building {commitments:,} commitments with status updates ...")
            started = time.perf_counter()
            self._build(commitments, stalled_share, summary)
            say(f"  built in {time.perf_counter() - started:.1f} s")
        elif self._bloated():
            say("compacting the commitments table a previous run left bloated ...")
            with connection.cursor() as cursor:
                cursor.execute("VACUUM FULL commitments_commitment")
                cursor.execute("VACUUM ANALYZE commitments_commitment")
        say(f"data: {summary}")

        with connection.cursor() as cursor:
            # The flag job's outbox events (and anything fanned out from them) go too.
            cursor.execute("TRUNCATE commitments_flag, commitments_outboxevent CASCADE")
            cursor.execute("VACUUM ANALYZE commitments_flag")
            cursor.execute("SELECT count(*) FROM commitments_statusupdate")
            (updates,) = cursor.fetchone()
        eligible = self._count("is_published AND status NOT IN ('kept', 'broken')")
        say(f"{commitments:,} commitments ({eligible:,} published and not final), ")
        say(f"{updates:,} status updates")

        first, report = self._time(flags_refresh)
        say(f"stall job, first run:      {first:7.2f} s   ({report})")
        say(f"  outbox events written:   {self._events():,} (one per flag raised or resolved)")
        second, again = self._time(flags_refresh)
        say(f"stall job, second run:     {second:7.2f} s   ({again.changed} changes)")
        # Straight after the first run, the second also pays for first reads of a million
        # fresh rows (hint bits). Between daily runs autovacuum has done that: measure too.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE commitments_flag")
            cursor.execute("VACUUM ANALYZE commitments_commitment")
        vacuumed, third = self._time(flags_refresh)
        say(f"  again after VACUUM:      {vacuumed:7.2f} s   ({third.changed} changes)")
        bare = self._bare_update()
        say(f"bare UPDATE of every row:  {bare:7.2f} s   (commitments_commitment)")
        say(f"ratio first run / bare UPDATE: {first / bare:.2f}")
        targets = [
            ("first run < 10 s", first < 10),
            ("first run <= 1.5 x bare UPDATE", first <= 1.5 * bare),
            ("second run < 1 s", second < 1),
            ("second run after VACUUM < 1 s", vacuumed < 1),
        ]
        say("targets: " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in targets))
        say(f"load average after: {self._load()}")

    # --- helpers -------------------------------------------------------------------------

    def _create_database(self, name: str) -> None:
        db = connection.settings_dict
        params = {
            "dbname": "postgres",
            "user": db.get("USER") or None,
            "password": db.get("PASSWORD") or None,
            "host": db.get("HOST") or None,
            "port": db.get("PORT") or None,
        }
        with psycopg.connect(autocommit=True, **{k: v for k, v in params.items() if v}) as pg:
            exists = pg.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                pg.execute(f'CREATE DATABASE "{name}"')
                self.stdout.write(f"created database {name}")

    def _events(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM commitments_outboxevent")
            return cursor.fetchone()[0]

    def _count(self, where: str = "true") -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM commitments_commitment WHERE {where}")
            return cursor.fetchone()[0]

    @staticmethod
    def _summary(stalled_share) -> str:
        if stalled_share is None:
            return "Benchmark: progress spread over 400 days (worst case)."
        return f"Benchmark: {stalled_share:.0%} of dated progress older than 90 days."

    def _built_summary(self) -> str | None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT summary FROM commitments_commitment ORDER BY id LIMIT 1")
            row = cursor.fetchone()
        return row[0] if row else None

    def _bloated(self) -> bool:
        """More than half the table's pages free: a bare UPDATE's leftovers."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_relation_size('commitments_commitment') > 2 * "
                "(SELECT coalesce(sum(pg_column_size(c.*)), 0) FROM commitments_commitment c)"
            )
            return cursor.fetchone()[0]

    def _build(self, n: int, stalled_share, summary: str) -> None:
        if stalled_share is None:
            age = "(h %% 400)::int"
        else:
            # That share of commitments 91 to 399 days without progress, the rest 0 to 89.
            permille = round(stalled_share * 1000)
            age = f"(CASE WHEN h %% 1000 < {permille} THEN 91 + h %% 309 ELSE h %% 90 END)::int"
        with connection.cursor() as cursor:
            with transaction.atomic():
                # The timeline's tables refuse TRUNCATE (migration 0006) unless the
                # ordinary triggers are off, as for any deliberate purge.
                cursor.execute("SET LOCAL session_replication_role = replica")
                cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
            with transaction.atomic():
                cursor.execute(
                    BUILD_COMMITMENTS.replace("{age}", age), {"n": n, "summary": summary}
                )
                cursor.execute(BUILD_UPDATES)
            cursor.execute("VACUUM ANALYZE commitments_commitment")
            cursor.execute("VACUUM ANALYZE commitments_statusupdate")

    @staticmethod
    def _time(function):
        started = time.perf_counter()
        result = function()
        return time.perf_counter() - started, result

    def _bare_update(self) -> float:
        """Every row of the commitments table rewritten (to the same values), committed."""
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE commitments_commitment SET updated_at = updated_at")
        elapsed = time.perf_counter() - started
        with connection.cursor() as cursor:
            # Back to the table as the app leaves it, for the next benchmark run (VACUUM
            # FULL leaves the visibility map empty: a plain VACUUM then fills it).
            cursor.execute("VACUUM FULL commitments_commitment")
            cursor.execute("VACUUM ANALYZE commitments_commitment")
        return elapsed

    @staticmethod
    def _load() -> str:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
