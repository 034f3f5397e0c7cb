"""Flags: the machine's observations about published commitments.

Three rules, each raised and resolved by one SQL statement, never by a loop of saves:

- *no recent progress*: a published commitment not in a final status whose last recorded
  progress (its latest standing status update, kept on the commitment as ``status_since``;
  ``made_on`` when it has none) is older than its own ``stall_after_days`` or the site's
  ``STALL_AFTER_DAYS``. A vague date is given the benefit of the doubt: "July 2025" counts
  from 31 July 2025, so nothing is flagged that may have moved within the threshold.
- *deadline passed*: a published commitment not in a final status whose deadline (its last
  possible day, for a vague deadline: "2025" passes on 1 January 2026) is behind us.
- *sources unavailable*: a published commitment whose every source cited for its current
  status (by its latest standing status update) has been marked unavailable by the link
  check. Its "since" is the date of that status.

Raising is ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``: the partial unique index
``flag_one_open_per_reason`` is the last line of defence, so a flag raised at the same
moment by someone else is skipped, not a crash. A flag an editor resolved by hand is not
raised again until its condition dates from something new. Resolving is one ``UPDATE ... WHERE`` per
rule: an open flag whose condition no longer holds, or holds from another date (the deadline
moved, progress was recorded), is resolved with the time and a plain-words note; a new flag
with the right date is then raised. A whole run is one transaction holding an advisory lock,
so a worker killed halfway leaves nothing half done and two runs at once queue, the second
finding nothing to change. Before a rule's two writes, one read (``rule_flags_differ``, a
``FULL JOIN`` of the rule against its open flags) tells whether they have anything to do;
on a quiet day they are skipped (measured on 1,000,000 commitments: a no-change run after
VACUUM from 1.47 s to 0.76 s, worst-case data; 1.06 s to 0.52 s, realistic data).
"""

from __future__ import annotations

import datetime
import re
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DateField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, Least
from django.utils import timezone

from ..models import FINAL_STATUSES, Commitment, Flag, FlagReason, Source, StatusUpdate

# --- Portable SQL pieces (PostgreSQL in production, SQLite for the embedded default) ------


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


# --- The rules, as querysets of commitments that meet them --------------------------------

FLAG_COLUMNS = (
    "commitment_id",
    "reason",
    "raised_at",
    "since",
    "since_precision",
    "details",
    "acknowledgement_note",
    "resolution_note",
)


def _last_progress():
    """(start of the period, its precision) of the last recorded progress."""
    since = Coalesce(F("status_since"), F("made_on"), output_field=DateField())
    precision = Case(
        When(status_since__isnull=True, then=F("made_precision")),
        default=F("status_since_precision"),
        output_field=CharField(),
    )
    return since, precision


#: The longest threshold the job computes with. ``stall_after_days`` is held to 1..3650 by a
#: constraint (migration 0009); the job clamps as well, so one extreme value (a row written
#: before the constraint, a site setting gone wrong) cannot overflow date arithmetic and
#: stop the run for every other commitment.
THRESHOLD_CEILING_DAYS = 36500


def _threshold():
    return Least(
        Coalesce(
            F("stall_after_days"), Value(settings.STALL_AFTER_DAYS), output_field=IntegerField()
        ),
        Value(THRESHOLD_CEILING_DAYS),
        output_field=IntegerField(),
    )


def stalled_commitments(*, today: datetime.date) -> QuerySet:
    """Published, not final, and no progress for longer than its threshold; annotated
    with ``flag_since``, ``flag_since_precision`` and ``flag_details``."""
    since, precision = _last_progress()
    return (
        Commitment.objects.published()
        .exclude(status__in=FINAL_STATUSES)
        .annotate(
            flag_since=since,
            flag_since_precision=precision,
            stall_days=_threshold(),
            flag_details=Concat(
                Value("No status update has been recorded for more than "),
                Cast(_threshold(), output_field=CharField()),
                Case(
                    When(
                        stall_after_days__isnull=True,
                        then=Value(" days, the site's limit for progress."),
                    ),
                    default=Value(" days, this commitment's own limit for progress."),
                    output_field=CharField(),
                ),
                output_field=TextField(),
            ),
        )
        .alias(stale_after=AddDays(EndOfPeriod(since, precision), _threshold()))
        .filter(stale_after__lt=today)
        .order_by()
    )


def overdue_commitments(*, today: datetime.date) -> QuerySet:
    """Published, not final, and its deadline (its last possible day) is behind us."""
    return (
        Commitment.objects.published()
        .exclude(status__in=FINAL_STATUSES)
        .filter(deadline__isnull=False)
        .alias(deadline_end=EndOfPeriod(F("deadline"), F("deadline_precision")))
        .filter(deadline_end__lt=today)
        .annotate(
            flag_since=F("deadline"),
            flag_since_precision=F("deadline_precision"),
            flag_details=Value(
                "The deadline has passed and the commitment is not recorded as kept.",
                output_field=TextField(),
            ),
        )
        .order_by()
    )


def _current_update_id():
    """The latest standing status update of the commitment in the outer query."""
    return Subquery(
        StatusUpdate.objects.filter(commitment=OuterRef("pk"))
        .standing()
        .order_by("-effective_on", "-recorded_at", "-id")
        .values("pk")[:1]
    )


def unsourced_commitments() -> QuerySet:
    """Published, and every source its current status cites is unavailable."""
    cites = StatusUpdate.sources.through.objects
    return (
        Commitment.objects.published()
        # Only commitments citing an unavailable source somewhere can qualify: a small set,
        # found through the index on the sources, before the per-commitment look-up.
        .filter(
            Exists(
                cites.filter(
                    statusupdate__commitment=OuterRef("pk"),
                    source__link_status=Source.LinkStatus.UNAVAILABLE,
                )
            )
        )
        .alias(current_update=_current_update_id())
        .filter(Exists(cites.filter(statusupdate=OuterRef("current_update"))))
        .exclude(
            Exists(
                cites.filter(statusupdate=OuterRef("current_update")).exclude(
                    source__link_status=Source.LinkStatus.UNAVAILABLE
                )
            )
        )
        .annotate(
            # The date of the current status: a new status resolves this flag and, if
            # its sources are unavailable too, raises a fresh one.
            flag_since=F("status_since"),
            flag_since_precision=F("status_since_precision"),
            flag_details=Value(
                "Every source cited for its current status has failed three link checks in a row.",
                output_field=TextField(),
            ),
        )
        .order_by()
    )


def _rule(reason: str, today: datetime.date) -> QuerySet:
    if reason == FlagReason.NO_RECENT_PROGRESS:
        return stalled_commitments(today=today)
    if reason == FlagReason.DEADLINE_PASSED:
        return overdue_commitments(today=today)
    return unsourced_commitments()


# --- Raise and resolve ------------------------------------------------------------------


def _to_raise(reason: str, today: datetime.date) -> QuerySet:
    """Commitments meeting the rule with no open flag for it, and not answered by hand."""
    flags = Flag.objects.filter(commitment=OuterRef("pk"), reason=reason)
    return (
        _rule(reason, today)
        .exclude(Exists(flags.open()))
        # An editor who resolved this very observation by hand has answered it: it is not
        # raised again until the condition dates from something new.
        .exclude(
            Exists(
                flags.filter(
                    resolved_by__isnull=False,
                    since=OuterRef("flag_since"),
                    since_precision=OuterRef("flag_since_precision"),
                )
            )
        )
        .order_by()
    )


@transaction.atomic
def rule_flags_raise(*, reason: str, today: datetime.date, now: datetime.datetime) -> int:
    """Raise a flag for every commitment meeting the rule with no open flag for it yet.
    One ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``. Returns how many were raised."""
    candidates = (
        _to_raise(reason, today)
        .annotate(
            flag_reason=Value(reason, output_field=CharField()),
            flag_raised_at=Value(now, output_field=Flag._meta.get_field("raised_at")),
            flag_blank=Value("", output_field=TextField()),
        )
        .values_list(
            "pk",
            "flag_reason",
            "flag_raised_at",
            "flag_since",
            "flag_since_precision",
            "flag_details",
            "flag_blank",
            "flag_blank",
        )
        # In commitment order: the flags' pages and index entries, and the foreign-key
        # checks' look-ups of each commitment at commit, follow one another.
        .order_by("pk")
    )
    select_sql, params = candidates.query.sql_with_params()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in FLAG_COLUMNS)
    sql = (
        f"INSERT INTO {quote(Flag._meta.db_table)} ({columns}) {select_sql} "
        # No conflict target: DO NOTHING then covers the partial unique index on open flags
        # on PostgreSQL and SQLite alike.
        "ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The table being filled is the one the anti-join reads: a nested loop would
            # rescan it (with every row just inserted) once per commitment. A hash
            # anti-join reads it once.
            cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(sql, params)
        raised = max(cursor.rowcount, 0)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_nestloop TO DEFAULT")
    return raised


def _resolution_note(reason: str):
    """Why an open flag is resolved, in plain words, from the commitment's state now."""
    if reason == FlagReason.NO_RECENT_PROGRESS:
        moved = Value("Progress was recorded.")
    elif reason == FlagReason.DEADLINE_PASSED:
        moved = Value("The deadline was moved.")
    else:
        moved = Value("A source for its current status is online again, or a new one is cited.")
    note = Case(
        When(is_published=False, then=Value("The commitment was withdrawn from publication.")),
        When(
            status__in=FINAL_STATUSES,
            then=Value("The commitment reached a final status (kept or broken)."),
        ),
        default=moved,
        output_field=TextField(),
    )
    return Subquery(
        Commitment.objects.filter(pk=OuterRef("commitment_id"))
        .annotate(note=note)
        .order_by()
        .values("note")[:1],
        output_field=TextField(),
    )


def _to_resolve(reason: str, today: datetime.date) -> QuerySet:
    """Open flags for ``reason`` whose condition no longer holds, or holds from another
    date."""
    still_holds = _rule(reason, today).filter(
        pk=OuterRef("commitment_id"),
        flag_since=OuterRef("since"),
        flag_since_precision=OuterRef("since_precision"),
    )
    # The flags to resolve are found first, by id, so the search reads only the narrow
    # index of open flags against the narrow index of open commitments (migration 0004):
    # on a day with nothing to resolve, no table row is read at all.
    return Flag.objects.open().filter(reason=reason).exclude(Exists(still_holds)).order_by()


@transaction.atomic
def rule_flags_resolve(*, reason: str, today: datetime.date, now: datetime.datetime) -> int:
    """Resolve every open flag for ``reason`` whose condition no longer holds, or now holds
    from another date. One ``UPDATE ... WHERE``. Returns how many were resolved."""
    to_resolve = _to_resolve(reason, today)
    return Flag.objects.filter(InSubqueryOnce(F("pk"), Subquery(to_resolve.values("pk")))).update(
        resolved_at=now, resolution_note=_resolution_note(reason)
    )


def rule_flags_differ(*, reason: str, today: datetime.date) -> bool:
    """Whether the open flags for ``reason`` differ from what the rule holds now: some open
    flag the rule no longer holds at its date (to resolve), or some commitment the rule
    holds with no open flag for it and not answered by hand (to raise).

    One read-only ``FULL JOIN`` of the rule against the open flags: one pass over each
    narrow index (migration 0004) where resolving and raising take two each. It may say
    "differ" when the writes then change nothing (a rule date that is NULL), never the
    reverse: any flag ``rule_flags_resolve`` would resolve has no partner of the same date,
    and any commitment ``rule_flags_raise`` would flag has no open flag at all. On SQLite
    (small data) it always says "differ"."""
    if connection.vendor != "postgresql":
        return True
    rule_sql, rule_params = (
        _rule(reason, today)
        .values_list("pk", "flag_since", "flag_since_precision")
        .query.sql_with_params()
    )
    flags = Flag.objects.filter(reason=reason).order_by()
    open_sql, open_params = (
        flags.open()
        .values_list("commitment_id", "since", "since_precision")
        .query.sql_with_params()
    )
    answered_sql, answered_params = (
        flags.filter(resolved_by__isnull=False)
        .values_list("commitment_id", "since", "since_precision")
        .query.sql_with_params()
    )
    sql = (
        f"SELECT EXISTS (SELECT FROM ({rule_sql}) r (id, since, prec) "
        f"FULL JOIN ({open_sql}) f (id, since, prec) "
        "ON r.id = f.id AND r.since = f.since AND r.prec = f.prec "
        "WHERE r.id IS NULL OR (f.id IS NULL AND NOT EXISTS ("
        f"SELECT FROM ({answered_sql}) h (id, since, prec) "
        "WHERE h.id = r.id AND h.since = r.since AND h.prec = r.prec)))"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*rule_params, *open_params, *answered_params))
        return cursor.fetchone()[0]


@contextmanager
def advisory_lock(name: str):
    """Hold a PostgreSQL transaction-level advisory lock (inside an atomic block): the
    same job run twice at once queues instead of racing. SQLite has one writer anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(name.encode())])
    yield


@dataclass
class FlagRunReport:
    raised: dict[str, int] = field(default_factory=dict)
    resolved: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(self.raised.values()) + sum(self.resolved.values())

    def __str__(self) -> str:
        parts = []
        for reason in FlagReason:
            parts.append(
                f"{reason.label}: {self.raised.get(reason, 0)} raised, "
                f"{self.resolved.get(reason, 0)} resolved"
            )
        return "; ".join(parts)


@transaction.atomic
def flags_refresh(
    *,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
    reasons=tuple(FlagReason),
) -> FlagRunReport:
    """Bring the open flags in step with the rules: resolve what no longer holds, then
    raise what holds and is not flagged. One transaction; safe to run twice or at once."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    report = FlagRunReport()
    with advisory_lock("commitments.flags_refresh"):
        if connection.vendor == "postgresql":
            # Compiling these scans to machine code costs more than it saves (measured:
            # a no-change run over 1,000,000 commitments went from 4.0 s to 2.7 s), and the
            # anti-joins' hash tables should fit in memory rather than spill to disk.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
                cursor.execute("SET LOCAL work_mem = '64MB'")
                # A long job, not a web request: the job's statement timeout (none by
                # default), whatever process runs it (settings: DB_JOB_STATEMENT_TIMEOUT_MS).
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)",
                    [str(getattr(settings, "DB_JOB_STATEMENT_TIMEOUT_MS", 0))],
                )
        for reason in reasons:
            reason = FlagReason(reason)
            if not rule_flags_differ(reason=reason, today=today):
                # Nothing to resolve or raise: the day's usual case, one read, no writes.
                report.resolved[reason] = report.raised[reason] = 0
                continue
            report.resolved[reason] = rule_flags_resolve(reason=reason, today=today, now=now)
            report.raised[reason] = rule_flags_raise(reason=reason, today=today, now=now)
    return report
