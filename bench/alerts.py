"""Email alerts: the fan-out of one event to 100,000 followers, and the delivery rate through
a real SMTP server against that server's bare rate.

    make bench-alerts                                   # 100,000 followers, 5,000 mails
    .venv/bin/python bench/alerts.py --followers 100000 --mails 5000 --rounds 3

In its own PostgreSQL database (``accountability_bench_alerts`` on the ``DATABASE_URL``
server: created if missing, migrated, its alert tables emptied each run; never the
database in use). It makes ``--followers`` confirmed subscribers of one commitment (in
SQL), records an event per round and times ``services.outbox.event_fan_out`` (target:
under 2 s, the alerts written by one ``INSERT ... SELECT``), printing the rows written.

Then the delivery, against aiosmtpd (``aiosmtpd.handlers.Sink``, which accepts and drops
every mail) in a process of its own, in A B A B order for ``--rounds`` rounds: A, the
server's bare rate (smtplib sending ``--mails`` copies of a real alert on one connection,
one recipient each, nothing else); B, ``services.alerts.alerts_send_due`` sending
``--mails`` due alerts (rendering, signed links, the claim and commit per mail, the same
SMTP dialogue). Prints the medians in mails/s, their ratio, and the share of B's time
spent in the SMTP dialogue, and says which limits; then ``--senders`` processes sending at once.

It asserts nothing: a benchmark, not a test. The machine is shared and noisy; read the
ratios, not the absolute figures. Mail only goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DB_NAME = "accountability_bench_alerts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_urls() -> tuple[str, str]:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/accountability")
    parts = urlsplit(base)
    if parts.path.strip("/") == DB_NAME:
        raise SystemExit(f"DATABASE_URL names {DB_NAME}: point it at another database.")
    admin = urlunsplit(parts._replace(path="/postgres"))
    return admin, urlunsplit(parts._replace(path=f"/{DB_NAME}"))


def create_database() -> str:
    import psycopg

    admin_url, bench_url = database_urls()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
            print(f"created database {DB_NAME}")
    return bench_url


class SMTPSink:
    """aiosmtpd's Sink handler in a process of its own (not sharing our interpreter)."""

    def __init__(self):
        self.port = free_port()
        self.process = subprocess.Popen(
            [PYTHON, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
             "-l", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"220"):
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise SystemExit("aiosmtpd did not start within 20 s.")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def setup_django(bench_url: str, smtp_port: int) -> None:
    os.environ.update(
        DATABASE_URL=bench_url,
        DJANGO_SETTINGS_MODULE="accountability.settings",
        SECRET_KEY="bench-alerts-only-" + "x" * 40,
        SITE_URL="https://tracker.example.org",
        VAR_DIR=str(ROOT / "var" / "bench-alerts"),
        # Queued tasks (the fan-out on commit) go nowhere: this script calls the services.
        CELERY_BROKER_URL="memory://",
        EMAIL_BACKEND="__main__.TimedBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_TIMEOUT="10",
        # The set-up statements (100,000-row inserts) outlast a web request's limit.
        DB_STATEMENT_TIMEOUT_MS="0",
        DB_JOB_STATEMENT_TIMEOUT_MS="0",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


try:
    from django.core.mail.backends.smtp import EmailBackend as _SMTPBackend
except ImportError:  # pragma: no cover - Django is installed wherever this runs
    _SMTPBackend = object


class TimedBackend(_SMTPBackend):
    """Django's SMTP backend, adding up the time spent in the SMTP dialogue."""

    spent = 0.0

    def send_messages(self, email_messages):
        start = time.perf_counter()
        try:
            return super().send_messages(email_messages)
        finally:
            TimedBackend.spent += time.perf_counter() - start


GENERATE = """
INSERT INTO commitments_subscriber (email, key, created_at, confirmation_sent_at)
SELECT 'bench' || g || '@example.org', md5(g::text), now(), now()
FROM generate_series(1, %(n)s) AS g;
INSERT INTO commitments_subscription (subscriber_id, frequency, created_at, confirmed_at,
    commitment_id, actor_id, topic_id)
SELECT id, 'each', now(), now(), %(c)s, NULL, NULL FROM commitments_subscriber;
"""


def build(followers: int):
    import datetime

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from commitments.models import Commitment

    call_command("migrate", verbosity=0, interactive=False)
    commitment, _ = Commitment.objects.get_or_create(
        slug="bench-alerts",
        defaults={
            "title": "Build 300,000 homes by 2030",
            "summary": "What was promised.",
            "made_on": datetime.date(2025, 7, 10),
            "is_published": True,
            "published_at": timezone.now(),
        },
    )
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE commitments_alert, commitments_subscription, commitments_subscriber, "
            "commitments_outboxevent CASCADE"
        )
        for statement in GENERATE.split(";\n"):
            if statement.strip():
                cursor.execute(statement, {"n": followers, "c": commitment.pk})
        cursor.execute("ANALYZE")
    print(f"made {followers:,} confirmed followers of one commitment in "
          f"{time.perf_counter() - start:.1f} s")
    return commitment


def payload(commitment) -> dict:
    url = f"https://tracker.example.org/commitments/{commitment.slug}/"
    return {
        "headline": "Status changed to Stalled",
        "summary": "The ministry said the budget line was frozen until the spending review.",
        "url": url + "#update-1",
        "occurred_on": "2025-10-01", "occurred_precision": "month",
        "occurred_label": "October 2025",
        "commitment": {"slug": commitment.slug, "title": commitment.title, "url": url,
                       "status": "stalled", "status_label": "Stalled"},
        "actor": None, "topic": None,
        "sources": [{"title": "Budget frozen", "outlet": "Example News",
                     "url": "https://news.example.org/budget", "archive_url": ""}],
        "changes": [],
    }


BARE_INSERT = """
INSERT INTO commitments_alert (event_id, subscriber_id, digest, created_at, next_attempt_at,
    attempts, last_error)
SELECT %s, id, false, now(), now(), 0, '' FROM commitments_subscriber
"""


def record_event(commitment, name: str, *, fanned_out=False):
    from django.db import transaction
    from django.utils import timezone

    from commitments.models import EventType, OutboxEvent
    from commitments.services import outbox

    with transaction.atomic():
        event, _ = outbox.event_record(
            type=EventType.STATUS_UPDATE, key=f"bench:{name}:{time.time()}",
            payload=payload(commitment), commitment=commitment,
        )
        if fanned_out:
            OutboxEvent.objects.filter(pk=event.pk).update(fanned_out_at=timezone.now())
    return event


def time_fan_out(commitment, rounds: int) -> list[int]:
    """A B A B: A, a bare ``INSERT ... SELECT`` of as many alert rows (every subscriber,
    no rule: the table's own cost, indexes and commit included); B, ``event_fan_out``."""
    from django.db import connection, transaction

    from commitments.services import outbox

    events, bare, ours = [], [], []
    for n in range(rounds):
        other = record_event(commitment, f"bare-{n}", fanned_out=True)
        start = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(BARE_INSERT, [other.pk])
            bare_rows = cursor.rowcount
        bare.append(time.perf_counter() - start)
        event = record_event(commitment, f"fan-out-{n}")
        start = time.perf_counter()
        alerts_written, _webhooks = outbox.event_fan_out(event_id=event.pk)
        ours.append(time.perf_counter() - start)
        events.append(event.pk)
        print(f"  round {n + 1}: A bare INSERT {bare[-1]:5.2f} s ({bare_rows:,} rows)   "
              f"B event_fan_out {ours[-1]:5.2f} s ({alerts_written:,} alert rows, "
              "one INSERT ... SELECT)")
    a, b = statistics.median(bare), statistics.median(ours)
    print(f"fan-out to {alerts_written:,} followers: median {b:.2f} s; bare INSERT of as many "
          f"rows {a:.2f} s; ratio {b / a:.2f}; target under 2 s: {'met' if b < 2 else 'MISSED'}")
    return events


def bare_rate(port: int, data: bytes, mails: int) -> float:
    """The server's own rate: one connection, MAIL/RCPT/DATA per mail, nothing else."""
    start = time.perf_counter()
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=10)
    for n in range(mails):
        smtp.sendmail("tracker@localhost", [f"bare{n}@example.org"], data)
    smtp.quit()
    return mails / (time.perf_counter() - start)


def our_rate(alert_ids: list[int], batch: int) -> tuple[float, float]:
    """mails/s through services.alerts, and the share of that time in the SMTP dialogue."""
    from django.db import connection

    from commitments.services import alerts

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE commitments_alert SET sent_at = NULL, failed_at = NULL, attempts = 0, "
            "last_error = '', next_attempt_at = now() - interval '1 second' "
            "WHERE id = ANY(%s)",
            [alert_ids],
        )
    TimedBackend.spent = 0.0
    sent = 0
    start = time.perf_counter()
    while True:
        report = alerts.alerts_send_due(limit=batch)
        if report.stopped or report.failed:
            raise SystemExit(f"delivery failed: {report} {report.errors[-1:]}")
        if not report.handled:
            break
        sent += report.sent
    elapsed = time.perf_counter() - start
    if sent != len(alert_ids):
        raise SystemExit(f"sent {sent} of {len(alert_ids)}")
    return sent / elapsed, TimedBackend.spent / elapsed


def _send_all(batch: int) -> int:
    from django.db import connection

    from commitments.services import alerts

    sent = 0
    try:
        while True:
            report = alerts.alerts_send_due(limit=batch)
            if report.stopped or report.failed or not report.handled:
                return sent
            sent += report.sent
    finally:
        connection.close()


def parallel_rate(alert_ids: list[int], batch: int, senders: int) -> float:
    """mails/s with ``senders`` processes sending at once (as Celery workers would): they
    share the rows through SKIP LOCKED."""
    import multiprocessing

    from django.db import connection

    from commitments.models import Alert

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE commitments_alert SET sent_at = NULL, failed_at = NULL, attempts = 0, "
            "last_error = '', next_attempt_at = now() - interval '1 second' "
            "WHERE id = ANY(%s)",
            [alert_ids],
        )
    connection.close()  # each forked sender opens its own
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(senders) as pool:
        sent = sum(pool.map(_send_all, [batch] * senders))
    elapsed = time.perf_counter() - start
    # Claims add up to the number of alerts (none sent twice), and none is left unsent.
    unsent = Alert.objects.filter(pk__in=alert_ids, sent_at__isnull=True).count()
    if sent != len(alert_ids) or unsent:
        raise SystemExit(f"{senders} senders sent {sent} of {len(alert_ids)}, {unsent} left")
    return sent / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--followers", type=int, default=100_000)
    parser.add_argument("--mails", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=200, help="alerts_send_due's limit")
    parser.add_argument("--senders", type=int, default=2,
                        help="also time this many sending processes at once (0: skip)")
    args = parser.parse_args()
    bench_url = create_database()
    sink = SMTPSink()
    try:
        setup_django(bench_url, sink.port)
        from django.db import connection

        from commitments.models import Alert
        from commitments.services import alerts

        print(f"database {DB_NAME}; {os.cpu_count()} CPUs; load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        commitment = build(args.followers)
        events = time_fan_out(commitment, args.rounds)

        # The delivery rounds send the same --mails alerts of the first event, due again
        # before each round; nothing else is due.
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE commitments_alert")
            cursor.execute(
                "INSERT INTO commitments_alert (event_id, subscriber_id, digest, created_at, "
                "next_attempt_at, attempts, last_error) SELECT %s, id, false, now(), now(), 0, '' "
                "FROM commitments_subscriber ORDER BY id LIMIT %s",
                [events[0], args.mails],
            )
            cursor.execute("VACUUM ANALYZE commitments_alert")
        alert_ids = list(Alert.objects.order_by("pk").values_list("pk", flat=True))
        sample = Alert.objects.select_related("event", "subscriber").get(pk=alert_ids[0])
        data = alerts.alert_message(sample).message().as_bytes(linesep="\r\n")
        print(f"\ndelivery of {len(alert_ids):,} mails ({len(data):,} bytes each) to aiosmtpd "
              f"(Sink, own process); batches of {args.batch}; {args.rounds} rounds A B A B, "
              "medians")
        bare, ours, smtp_share = [], [], []
        for n in range(args.rounds):  # A B A B ...
            bare.append(bare_rate(sink.port, data, len(alert_ids)))
            rate, share = our_rate(alert_ids, args.batch)
            ours.append(rate)
            smtp_share.append(share)
            print(f"  round {n + 1}: A bare smtplib {bare[-1]:7.0f} mails/s   "
                  f"B services.alerts {ours[-1]:7.0f} mails/s ({share:.0%} in SMTP)")
        if args.senders > 1:
            parallel = [parallel_rate(alert_ids, args.batch, args.senders)
                        for _ in range(args.rounds)]
            print(f"  {args.senders} sending processes at once: "
                  + ", ".join(f"{r:.0f}" for r in parallel) + " mails/s")
        a, b, share = (statistics.median(x) for x in (bare, ours, smtp_share))
        print(f"bare SMTP rate (A):        {a:7.0f} mails/s")
        print(f"services.alerts rate (B):  {b:7.0f} mails/s")
        print(f"ratio B / A:               {b / a:7.2f}")
        print(f"B's time in send_messages (SMTP and MIME encoding): {share:.0%}; per mail, "
              f"{share / b * 1000:.2f} ms, the rest (claim, commit, render, sign) "
              f"{(1 - share) / b * 1000:.2f} ms")
        if args.senders > 1:
            median = statistics.median(parallel)
            print(f"{args.senders} senders at once (B):  {median:7.0f} mails/s")
        # Limited by SMTP when we send near the server's own rate; the share of time inside
        # send_messages also holds Django encoding the MIME message, so it is not the test.
        limit = (
            "SMTP" if b / a >= 0.8
            else "our code: per mail, the claim and its commit, and the MIME message built "
            "(inside send_messages, counted in the SMTP share above)"
        )
        print(f"what limits delivery: {limit}")
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
