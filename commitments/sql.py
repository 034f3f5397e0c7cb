"""Portable SQL pieces shared by the jobs: date arithmetic on vague dates, a subquery run
once, a transaction-level advisory lock, and what the flag job needs to write outbox
events in SQL (a random UUID, an ISO timestamp, an empty JSON array). PostgreSQL in
production, SQLite for the embedded default; each piece says how it is written on both.

Owns SQL dialect only: no model, no rule, no setting. A rule built from these pieces
lives with its owner (``stalling.py``, ``services/flags.py``), not here.
"""

from __future__ import annotations

import re
import zlib
from contextlib import contextmanager

from django.db import connection
from django.db.models import BooleanField, DateField, Func, JSONField, TextField, UUIDField


class EndOfPeriod(Func):
    """The last day a vague date can mean: 31 July 2025 for (2025-07-01, 'month')."""

    output_field = DateField()
    arity = 2
    templates = {
        "postgresql": (
            "(CASE WHEN {p} = 'year' THEN (date_trunc('year', {d}::timestamp) "
            "+ interval '1 year - 1 day')::date WHEN {p} = 'month' THEN "
            "(date_trunc('month', {d}::timestamp) + interval '1 month - 1 day')::date "
            "ELSE {d} END)"
        ),
        "sqlite": (
            "(CASE WHEN {p} = 'year' THEN date({d}, 'start of year', '+1 year', '-1 day') "
            "WHEN {p} = 'month' THEN date({d}, 'start of month', '+1 month', '-1 day') "
            "ELSE {d} END)"
        ),
    }

    def as_sql(self, compiler, connection, **extra_context):
        date, precision = (compiler.compile(e) for e in self.get_source_expressions())
        compiled = {"{d}": date, "{p}": precision}
        # Each placeholder appears more than once: repeat its parameters in order of use.
        sql, params = [], []
        for piece in re.split(r"(\{[dp]\})", self.templates[connection.vendor]):
            if piece in compiled:
                sql.append(compiled[piece][0])
                params.extend(compiled[piece][1])
            else:
                sql.append(piece)
        return "".join(sql), params


class AddDays(Func):
    """A date plus a whole number of days (a column or a value)."""

    output_field = DateField()
    arity = 2

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="(%(expressions)s)", arg_joiner=" + ", **extra_context
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="date(%(expressions)s || ' days')",
            arg_joiner=", '+' || ",
            **extra_context,
        )


class InSubqueryOnce(Func):
    """``expression IN (subquery)``, with the subquery run once before the statement.

    On PostgreSQL it is written ``= ANY(ARRAY(subquery))``: an init plan, not a semi-join.
    In an ``UPDATE`` the tables of a semi-join are row-marked (their whole rows carried
    along for concurrent-update rechecks), which rules out index-only scans of them; an
    init plan's tables are not, so the subquery can read narrow covering indexes only."""

    output_field = BooleanField()
    arity = 2

    def as_sql(self, compiler, connection, **extra_context):
        (lhs, lhs_params), (rhs, rhs_params) = (
            compiler.compile(e) for e in self.get_source_expressions()
        )
        # ``rhs`` is the parenthesised subquery.
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)
        return f"{lhs} IN {rhs}", (*lhs_params, *rhs_params)


@contextmanager
def advisory_lock(name: str):
    """Hold a PostgreSQL transaction-level advisory lock (inside an atomic block): the
    same job run twice at once queues instead of racing. SQLite has one writer anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(name.encode())])
    yield


# --- Building an outbox event's row in SQL (the flag job's events, issue 12) ---------------


class RandomUUID(Func):
    """A random (version 4) UUID per row, as the column stores it: PostgreSQL's
    ``gen_random_uuid()``; on SQLite, where Django keeps a UUID as 32 hex digits, the same
    shape from ``randomblob`` (the version digit 4, the variant digit one of 8, 9, a, b)."""

    output_field = UUIDField()
    arity = 0

    def as_postgresql(self, compiler, connection, **extra_context):
        return "gen_random_uuid()", ()

    def as_sqlite(self, compiler, connection, **extra_context):
        return (
            "lower(hex(randomblob(6)) || '4' || substr(hex(randomblob(2)), 2) "
            "|| substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) "
            "|| hex(randomblob(6)))"
        ), ()


class IsoTimestamp(Func):
    """A timestamp as ISO 8601 text in UTC, ``2026-01-30T06:00:00.000000+00:00``, as
    ``events.iso_timestamp`` writes it in Python. SQLite already stores UTC as text with a
    space for the ``T`` (and no fraction when it is zero)."""

    output_field = TextField()
    arity = 1

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template=(
                "to_char(%(expressions)s AT TIME ZONE 'UTC', "
                "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"
            ),
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="(replace(%(expressions)s, ' ', 'T') || '+00:00')",
            **extra_context,
        )


class EmptyJSONArray(Func):
    """``[]`` as a JSON value inside a ``JSONObject`` (a string ``'[]'`` would be stored as
    the text "[]"): ``'[]'::jsonb`` on PostgreSQL, ``json_array()`` on SQLite."""

    output_field = JSONField()
    arity = 0

    def as_postgresql(self, compiler, connection, **extra_context):
        return "'[]'::jsonb", ()

    def as_sqlite(self, compiler, connection, **extra_context):
        return "json_array()", ()
