"""The jobs on the embedded default (SQLite, no servers) and the one beat schedule."""

from __future__ import annotations

from django.conf import settings

from accountability.celery import app
from tests.embedded import embedded_environment, manage


def test_the_beat_schedule_names_real_tasks_at_the_configured_intervals():
    schedule = settings.CELERY_BEAT_SCHEDULE
    app.loader.import_default_modules()
    for entry in schedule.values():
        assert entry["task"] in app.tasks, entry["task"]
    assert schedule["flag-stalled-commitments"]["schedule"] == (
        settings.FLAG_STALLED_EVERY_HOURS * 3600
    )
    assert schedule["check-sources"]["schedule"] == settings.CHECK_SOURCES_EVERY_DAYS * 86400
    assert schedule["editors-digest"]["schedule"] == settings.EDITORS_DIGEST_EVERY_HOURS * 3600


def test_late_acknowledged_tasks_finish_before_the_broker_redelivers_them():
    app.loader.import_default_modules()
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    late = [task for name, task in app.tasks.items() if name.startswith("commitments.")]
    late = [task for task in late if task.acks_late]
    assert {task.name for task in late} >= {
        "commitments.tasks.refresh_flags",
        "commitments.tasks.check_sources",
        "commitments.tasks.archive_source",
    }
    for task in late:
        assert task.time_limit and task.time_limit < visibility, task.name
    assert not app.tasks["commitments.tasks.send_editors_digest"].acks_late


def test_refresh_flags_on_sqlite_at_the_edge_of_the_threshold(tmp_path):
    """The same SQL on SQLite: the seeds' last progress is "October 2025", so with 90 days
    they stall from 30 January 2026 (31 October + 90 days is the 29th), not before."""
    env = embedded_environment(tmp_path / "var")
    env["STALL_AFTER_DAYS"] = "90"
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_seeds")

    assert "No recent progress: 0 raised" in manage(env, "refresh_flags", "--today", "2026-01-29")
    assert "No recent progress: 4 raised" in manage(env, "refresh_flags", "--today", "2026-01-30")
    assert "No recent progress: 0 raised, 0 resolved" in manage(
        env, "refresh_flags", "--today", "2026-01-30"
    )
    out = manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        "from django.db import connection; from commitments.models import Flag; "
        "print(connection.vendor, sorted(f.plain_words() for f in Flag.objects.open()))",
    )
    assert out.strip() == "sqlite " + str(["No recorded progress since October 2025"] * 4)


# Each writer reads, then writes, in one transaction (as the fan-out and the senders do),
# many times over, while the other does the same.
READ_THEN_WRITE = """
from django.db import transaction
from commitments.models import Topic
for n in range(150):
    with transaction.atomic():
        topic = Topic.objects.order_by("pk").first()
        Topic.objects.filter(pk=topic.pk).update(description=f"{WHO} {n}")
print("done")
"""


def test_two_processes_writing_at_once_on_sqlite_wait_for_each_other(tmp_path):
    """The embedded default runs the web process and two worker processes on one SQLite
    file. A transaction that read before writing used to fail at once with "database is
    locked" when another held the write lock (seen on ``make run``: the seeds' events
    fanned out by two workers); each now takes the lock when it begins, and waits."""
    import subprocess
    import sys

    env = embedded_environment(tmp_path)
    manage(env, "migrate", "--noinput")
    manage(
        env,
        "shell",
        "-c",
        "from commitments.models import Topic; Topic.objects.create(name='T', slug='t')",
    )
    writers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", READ_THEN_WRITE.replace("WHO", repr(who))],  # noqa: E501
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("first", "second")
    ]
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err[-2000:]
        assert "done" in out
