"""The flag rules at their edges, raise and resolve, and idempotence (two runs in a row,
two runs at once on two database connections)."""

from __future__ import annotations

import datetime
import threading
import time

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from commitments.dates import end_of_period
from commitments.models import Commitment, Flag, FlagReason, Source, Status
from commitments.services import flag_resolve, flags_refresh
from commitments.services.flags import rule_flags_differ, rule_flags_raise

pytestmark = pytest.mark.django_db

NRP = FlagReason.NO_RECENT_PROGRESS
DEADLINE = FlagReason.DEADLINE_PASSED
UNSOURCED = FlagReason.SOURCES_UNAVAILABLE
D = datetime.date


def open_flags(commitment=None, reason=None):
    flags = Flag.objects.open()
    if commitment is not None:
        flags = flags.filter(commitment=commitment)
    if reason is not None:
        flags = flags.filter(reason=reason)
    return flags


def snapshot():
    """Everything a run decides, without ids and times."""
    return sorted(
        (f.commitment_id, f.reason, f.since, f.since_precision, f.details, f.resolved_at is None)
        for f in Flag.objects.all()
    )


# --- No recent progress ----------------------------------------------------------------


def test_no_progress_is_flagged_one_day_after_the_threshold_not_on_it(make_commitment, settings):
    settings.STALL_AFTER_DAYS = 90
    commitment = make_commitment(made_on=D(2025, 1, 1))

    report = flags_refresh(today=D(2025, 1, 1) + datetime.timedelta(days=90))
    assert report.raised[NRP] == 0
    assert not open_flags(commitment).exists()

    report = flags_refresh(today=D(2025, 1, 1) + datetime.timedelta(days=91))
    assert report.raised[NRP] == 1
    flag = open_flags(commitment, NRP).get()
    assert (flag.since, flag.since_precision) == (D(2025, 1, 1), "day")
    assert flag.plain_words() == "No recorded progress since 1 January 2025"
    assert "more than 90 days" in flag.details


def test_site_default_comes_from_the_setting(make_commitment, settings):
    settings.STALL_AFTER_DAYS = 30
    commitment = make_commitment(made_on=D(2025, 1, 1))
    flags_refresh(today=D(2025, 2, 1))  # 31 days
    assert open_flags(commitment, NRP).exists()


def test_per_commitment_threshold_overrides_the_default(make_commitment, settings):
    settings.STALL_AFTER_DAYS = 90
    quick = make_commitment(made_on=D(2025, 1, 1), stall_after_days=10)
    patient = make_commitment(made_on=D(2025, 1, 1), stall_after_days=200)
    default = make_commitment(made_on=D(2025, 1, 1))

    flags_refresh(today=D(2025, 1, 11))
    assert not open_flags(quick).exists()
    flags_refresh(today=D(2025, 1, 12))
    assert open_flags(quick, NRP).exists()
    assert "this commitment's own limit" in open_flags(quick, NRP).get().details

    flags_refresh(today=D(2025, 4, 2))  # 91 days
    assert open_flags(default, NRP).exists()
    assert not open_flags(patient).exists()


def test_counts_from_the_latest_status_update(make_commitment, make_source, log_update):
    commitment = make_commitment(made_on=D(2025, 1, 1))
    log_update(commitment, sources=[make_source()], effective_on=D(2025, 3, 1))
    log_update(commitment, sources=[make_source()], effective_on=D(2025, 5, 1))

    flags_refresh(today=D(2025, 7, 30))  # 90 days after 1 May
    assert not open_flags(commitment).exists()
    flags_refresh(today=D(2025, 7, 31))
    flag = open_flags(commitment, NRP).get()
    assert flag.since == D(2025, 5, 1)


def test_a_vague_date_counts_from_the_end_of_its_period(
    make_commitment, make_source, log_update, settings
):
    settings.STALL_AFTER_DAYS = 90
    commitment = make_commitment(made_on=D(2025, 1, 1))
    log_update(
        commitment,
        sources=[make_source()],
        effective_on=D(2025, 7, 1),
        effective_precision="month",
    )
    # "July 2025" may mean 31 July: 90 days from then is 29 October.
    flags_refresh(today=D(2025, 10, 29))
    assert not open_flags(commitment).exists()
    flags_refresh(today=D(2025, 10, 30))
    flag = open_flags(commitment, NRP).get()
    assert (flag.since, flag.since_precision) == (D(2025, 7, 1), "month")
    assert flag.plain_words() == "No recorded progress since July 2025"


def test_the_admins_needs_attention_filter_and_the_flag_job_agree_on_quiet_too_long(
    role_client, make_commitment, make_source, log_update, settings
):
    """One rule for "quiet too long": the admin's Needs attention filter shows exactly the
    commitments the flag job flags for no recent progress, with each commitment's own
    threshold and a vague date counted from the end of its period."""
    today = timezone.localdate()
    last_year_ended = D(today.year - 1, 12, 31)
    # The site's limit ends exactly today for progress dated "last year" (its last day).
    settings.STALL_AFTER_DAYS = (today - last_year_ended).days
    quiet_days = settings.STALL_AFTER_DAYS
    make_commitment(
        title="Own short limit", made_on=today - datetime.timedelta(days=5), stall_after_days=2
    )
    make_commitment(
        title="Own long limit",
        made_on=today - datetime.timedelta(days=quiet_days + 5),
        stall_after_days=quiet_days + 100,
    )
    vague = make_commitment(title="Last year, vaguely", made_on=D(today.year - 2, 1, 1))
    log_update(
        vague,
        sources=[make_source()],
        effective_on=D(today.year - 1, 1, 1),
        effective_precision="year",
    )

    response = role_client("Editor").get("/admin/commitments/commitment/?attention=yes")
    shown = {c.title for c in response.context["cl"].result_list}
    flags_refresh(today=today)
    flagged = set(open_flags(reason=NRP).values_list("commitment__title", flat=True))
    assert flagged == {"Own short limit"}
    assert shown == flagged


@pytest.mark.parametrize("status", [Status.KEPT, Status.BROKEN])
def test_final_statuses_are_never_flagged(make_commitment, make_source, log_update, status):
    commitment = make_commitment(made_on=D(2024, 1, 1), deadline=D(2024, 6, 1))
    log_update(commitment, sources=[make_source()], status=status, effective_on=D(2024, 2, 1))
    report = flags_refresh(today=D(2026, 1, 1))
    assert report.changed == 0
    assert not Flag.objects.filter(commitment=commitment).exists()


def test_drafts_are_ignored(make_commitment):
    draft = make_commitment(published=False, made_on=D(2024, 1, 1), deadline=D(2024, 2, 1))
    flags_refresh(today=D(2026, 1, 1))
    assert not Flag.objects.filter(commitment=draft).exists()


# --- Deadline passed -------------------------------------------------------------------


def test_deadline_today_is_not_passed_yesterday_is(make_commitment):
    commitment = make_commitment(
        made_on=D(2025, 1, 1), deadline=D(2025, 3, 1), stall_after_days=999
    )
    flags_refresh(today=D(2025, 3, 1))
    assert not open_flags(commitment).exists()
    flags_refresh(today=D(2025, 3, 2))
    flag = open_flags(commitment, DEADLINE).get()
    assert flag.since == D(2025, 3, 1)
    assert flag.plain_words() == "Deadline passed (1 March 2025) without delivery"


def test_a_year_deadline_passes_when_the_year_ends(make_commitment):
    commitment = make_commitment(
        made_on=D(2025, 1, 1), deadline=D(2025, 1, 1), deadline_precision="year"
    )
    flags_refresh(today=D(2025, 12, 31))
    assert not open_flags(commitment, DEADLINE).exists()
    flags_refresh(today=D(2026, 1, 1))
    assert open_flags(commitment, DEADLINE).get().plain_words() == (
        "Deadline passed (2025) without delivery"
    )


def test_partly_kept_past_its_deadline_is_flagged(make_commitment, make_source, log_update):
    commitment = make_commitment(made_on=D(2025, 1, 1), deadline=D(2025, 2, 1))
    log_update(
        commitment, sources=[make_source()], status="partially_kept", effective_on=D(2025, 3, 1)
    )
    flags_refresh(today=D(2025, 3, 5))
    assert open_flags(commitment, DEADLINE).exists()


# --- Resolving -------------------------------------------------------------------------


def test_new_progress_resolves_the_flag_and_says_so(make_commitment, make_source, log_update):
    commitment = make_commitment(made_on=D(2025, 1, 1))
    flags_refresh(today=D(2025, 6, 1))
    flag = open_flags(commitment, NRP).get()

    log_update(commitment, sources=[make_source()], effective_on=D(2025, 5, 20))
    before = timezone.now()
    report = flags_refresh(today=D(2025, 6, 1))
    assert report.resolved[NRP] == 1 and report.raised[NRP] == 0
    flag.refresh_from_db()
    assert flag.resolved_at >= before
    assert flag.resolution_note == "Progress was recorded."
    assert not open_flags(commitment).exists()


def test_backdated_progress_that_is_still_stale_moves_the_flags_date(
    make_commitment, make_source, log_update
):
    commitment = make_commitment(made_on=D(2025, 1, 1))
    flags_refresh(today=D(2025, 12, 1))
    first = open_flags(commitment, NRP).get()
    assert first.since == D(2025, 1, 1)

    log_update(commitment, sources=[make_source()], effective_on=D(2025, 3, 1))
    flags_refresh(today=D(2025, 12, 1))
    first.refresh_from_db()
    assert first.resolved_at is not None
    assert open_flags(commitment, NRP).get().since == D(2025, 3, 1)
    assert Flag.objects.filter(commitment=commitment).count() == 2


def test_reaching_a_final_status_resolves_every_flag(make_commitment, make_source, log_update):
    commitment = make_commitment(made_on=D(2025, 1, 1), deadline=D(2025, 2, 1))
    flags_refresh(today=D(2025, 12, 1))
    assert open_flags(commitment).count() == 2

    log_update(commitment, sources=[make_source()], status="kept", effective_on=D(2025, 11, 1))
    report = flags_refresh(today=D(2025, 12, 1))
    assert report.resolved == {NRP: 1, DEADLINE: 1, UNSOURCED: 0}
    assert not open_flags(commitment).exists()
    notes = set(
        Flag.objects.filter(commitment=commitment).values_list("resolution_note", flat=True)
    )
    assert notes == {"The commitment reached a final status (kept or broken)."}


def test_moved_deadline_resolves_and_a_draft_is_resolved_too(make_commitment):
    moved = make_commitment(made_on=D(2025, 1, 1), deadline=D(2025, 2, 1), stall_after_days=999)
    withdrawn = make_commitment(made_on=D(2025, 1, 1), deadline=D(2025, 2, 1))
    flags_refresh(today=D(2025, 3, 1))
    assert open_flags(moved, DEADLINE).exists() and open_flags(withdrawn, DEADLINE).exists()

    Commitment.objects.filter(pk=moved.pk).update(deadline=D(2025, 6, 1))
    Commitment.objects.filter(pk=withdrawn.pk).update(is_published=False)
    report = flags_refresh(today=D(2025, 3, 1))
    assert report.resolved[DEADLINE] == 2
    assert Flag.objects.get(commitment=moved, reason=DEADLINE).resolution_note == (
        "The deadline was moved."
    )
    assert set(
        Flag.objects.filter(commitment=withdrawn).values_list("resolution_note", flat=True)
    ) == {"The commitment was withdrawn from publication."}
    assert not Flag.objects.open().filter(commitment__in=[moved, withdrawn]).exists()


def test_a_flag_resolved_by_an_editor_is_not_raised_again_for_the_same_date(
    make_commitment, make_source, log_update, django_user_model
):
    editor = django_user_model.objects.create_superuser("pub", "pub@example.org", "pw")
    commitment = make_commitment(made_on=D(2025, 1, 1))
    flags_refresh(today=D(2025, 6, 1))
    flag_resolve(flag=open_flags(commitment, NRP).get(), by=editor, note="Quiet by design.")

    assert flags_refresh(today=D(2025, 6, 2)).raised[NRP] == 0
    # Progress, then silence again: a new observation, raised again.
    log_update(commitment, sources=[make_source()], effective_on=D(2025, 6, 1))
    flags_refresh(today=D(2025, 10, 1))
    assert open_flags(commitment, NRP).get().since == D(2025, 6, 1)


# --- Sources unavailable ---------------------------------------------------------------


def test_sources_unavailable_follows_the_current_status_sources(
    make_commitment, make_source, log_update
):
    commitment = make_commitment(made_on=D(2025, 1, 1), stall_after_days=3650)
    old, gone_a, gone_b = make_source(), make_source(), make_source()
    log_update(commitment, sources=[old], effective_on=D(2025, 2, 1))
    log_update(commitment, sources=[gone_a, gone_b], effective_on=D(2025, 3, 1))
    Source.objects.filter(pk=gone_a.pk).update(link_status="unavailable")
    assert flags_refresh(today=D(2025, 4, 1)).raised[UNSOURCED] == 0  # one still online

    Source.objects.filter(pk=gone_b.pk).update(link_status="unavailable")
    flags_refresh(today=D(2025, 4, 1))
    flag = open_flags(commitment, UNSOURCED).get()
    assert flag.plain_words() == "The sources for its current status are no longer online"

    Source.objects.filter(pk=gone_b.pk).update(link_status="ok")
    assert flags_refresh(today=D(2025, 4, 1)).resolved[UNSOURCED] == 1
    assert not open_flags(commitment).exists()


def test_an_unavailable_source_on_an_older_update_does_not_flag(
    make_commitment, make_source, log_update
):
    commitment = make_commitment(made_on=D(2025, 1, 1), stall_after_days=3650)
    gone, fresh = make_source(), make_source()
    log_update(commitment, sources=[gone], effective_on=D(2025, 2, 1))
    Source.objects.filter(pk=gone.pk).update(link_status="unavailable")
    flags_refresh(today=D(2025, 4, 1))
    assert open_flags(commitment, UNSOURCED).exists()

    log_update(commitment, sources=[fresh], effective_on=D(2025, 3, 1))
    flags_refresh(today=D(2025, 4, 1))
    assert not open_flags(commitment, UNSOURCED).exists()


# --- Idempotence -----------------------------------------------------------------------


@pytest.fixture
def mixed(make_commitment, make_source, log_update):
    """Commitments meeting each rule, none, or both."""
    made = []
    for n in range(6):
        commitment = make_commitment(
            made_on=D(2025, 1, 1), deadline=D(2025, 3, 1) if n % 2 else None
        )
        if n % 3 == 0:
            log_update(commitment, sources=[make_source()], effective_on=D(2025, 11, 1))
        made.append(commitment)
    return made


def test_a_second_run_changes_nothing(mixed):
    first = flags_refresh(today=D(2025, 12, 1))
    assert first.changed > 0
    before = list(Flag.objects.order_by("pk").values())
    second = flags_refresh(today=D(2025, 12, 1))
    assert second.changed == 0
    assert list(Flag.objects.order_by("pk").values()) == before


def test_a_quiet_run_skips_its_writes_but_never_a_single_change(
    make_commitment, settings, django_user_model
):
    """The read that lets a run skip a rule with nothing to do (rule_flags_differ) sees a
    lone raise and a lone resolve, each in a rule that has nothing else to do."""
    settings.STALL_AFTER_DAYS = 90
    editor = django_user_model.objects.create_superuser("pub", "pub@example.org", "pw")
    steady = [make_commitment(made_on=D(2025, 1, 1), deadline=D(2025, 2, 1)) for _ in range(3)]
    crossing = make_commitment(made_on=D(2025, 3, 3))  # stale from 2 June, not on 1 June
    moved = make_commitment(made_on=D(2025, 1, 1), deadline=D(2025, 2, 1), stall_after_days=999)
    flags_refresh(today=D(2025, 6, 1))
    # An observation an editor answered is no difference: quiet runs stay quiet.
    flag_resolve(flag=open_flags(steady[0], NRP).get(), by=editor, note="Quiet by design.")
    assert not any(rule_flags_differ(reason=r, today=D(2025, 6, 1)) for r in FlagReason)
    assert flags_refresh(today=D(2025, 6, 1)).changed == 0

    Commitment.objects.filter(pk=moved.pk).update(deadline=D(2025, 12, 1))
    assert [rule_flags_differ(reason=r, today=D(2025, 6, 2)) for r in FlagReason] == [
        r != UNSOURCED for r in FlagReason
    ]
    report = flags_refresh(today=D(2025, 6, 2))
    assert report.raised == {NRP: 1, DEADLINE: 0, UNSOURCED: 0}
    assert report.resolved == {NRP: 0, DEADLINE: 1, UNSOURCED: 0}
    assert open_flags(crossing, NRP).get().since == D(2025, 3, 3)
    assert not open_flags(moved).exists()
    assert flags_refresh(today=D(2025, 6, 2)).changed == 0


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_leave_the_flags_of_one_run(mixed):
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait(timeout=10)
            flags_refresh(today=D(2025, 12, 1))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    concurrent = snapshot()
    assert concurrent

    Flag.objects.all().delete()
    flags_refresh(today=D(2025, 12, 1))
    assert snapshot() == concurrent


@pytest.mark.django_db(transaction=True)
def test_a_flag_raised_elsewhere_at_the_same_moment_is_skipped_not_a_crash(make_commitment):
    """The last line of defence: another transaction inserts the same open flag between our
    check and our insert. The insert waits for it, then skips that row."""
    racing = make_commitment(made_on=D(2024, 1, 1))
    other = make_commitment(made_on=D(2024, 1, 1))
    name = connection.settings_dict["NAME"]
    with psycopg.connect(dbname=name, user="postgres", host="127.0.0.1") as elsewhere:
        elsewhere.execute(
            "INSERT INTO commitments_flag (commitment_id, reason, raised_at, since, "
            "since_precision, details, acknowledgement_note, resolution_note) "
            "VALUES (%s, %s, now(), %s, 'day', 'elsewhere', '', '')",
            [racing.pk, NRP.value, D(2024, 1, 1)],
        )
        result = {}

        def raise_flags():
            try:
                with transaction.atomic():
                    result["raised"] = rule_flags_raise(
                        reason=NRP, today=D(2025, 1, 1), now=timezone.now()
                    )
            except Exception as exc:  # noqa: BLE001 - reported below
                result["error"] = exc
            finally:
                connection.close()

        thread = threading.Thread(target=raise_flags)
        thread.start()
        # Wait until our insert is blocked on the other transaction's row.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            # Statistics are a snapshot per transaction: clear it to see the present.
            elsewhere.execute("SELECT pg_stat_clear_snapshot()")
            waiting = elsewhere.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO%%'",
                [name],
            ).fetchone()[0]
            if waiting:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the raise never waited on the concurrent insert")
        elsewhere.commit()
        thread.join(timeout=20)

    assert "error" not in result, result.get("error")
    assert result["raised"] == 1
    assert open_flags(racing, NRP).get().details == "elsewhere"
    assert open_flags(other, NRP).exists()


# --- Seed data -------------------------------------------------------------------------


def test_refresh_flags_on_the_seed_data(seeded, make_source, log_update, settings, capsys):
    """Every seed commitment whose last recorded progress is older than the threshold is
    flagged; none in a final status is."""
    settings.STALL_AFTER_DAYS = 90
    kept = Commitment.objects.get(slug="one-in-one-out-returns-deal")
    log_update(kept, sources=[make_source()], status="kept", effective_on=D(2025, 11, 1))
    today = D(2026, 3, 1)

    call_command("refresh_flags", "--today", today.isoformat())
    assert "No recent progress: 3 raised" in capsys.readouterr().out

    expected = set()
    for commitment in Commitment.objects.public():
        since = commitment.status_since or commitment.made_on
        precision = commitment.status_since_precision if commitment.status_since else "day"
        stale = end_of_period(since, precision) + datetime.timedelta(days=90) < today
        if stale and commitment.status not in ("kept", "broken"):
            expected.add(commitment.slug)
    assert expected == {
        "french-maritime-doctrine-shallow-waters",
        "intercept-taxi-boats",
        "smash-the-gangs",
    }
    flagged = set(open_flags(reason=NRP).values_list("commitment__slug", flat=True))
    assert flagged == expected
    for flag in open_flags(reason=NRP):
        assert flag.plain_words() == "No recorded progress since October 2025"


def test_refresh_flags_refuses_a_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--today must be a date"):
        call_command("refresh_flags", "--today", "yesterday")


def test_flag_stalled_is_a_deprecated_alias_of_refresh_flags(make_commitment, settings, capsys):
    settings.STALL_AFTER_DAYS = 90
    commitment = make_commitment(made_on=D(2025, 1, 1))
    call_command("flag_stalled", "--today", "2025-06-01")
    out, err = capsys.readouterr()
    assert "deprecated" in err and "refresh_flags" in err
    assert "No recent progress: 1 raised" in out
    assert open_flags(commitment, NRP).exists()
