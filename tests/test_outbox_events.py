"""The outbox's events: each public change writes exactly one event, in its own transaction,
with the payload the contract promises (``commitments/events.py``); drafts, refusals and
rolled-back changes write none; the flag job writes its events set-based, in a number of
queries that does not grow with the flags, on PostgreSQL and on SQLite; and the fan-out
finds the event's followers. On the real database, judged by the rows left."""

from __future__ import annotations

import datetime
import json
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commitments import events, services
from commitments.models import (
    Alert,
    Commitment,
    EventType,
    Flag,
    FlagReason,
    OutboxEvent,
    Statement,
    Subscriber,
    Subscription,
)
from commitments.services.outbox import event_fan_out
from tests.embedded import embedded_environment, manage
from tests.workers import empty_redis

pytestmark = pytest.mark.django_db

SITE = "https://tracker.example.org"
D = datetime.date
CONTRACT_KEYS = {
    "headline",
    "summary",
    "url",
    "occurred_on",
    "occurred_precision",
    "occurred_label",
    "commitment",
    "actor",
    "topic",
    "sources",
    "changes",
    # Issue 13: the same words in French ({"fr": {...}}).
    "translations",
}


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def publisher(role_client):
    return role_client("Publisher").user


@pytest.fixture
def editor(role_client):
    return role_client("Editor").user


def only_event(**filters) -> OutboxEvent:
    found = list(OutboxEvent.objects.filter(**filters))
    assert len(found) == 1, found
    return found[0]


def assert_contract(payload: dict, *extra: str) -> None:
    assert set(payload) == CONTRACT_KEYS | set(extra)
    assert payload["url"].startswith(SITE + "/")
    json.dumps(payload)  # plain JSON all the way down


def commitment_block(commitment: Commitment) -> dict:
    commitment.refresh_from_db()
    return {
        "slug": commitment.slug,
        "title": commitment.title,
        "url": f"{SITE}/commitments/{commitment.slug}/",
        "status": commitment.status,
        "status_label": commitment.get_status_display(),
    }


# --- Status updates -------------------------------------------------------------------------


def test_a_status_update_writes_one_event_with_its_step_and_sources(
    make_commitment, make_source, log_update
):
    commitment = make_commitment(title="Stop the <boats>", slug="stop-the-boats")
    source = make_source(title="Minister's speech", outlet="Hansard")
    update = log_update(
        commitment,
        sources=[source],
        status="stalled",
        effective_on=D(2025, 10, 1),
        effective_precision="month",
        description="Talks broke down & nothing moved.",
    )

    event = only_event()
    assert (event.type, event.key) == (EventType.STATUS_UPDATE, f"status_update:{update.pk}")
    assert (event.commitment, event.actor, event.topic) == (commitment, None, None)
    assert event.fanned_out_at is None
    payload = event.payload
    assert_contract(payload, "status_update")
    assert payload["headline"] == "Status changed to Stalled"
    assert payload["summary"] == "Talks broke down & nothing moved."
    assert payload["url"] == f"{SITE}/commitments/stop-the-boats/#update-{update.pk}"
    assert (payload["occurred_on"], payload["occurred_precision"], payload["occurred_label"]) == (
        "2025-10-01",
        "month",
        "October 2025",
    )
    assert payload["commitment"] == commitment_block(commitment)
    assert payload["commitment"]["status_label"] == "Stalled"
    assert (payload["actor"], payload["topic"], payload["changes"]) == (None, None, [])
    assert payload["sources"] == [
        {
            "title": "Minister's speech",
            "outlet": "Hansard",
            "url": source.url,
            "archive_url": "",
            "language": "en",
        }
    ]
    assert payload["status_update"] == {
        "id": update.pk,
        "status": "stalled",
        "status_label": "Stalled",
        "corrects_url": None,
        "correction_note": "",
    }


def test_an_update_that_keeps_the_status_or_fills_in_the_past_says_so(
    make_commitment, make_source, log_update
):
    commitment = make_commitment()
    source = make_source()
    sources = [source]
    log_update(commitment, sources=sources, status="in_progress", effective_on=D(2025, 9, 1))
    same = log_update(commitment, sources=sources, status="in_progress", effective_on=D(2025, 9, 9))
    earlier = log_update(commitment, sources=sources, status="stalled", effective_on=D(2025, 8, 8))

    headline = {e.key: e.payload["headline"] for e in OutboxEvent.objects.all()}
    assert headline[f"status_update:{same.pk}"] == "New update, status still In progress"
    assert headline[f"status_update:{earlier.pk}"] == "Earlier step recorded: Stalled"


def test_a_correction_is_its_own_type_and_links_the_entry_it_corrects(
    make_commitment, make_source, log_update
):
    commitment = make_commitment(slug="returns-deal")
    source = make_source()
    wrong = log_update(commitment, sources=[source], status="kept")
    right = log_update(
        commitment,
        sources=[source],
        status="in_progress",
        corrects=wrong,
        correction_note="It was not kept: only a pilot ran.",
    )

    event = only_event(key=f"status_update:{right.pk}")
    assert event.type == EventType.CORRECTION
    assert event.payload["headline"] == "Correction to the timeline"
    assert event.payload["status_update"]["corrects_url"] == (
        f"{SITE}/commitments/returns-deal/#update-{wrong.pk}"
    )
    assert event.payload["status_update"]["correction_note"] == (
        "It was not kept: only a pilot ran."
    )
    assert OutboxEvent.objects.count() == 2


def test_a_drafts_update_and_an_editors_check_tell_nobody(make_commitment, make_source, log_update):
    draft = make_commitment(published=False)
    log_update(draft, sources=[make_source()])
    services.check_record(
        commitment=make_commitment(), checked_on=D(2025, 9, 1), note="Nothing new."
    )
    assert not OutboxEvent.objects.exists()


def test_a_refused_update_leaves_no_event(make_commitment, log_update):
    commitment = make_commitment()
    with pytest.raises(ValidationError) as refused:
        log_update(commitment, sources=[])
    assert "sources" in refused.value.message_dict
    assert not OutboxEvent.objects.exists()


def test_the_event_rolls_back_with_its_update(make_commitment, make_source, log_update):
    commitment = make_commitment()
    source = make_source()

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon), transaction.atomic():
        log_update(commitment, sources=[source])
        assert OutboxEvent.objects.count() == 1  # written inside the transaction...
        raise Abandon
    assert not OutboxEvent.objects.exists()  # ...and gone with it
    assert not commitment.status_updates.exists()


def test_a_form_posted_twice_records_one_event(make_commitment, make_source):
    commitment = make_commitment()
    source = make_source()
    token = uuid.uuid4()
    fields = {
        "commitment": commitment,
        "status": "in_progress",
        "effective_on": D(2025, 8, 1),
        "description": "Deal signed.",
        "sources": [source],
    }
    first, created = services.status_update_create_once(idempotency_key=token, **fields)
    again, created_again = services.status_update_create_once(idempotency_key=token, **fields)

    assert (created, created_again, again) == (True, False, first)
    assert only_event().key == f"status_update:{first.pk}"


# --- Flags: by hand --------------------------------------------------------------------------


def test_a_publisher_resolving_a_flag_tells_the_followers(make_commitment, publisher):
    commitment = make_commitment(slug="cut-arrivals", made_on=D(2025, 1, 1))
    services.flags_refresh(today=D(2026, 1, 1))
    flag = Flag.objects.get(commitment=commitment, reason=FlagReason.NO_RECENT_PROGRESS)
    OutboxEvent.objects.all().delete()

    services.flag_resolve(flag=flag, by=publisher, note="The ministry <answered>.")

    event = only_event()
    flag.refresh_from_db()
    assert (event.type, event.key, event.commitment) == (
        EventType.FLAG_RESOLVED,
        f"flag:{flag.pk}:resolved",
        commitment,
    )
    payload = event.payload
    assert_contract(payload, "flag")
    assert payload["headline"] == "Flag resolved: no recent progress"
    assert payload["summary"] == "The ministry <answered>."
    assert payload["url"] == f"{SITE}/commitments/cut-arrivals/"
    assert payload["occurred_on"] == timezone.localdate(flag.resolved_at).isoformat()
    assert payload["flag"] == {
        "id": flag.pk,
        "reason": "no_recent_progress",
        "reason_label": "No recent progress",
        "details": flag.details,
        "raised_at": events.iso_timestamp(flag.raised_at),
        "resolved_at": events.iso_timestamp(flag.resolved_at),
        "resolution_note": "The ministry <answered>.",
    }


# --- Flags: the job, set-based ------------------------------------------------------------------


def test_the_flag_job_writes_one_event_per_flag_raised_and_resolved(
    make_commitment, make_source, log_update, django_capture_on_commit_callbacks
):
    stalled = make_commitment(slug="stalled-one", made_on=D(2025, 1, 1))
    overdue = make_commitment(
        slug="overdue-one", made_on=D(2025, 1, 1), deadline=D(2025, 6, 1), stall_after_days=3650
    )
    make_commitment(published=False, made_on=D(2025, 1, 1))  # a draft: no flag, no event
    now = timezone.now()

    with django_capture_on_commit_callbacks() as callbacks:
        report = services.flags_refresh(today=D(2026, 1, 1), now=now)
    assert report.raised == {
        FlagReason.NO_RECENT_PROGRESS: 1,
        FlagReason.DEADLINE_PASSED: 1,
        FlagReason.SOURCES_UNAVAILABLE: 0,
    }
    assert len(callbacks) == 1  # one callback queues every new event's fan-out
    raised = {e.key: e for e in OutboxEvent.objects.all()}
    nrp = Flag.objects.get(commitment=stalled)
    late = Flag.objects.get(commitment=overdue)
    assert set(raised) == {f"flag:{nrp.pk}:raised", f"flag:{late.pk}:raised"}
    event = raised[f"flag:{late.pk}:raised"]
    assert (event.type, event.commitment, event.actor, event.topic) == (
        EventType.FLAG_RAISED,
        overdue,
        None,
        None,
    )
    assert event.occurred_at == now
    assert len({e.uuid for e in raised.values()}) == 2
    # The payload built in SQL is the one the Python builder writes for the same flag.
    assert event.payload == events.flag_payload(late, resolved=False)
    assert_contract(event.payload, "flag")
    assert event.payload["headline"] == "Flag raised: deadline passed"
    assert event.payload["url"] == f"{SITE}/commitments/overdue-one/"
    assert event.payload["commitment"] == commitment_block(overdue)
    assert event.payload["flag"]["resolved_at"] is None

    # A second run changes nothing and tells nothing.
    services.flags_refresh(today=D(2026, 1, 1))
    assert OutboxEvent.objects.count() == 2

    # Progress resolves the first flag; the job tells that once.
    log_update(stalled, sources=[make_source()], effective_on=D(2025, 12, 20))
    later = timezone.now()
    services.flags_refresh(today=D(2026, 1, 1), now=later)
    nrp.refresh_from_db()
    resolved = only_event(type=EventType.FLAG_RESOLVED)
    assert resolved.key == f"flag:{nrp.pk}:resolved"
    assert resolved.payload == events.flag_payload(nrp, resolved=True)
    assert resolved.payload["headline"] == "Flag resolved: no recent progress"
    assert resolved.payload["summary"] == "Progress was recorded."
    assert resolved.payload["flag"]["resolved_at"] == events.iso_timestamp(later)
    services.flags_refresh(today=D(2026, 1, 1))
    assert OutboxEvent.objects.filter(type=EventType.FLAG_RESOLVED).count() == 1


def test_a_flag_resolved_because_its_commitment_was_withdrawn_tells_nobody(
    make_commitment, publisher
):
    commitment = make_commitment(made_on=D(2025, 1, 1))
    services.flags_refresh(today=D(2026, 1, 1))
    services.commitment_unpublish(commitment=commitment, unpublished_by=publisher)
    services.flags_refresh(today=D(2026, 1, 1))

    assert Flag.objects.filter(commitment=commitment, resolved_at__isnull=False).exists()
    assert not OutboxEvent.objects.filter(type=EventType.FLAG_RESOLVED).exists()


def _flag_run_queries(make_commitment, number: int) -> tuple[int, int]:
    for _ in range(number):
        make_commitment(made_on=D(2025, 1, 1))
    with CaptureQueriesContext(connection) as queries:
        report = services.flags_refresh(today=D(2026, 1, 1))
    assert report.raised[FlagReason.NO_RECENT_PROGRESS] == number
    return len(queries), OutboxEvent.objects.filter(type=EventType.FLAG_RAISED).count()


@pytest.mark.parametrize("number", [5, 50])
def test_the_flag_jobs_events_take_the_same_queries_for_5_or_50_flags(
    make_commitment, django_assert_max_num_queries, number
):
    for _ in range(number):
        make_commitment(made_on=D(2025, 1, 1))
    # Per reason: the "differ" read, resolve, raise and their two event inserts; plus the
    # run's settings, lock and savepoints.
    with django_assert_max_num_queries(22):
        report = services.flags_refresh(today=D(2026, 1, 1))
    assert report.raised[FlagReason.NO_RECENT_PROGRESS] == number
    assert OutboxEvent.objects.filter(type=EventType.FLAG_RAISED).count() == number


def test_the_flag_jobs_query_count_does_not_grow_with_the_flags(make_commitment):
    few, told = _flag_run_queries(make_commitment, 5)
    many, told_more = _flag_run_queries(make_commitment, 50)
    assert (told, told_more) == (5, 55)
    assert few == many


# --- Revisions ------------------------------------------------------------------------------


def _follow(email, **subject):
    subscriber = Subscriber.objects.create(email=email, key=email)
    Subscription.objects.create(subscriber=subscriber, confirmed_at=timezone.now(), **subject)
    return subscriber


def test_a_publishers_revision_of_a_statement_tells_each_commitment_that_shows_it(
    make_commitment, make_source, make_actor, publisher
):
    source = make_source()
    first = make_commitment(made_in=source, slug="first")
    second = make_commitment(made_in=source, slug="second")
    draft = make_commitment(published=False, made_in=source, slug="draft")
    statement = Statement.objects.create(
        text="We will stop the boats.",
        speaker=make_actor(),
        said_on=datetime.date(2025, 7, 10),
        source=source,
    )
    statement.commitments.set([first, second, draft])

    revision = services.revision_submit(
        obj=statement,
        after={"text": "We will stop the taxi boats."},
        kind="correction",
        reason="The quote was cut short.",
        by=publisher,
    )

    found = {e.key: e for e in OutboxEvent.objects.all()}
    assert set(found) == {
        f"revision:{revision.pk}:{first.pk}",
        f"revision:{revision.pk}:{second.pk}",
    }
    on_first = found[f"revision:{revision.pk}:{first.pk}"]
    assert (on_first.type, on_first.commitment, on_first.topic) == (
        EventType.REVISION,
        first,
        None,
    )
    payload = on_first.payload
    assert_contract(payload, "revision")
    assert payload["headline"] == "Published text corrected"
    assert payload["summary"] == "The quote was cut short."
    assert payload["url"] == f"{SITE}/commitments/first/changes/#revision-{revision.pk}"
    assert payload["changes"][0]["field"] == "Text"
    assert payload["changes"][0]["after"] == "We will stop the taxi boats."
    assert payload["revision"]["id"] == revision.pk
    assert payload["revision"]["kind"] == "correction"


def test_a_topics_revision_is_one_event_told_once_to_each_follower_of_it_or_its_commitments(
    make_commitment, make_source, make_topic, publisher
):
    source = make_source()
    topic = make_topic(name="Returns", slug="returns")
    first = make_commitment(made_in=source, slug="first")
    second = make_commitment(made_in=source, slug="second")
    draft = make_commitment(published=False, made_in=source, slug="draft")
    for commitment in (first, second, draft):
        commitment.topics.add(topic)
    of_topic = _follow("topic@newsroom.test", topic=topic)
    of_first = _follow("first@newsroom.test", commitment=first)
    of_both = _follow("both@newsroom.test", commitment=second)
    Subscription.objects.create(subscriber=of_both, topic=topic, confirmed_at=timezone.now())
    everything = _follow("all@newsroom.test")
    _follow("unrelated@newsroom.test", topic=make_topic(name="Other", slug="other"))

    revision = services.revision_submit(
        obj=topic,
        after={"name": "Returns to France"},
        kind="correction",
        reason="The topic is about returns to France only.",
        by=publisher,
    )

    on_topic = only_event(key=f"revision:{revision.pk}:topic")
    assert OutboxEvent.objects.count() == 1
    assert (on_topic.commitment, on_topic.topic) == (None, topic)
    assert_contract(on_topic.payload, "revision")
    assert on_topic.payload["topic"] == {
        "slug": "returns",
        "name": "Returns to France",
        "url": f"{SITE}/topics/returns/",
    }
    assert on_topic.payload["url"] == f"{SITE}/topics/returns/"
    assert on_topic.payload["changes"] == [
        {"field": "Name", "before": "Returns", "after": "Returns to France"}
    ]

    event_fan_out(event_id=on_topic.pk)
    told = sorted(on_topic.alerts.values_list("subscriber__email", flat=True))
    assert told == sorted(s.email for s in (of_topic, of_first, of_both, everything))


def test_an_actors_revision_is_one_event_told_to_the_followers_of_its_commitments(
    make_commitment, make_source, make_actor, publisher
):
    minister = make_actor(name="Jane Minister", slug="jane-minister", role="")
    first = make_commitment(actor=minister, made_in=make_source())
    second = make_commitment(actor=minister, made_in=make_source())
    of_actor = _follow("actor@newsroom.test", actor=minister)
    _follow("first@newsroom.test", commitment=first)
    Subscription.objects.create(subscriber=of_actor, commitment=second, confirmed_at=timezone.now())

    revision = services.revision_submit(
        obj=minister,
        after={"role": "Home Secretary"},
        kind="minor",
        reason="Her post.",
        by=publisher,
    )

    assert list(OutboxEvent.objects.values_list("key", flat=True)) == [
        f"revision:{revision.pk}:actor"
    ]
    on_actor = only_event(key=f"revision:{revision.pk}:actor")
    assert (on_actor.actor, on_actor.commitment, on_actor.topic) == (minister, None, None)
    assert on_actor.payload["actor"] == {
        "slug": "jane-minister",
        "name": "Jane Minister",
        "url": f"{SITE}/actors/jane-minister/",
    }
    assert on_actor.payload["changes"] == [
        {"field": "Role", "before": "—", "after": "Home Secretary"}
    ]
    assert on_actor.payload["headline"] == "Published text revised"
    assert event_fan_out(event_id=on_actor.pk) == (2, 0)
    assert sorted(on_actor.alerts.values_list("subscriber__email", flat=True)) == [
        "actor@newsroom.test",
        "first@newsroom.test",
    ]


def test_an_editors_proposal_tells_nobody_until_a_publisher_applies_it(
    make_commitment, make_source, editor, publisher
):
    commitment = make_commitment(made_in=make_source(), slug="boats", title="Stop the boats")
    revision = services.revision_submit(
        obj=commitment,
        after={"title": "Stop the small boats"},
        kind="minor",
        reason="Title as said.",
        by=editor,
    )
    assert not OutboxEvent.objects.exists()

    services.revision_apply(revision=revision, by=publisher)
    event = only_event()
    assert event.key == f"revision:{revision.pk}:{commitment.pk}"
    assert event.payload["headline"] == "Published text revised"
    assert event.payload["changes"] == [
        {"field": "Title", "before": "Stop the boats", "after": "Stop the small boats"}
    ]
    assert event.payload["commitment"]["title"] == "Stop the small boats"


def test_revising_what_only_drafts_show_tells_nobody(make_commitment, make_topic, publisher):
    topic = make_topic(name="Draft topic")
    make_commitment(published=False).topics.add(topic)

    revision = services.revision_submit(
        obj=topic, after={"name": "Renamed"}, kind="minor", reason="Typo.", by=publisher
    )
    assert revision.state == "applied"
    assert not OutboxEvent.objects.exists()


# --- Publishing ---------------------------------------------------------------------------------


def test_publishing_tells_the_followers_and_a_republication_is_told_again(
    make_commitment, make_source, publisher
):
    source = make_source(title="Summit communiqué", outlet="Gov")
    commitment = make_commitment(
        published=False, made_in=source, slug="summit", made_on=D(2025, 7, 10)
    )
    assert not OutboxEvent.objects.exists()

    services.commitment_publish(commitment=commitment, published_by=publisher)
    event = only_event()
    assert (event.type, event.commitment) == (EventType.PUBLISHED, commitment)
    assert event.key.startswith(f"commitment:{commitment.pk}:published:")
    payload = event.payload
    assert_contract(payload)
    assert payload["headline"] == "Commitment published"
    assert payload["summary"] == commitment.summary
    assert payload["url"] == f"{SITE}/commitments/summit/"
    assert payload["occurred_label"] == "10 July 2025"
    assert payload["sources"] == [
        {
            "title": "Summit communiqué",
            "outlet": "Gov",
            "url": source.url,
            "archive_url": "",
            "language": "en",
        }
    ]

    services.commitment_publish(commitment=commitment, published_by=publisher)  # no change
    assert OutboxEvent.objects.count() == 1
    services.commitment_unpublish(commitment=commitment, unpublished_by=publisher)
    services.commitment_publish(commitment=commitment, published_by=publisher)
    assert OutboxEvent.objects.filter(type=EventType.PUBLISHED).count() == 2


def test_a_refused_publication_tells_nobody(make_commitment, publisher):
    commitment = make_commitment(published=False)  # no source for where it was made
    with pytest.raises(ValidationError):
        services.commitment_publish(commitment=commitment, published_by=publisher)
    assert not OutboxEvent.objects.exists()


# --- Fan-out ------------------------------------------------------------------------------------


def test_the_fan_out_finds_the_followers_of_the_commitments_topic(
    make_commitment, make_source, make_topic, log_update
):
    topic = make_topic()
    commitment = make_commitment()
    commitment.topics.add(topic)
    confirmed = Subscriber.objects.create(email="reader@example.org", key="k1")
    Subscription.objects.create(subscriber=confirmed, topic=topic, confirmed_at=timezone.now())
    unconfirmed = Subscriber.objects.create(email="maybe@example.org", key="k2")
    Subscription.objects.create(subscriber=unconfirmed, topic=topic)
    elsewhere = Subscriber.objects.create(email="other@example.org", key="k3")
    Subscription.objects.create(
        subscriber=elsewhere, topic=make_topic(), confirmed_at=timezone.now()
    )

    log_update(commitment, sources=[make_source()])
    event = only_event()
    assert event_fan_out(event_id=event.pk) == (1, 0)
    alert = Alert.objects.get()
    assert (alert.event, alert.subscriber, alert.digest) == (event, confirmed, False)


# --- The embedded default: the flag job's events on SQLite --------------------------------


def test_the_flag_jobs_events_on_sqlite(tmp_path):
    env = embedded_environment(tmp_path / "var")
    env["STALL_AFTER_DAYS"] = "90"
    env["SITE_URL"] = SITE
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_seeds")
    assert "No recent progress: 4 raised" in manage(env, "refresh_flags", "--today", "2026-01-30")
    manage(env, "refresh_flags", "--today", "2026-01-30")  # a second run tells nothing more
    out = manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        "import json; from django.db import connection; "
        "from commitments import events; from commitments.models import Flag, OutboxEvent; "
        "told = list(OutboxEvent.objects.filter(type='flag.raised')); "
        "flags = {f'flag:{f.pk}:raised': f for f in Flag.objects.select_related('commitment')}; "
        "same = [e.payload == events.flag_payload(flags[e.key], resolved=False) "
        "or (e.payload, events.flag_payload(flags[e.key], resolved=False)) for e in told]; "
        "print(json.dumps([connection.vendor, len(told), same, "
        "len({str(e.uuid) for e in told}), told[0].payload['headline']]))",
    )
    vendor, count, same, uuids, headline = json.loads(out.strip().splitlines()[-1])
    assert (vendor, count, uuids) == ("sqlite", 4, 4)
    assert same == [True] * 4
    assert headline == "Flag raised: no recent progress"


# --- A real worker: the flag job's events fanned out on Redis and PostgreSQL -------------

WORKER_BROKER = "redis://127.0.0.1:6379/14"  # this test's own Redis database, flushed


@pytest.fixture
def worker_broker():
    with empty_redis(WORKER_BROKER):
        yield WORKER_BROKER


@pytest.mark.django_db(transaction=True)
def test_the_flag_jobs_events_reach_their_followers_through_a_real_worker(
    worker_broker, tmp_path, make_commitment, make_topic
):
    import subprocess
    import sys

    from django.conf import settings

    from .workers import start_worker, stop_worker, wait_until, worker_environment

    topic = make_topic()
    followed = [make_commitment(made_on=D(2025, 1, 1)) for _ in range(3)]
    for commitment in followed:
        commitment.topics.add(topic)
    make_commitment(made_on=D(2025, 1, 1))  # flagged too, followed by nobody
    reader = Subscriber.objects.create(email="reader@example.org", key="k1")
    Subscription.objects.create(subscriber=reader, topic=topic, confirmed_at=timezone.now())

    env = worker_environment(broker=worker_broker, var_dir=tmp_path / "var", SITE_URL=SITE)
    # The job runs in its own process and commits: its events' fan-out is queued then.
    out = subprocess.run(
        [sys.executable, "manage.py", "refresh_flags", "--today", "2026-01-01"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "No recent progress: 4 raised" in out
    assert OutboxEvent.objects.filter(type=EventType.FLAG_RAISED).count() == 4
    assert not Alert.objects.exists()  # nothing is fanned out before a worker takes it

    worker = start_worker(env)
    try:
        wait_until(
            lambda: not OutboxEvent.objects.filter(fanned_out_at__isnull=True).exists(),
            what="the flag events' fan-out",
            worker=worker,
        )
    finally:
        log = stop_worker(worker)
    assert "commitments.tasks.fan_out_events" in log
    alerts = Alert.objects.filter(subscriber=reader)
    assert sorted(a.event.commitment_id for a in alerts) == sorted(c.pk for c in followed)
    assert Alert.objects.count() == 3
