"""Flags: the machine's observations about published commitments. Owns the three rules
(each a queryset of the commitments meeting it, in ``RULES``) and the set-based writes that
raise and resolve their flags. It must not hold a rule defined elsewhere ("quiet too long"
is ``quiet.py``'s, "open flag" is ``Flag.objects.open()``, SQL dialect is ``sql.py``), loop
over saves, or talk to the network.

Three rules, each raised and resolved by one SQL statement, never by a loop of saves:

- *no recent progress*: a published commitment quiet too long (``quiet.quiet_too_long``:
  open, and its last recorded progress older than its own ``stall_after_days`` or the
  site's ``STALL_AFTER_DAYS``, a vague date counted from the end of its period).
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

Followers are told in the same transaction (issue 12): after each rule's resolve and raise,
one ``INSERT ... SELECT`` writes an outbox event per flag it resolved or raised on a
published commitment (``flag_events_record``, the payload built in SQL by
``events.flag_payload_expression``), keyed per flag and direction so a flag is told once;
their fan-out is queued on commit in chunks (``fan_out_events``), and the outbox sweep
fans out whatever the broker never got.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from .. import events, queueing
from ..models import (
    FINAL_STATUSES,
    Commitment,
    EventType,
    Flag,
    FlagReason,
    OutboxEvent,
    Source,
    StatusUpdate,
)
from ..querysets import published_through
from ..quiet import last_progress, quiet_threshold, quiet_too_long
from ..sql import EndOfPeriod, InSubqueryOnce, RandomUUID, advisory_lock

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


def _flag_values(*, since, precision, details) -> dict:
    """What a rule annotates on each commitment meeting it: the flag's date, that date's
    precision and its details (``details`` a plain string or an expression)."""
    if isinstance(details, str):
        details = Value(details, output_field=TextField())
    return {"flag_since": since, "flag_since_precision": precision, "flag_details": details}


def no_recent_progress_commitments(*, today: datetime.date) -> QuerySet:
    """Published and quiet too long (``quiet.quiet_too_long``); annotated with
    ``flag_since``, ``flag_since_precision`` and ``flag_details``."""
    since, precision = last_progress()
    return (
        quiet_too_long(Commitment.objects.public(), today=today)
        .annotate(
            **_flag_values(
                since=since,
                precision=precision,
                details=Concat(
                    Value("No status update has been recorded for more than "),
                    Cast(quiet_threshold(), output_field=CharField()),
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
        )
        .order_by()
    )


def deadline_passed_commitments(*, today: datetime.date) -> QuerySet:
    """Published, not final, and its deadline (its last possible day) is behind us."""
    return (
        Commitment.objects.public()
        .open()
        .filter(deadline__isnull=False)
        .alias(deadline_end=EndOfPeriod(F("deadline"), F("deadline_precision")))
        .filter(deadline_end__lt=today)
        .annotate(
            **_flag_values(
                since=F("deadline"),
                precision=F("deadline_precision"),
                details="The deadline has passed and the commitment is not recorded as kept.",
            )
        )
        .order_by()
    )


def _current_update_id():
    """The latest standing status update of the commitment in the outer query."""
    return Subquery(
        StatusUpdate.objects.filter(commitment=OuterRef("pk"))
        .standing()
        .latest_first()
        .values("pk")[:1]
    )


def sources_unavailable_commitments() -> QuerySet:
    """Published, and every source its current status cites has been marked unavailable
    by the link check (offline, not missing: a status with no source never qualifies)."""
    cites = StatusUpdate.sources.through.objects
    return (
        Commitment.objects.public()
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
            **_flag_values(
                since=F("status_since"),
                precision=F("status_since_precision"),
                details="Every source cited for its current status has failed three link "
                "checks in a row.",
            )
        )
        .order_by()
    )


#: Each reason's rule, by the reason's name: the commitments that meet it on ``today``.
RULES = {
    FlagReason.NO_RECENT_PROGRESS: no_recent_progress_commitments,
    FlagReason.DEADLINE_PASSED: deadline_passed_commitments,
    FlagReason.SOURCES_UNAVAILABLE: lambda *, today: sources_unavailable_commitments(),
}


def _rule(reason: str, today: datetime.date) -> QuerySet:
    return RULES[reason](today=today)


# --- Raise and resolve ------------------------------------------------------------------


def _answered_by_hand(flags: QuerySet) -> QuerySet:
    """Flags an editor resolved by hand: that observation is answered, and is not raised
    again until the condition dates from something new."""
    return flags.filter(resolved_by__isnull=False)


def _to_raise(reason: str, today: datetime.date) -> QuerySet:
    """Commitments meeting the rule with no open flag for it, and not answered by hand."""
    flags = Flag.objects.filter(commitment=OuterRef("pk"), reason=reason)
    return (
        _rule(reason, today)
        .exclude(Exists(flags.open()))
        .exclude(
            Exists(
                _answered_by_hand(flags).filter(
                    since=OuterRef("flag_since"), since_precision=OuterRef("flag_since_precision")
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


# --- Telling the followers: one outbox event per flag raised or resolved -------------------

EVENT_COLUMNS = ("uuid", "type", "key", "occurred_at", "payload", "commitment_id")


def flag_events_record(
    *, reason: str, resolved: bool, now: datetime.datetime
) -> list[int]:
    """Write the outbox events for the flags of ``reason`` this run raised (``raised_at``
    is ``now``) or resolved (``resolved_at`` is ``now``), on published commitments: one
    ``INSERT ... SELECT`` whatever their number, the payload built in SQL
    (``events.flag_payload_expression``), keyed ``flag:<id>:raised``/``resolved`` with
    ``ON CONFLICT DO NOTHING`` (a flag is told once). Returns the new events' ids.

    Raised flags are found through the open flags' ``raised_at`` index; resolved ones by
    ``resolved_at``, which no index covers: that read scans the flag table, and runs only
    when the run resolved something."""
    direction = "resolved" if resolved else "raised"
    moment = {"resolved_at": now} if resolved else {"raised_at": now, "resolved_at": None}
    rows = (
        Flag.objects.filter(published_through("commitment"), reason=reason, **moment)
        .annotate(
            e_uuid=RandomUUID(),
            e_type=Value(
                EventType.FLAG_RESOLVED if resolved else EventType.FLAG_RAISED,
                output_field=CharField(),
            ),
            e_key=Concat(
                Value("flag:"),
                Cast(F("pk"), output_field=CharField()),
                Value(f":{direction}"),
                output_field=CharField(),
            ),
            e_at=Value(now, output_field=DateTimeField()),
            e_payload=events.flag_payload_expression(reason=reason, resolved=resolved, now=now),
        )
        .values_list("e_uuid", "e_type", "e_key", "e_at", "e_payload", "commitment_id")
        .order_by()
    )
    select_sql, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in EVENT_COLUMNS)
    sql = (
        f"INSERT INTO {quote(OutboxEvent._meta.db_table)} ({columns}) "
        # SQLite needs a WHERE to tell ON CONFLICT from a join's ON; harmless elsewhere.
        f"SELECT * FROM ({select_sql}) AS flag_events WHERE true "
        f"ON CONFLICT DO NOTHING RETURNING {quote('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


#: Events per fan-out message: a run raising thousands of flags sends a few messages, not
#: one per flag, and each message's task stays well inside its time limit.
FAN_OUT_CHUNK = 500


def _fan_outs_enqueue(event_ids: list[int]) -> None:
    """Once the run commits, queue the new events' fan-out: one ``fan_out_events`` task per
    ``FAN_OUT_CHUNK`` events. At the first broker failure it stops (logged once); the
    outbox sweep fans out the rest."""

    def enqueue():
        for start in range(0, len(event_ids), FAN_OUT_CHUNK):
            queued = queueing.enqueue_now(
                queueing.FAN_OUT_EVENTS,
                event_ids[start : start + FAN_OUT_CHUNK],
                what=f"the fan-out of {len(event_ids) - start} flag events",
                fallback="the outbox sweep will fan them out",
            )
            if not queued:
                return

    if event_ids:
        transaction.on_commit(enqueue, robust=True)


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
        _answered_by_hand(flags)
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
    raise what holds and is not flagged, and write an outbox event for each flag resolved
    or raised on a published commitment. One transaction; safe to run twice or at once."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    report = FlagRunReport()
    told: list[int] = []
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
            if report.resolved[reason]:
                told += flag_events_record(reason=reason, resolved=True, now=now)
            report.raised[reason] = rule_flags_raise(reason=reason, today=today, now=now)
            if report.raised[reason]:
                told += flag_events_record(reason=reason, resolved=False, now=now)
    _fan_outs_enqueue(told)
    return report
