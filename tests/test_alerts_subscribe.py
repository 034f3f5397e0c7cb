"""Following by email without an account (issue 12, items 1 and 5): the subscription
services by the database state they leave, the pages by status, content and headers, and
the confirmation email in Django's in-memory outbox, its link followed.

The abuse limits count in a real Redis (database 11, a key prefix per test); the
confirmation is queued on commit and runs eagerly in this process, so the mail lands in
the outbox.
"""

from __future__ import annotations

import datetime
import re
import time
import uuid

import pytest
from celery import current_app
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commitments import alert_links, services, tasks
from commitments.models import Alert, OutboxEvent, Subscriber, Subscription
from commitments.services.subscriptions import SubscriptionRequestResult as Result

pytestmark = pytest.mark.django_db

ADDRESS = "reader@newsroom.test"
SUBSCRIBE = "/alerts/subscribe/"


@pytest.fixture(autouse=True)
def real_cache(settings):
    """The hourly counters in this test's own corner of Redis database 11."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/11",
            "KEY_PREFIX": f"test-alerts-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture(autouse=True)
def eager_tasks():
    """Tasks queued on commit run here, at once (no broker): the mail reaches the outbox."""
    saved = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = saved


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what a request queues on commit, as a committed transaction would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def commitment(make_commitment):
    return make_commitment(title="Stop the boats")


def ask(on_commit, **kwargs):
    values = {"email": ADDRESS, "frequency": "each", "client_ip": "203.0.113.5"}
    values.update(kwargs)
    with on_commit():
        return services.subscription_request(**values)


def link_path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def links_in(message) -> list[str]:
    return re.findall(r"https?://\S+", message.body)


def token_of(url: str) -> str:
    return link_path(url).rstrip("/").rsplit("/", 1)[1]


# --- Requests --------------------------------------------------------------------------------


def test_a_request_writes_a_pending_subscription_and_sends_one_confirmation(on_commit, commitment):
    result = ask(on_commit, commitment=commitment)

    assert result.outcome == Result.SENT and result.saved
    subscriber = Subscriber.objects.get()
    subscription = Subscription.objects.get()
    assert (subscriber.email, subscription.commitment, subscription.frequency) == (
        ADDRESS, commitment, "each",
    )  # fmt: skip
    assert subscription.confirmed_at is None  # nothing is followed before confirmation
    assert subscriber.confirmation_sent_at is not None
    assert len(subscriber.key) >= 32
    [message] = mail.outbox
    assert message.to == [ADDRESS]
    assert "Stop the boats" in message.subject and "Stop the boats" in message.body
    assert alert_links.confirm_url(subscriber).rsplit("/", 2)[0] in message.body
    assert any("/alerts/confirm/" in url for url in links_in(message))
    assert any("/alerts/manage/" in url for url in links_in(message))
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "/alerts/confirm/" in html and "Stop the boats" in html


def test_a_double_submit_records_once_and_mails_once(on_commit, commitment):
    first = ask(on_commit, commitment=commitment)
    second = ask(on_commit, commitment=commitment)
    assert (first.outcome, second.outcome) == (Result.SENT, Result.ALREADY_SENT)
    assert Subscriber.objects.count() == 1 and Subscription.objects.count() == 1
    assert len(mail.outbox) == 1


def test_the_same_address_in_other_capitals_is_the_same_address(on_commit, commitment):
    ask(on_commit, commitment=commitment, email="Reader@NewsRoom.TEST")
    ask(on_commit, commitment=commitment, email="reader@newsroom.test")
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "Reader@newsroom.test"  # the domain is kept in lower case
    assert Subscription.objects.count() == 1


def test_a_repeat_request_with_another_frequency_updates_a_pending_one(on_commit, commitment):
    ask(on_commit, commitment=commitment, frequency="each")
    ask(on_commit, commitment=commitment, frequency="daily")
    assert Subscription.objects.get().frequency == "daily"
    assert Subscription.objects.count() == 1


def test_a_stranger_cannot_change_a_confirmed_subscription_from_the_form(on_commit, commitment):
    ask(on_commit, commitment=commitment, frequency="each")
    services.subscriptions_confirm(subscriber=Subscriber.objects.get())
    mail.outbox.clear()
    result = ask(on_commit, commitment=commitment, frequency="daily")
    assert result.outcome == Result.ALREADY_CONFIRMED
    assert Subscription.objects.get().frequency == "each"
    assert mail.outbox == []


def test_an_address_is_sent_one_unconfirmed_confirmation_a_day(
    on_commit, commitment, make_topic, make_commitment
):
    topic = make_topic(name="Returns")
    commitment.topics.add(topic)
    ask(on_commit, commitment=commitment)
    second = ask(on_commit, topic=topic)
    everything = ask(on_commit)

    assert (second.outcome, everything.outcome) == (Result.ALREADY_SENT, Result.ALREADY_SENT)
    assert Subscription.objects.count() == 3
    assert len(mail.outbox) == 1

    # A day later, a new request gets a new email, listing everything still pending.
    Subscriber.objects.update(
        confirmation_sent_at=F("confirmation_sent_at") - datetime.timedelta(hours=25)
    )
    other = make_commitment(title="Process claims faster")
    assert ask(on_commit, commitment=other).outcome == Result.SENT
    assert len(mail.outbox) == 2
    body = mail.outbox[1].body
    assert all(
        words in body for words in ("Stop the boats", "Returns", "every change", "Process claims")
    )


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("", "Enter your email address."),
        ("not-an-address", "Enter a complete email address"),
        ("two@@signs.test", "Enter a complete email address"),
        ("someone@[192.0.2.1]", "not an IP address"),
        ("someone@localhost", "is not a full domain"),
        ("someone@intranet", "Enter a complete email address"),
        ("someone@mail.invalid", "cannot receive mail"),
        ("someone@printer.local", "cannot receive mail"),
        ("someone@Example.COM", "“example.com” cannot receive mail"),
        ("someone@lists.example.org", "cannot receive mail"),
        ("someone@example.net", "cannot receive mail"),
        ("someone@site.example", "cannot receive mail"),
        ("x" * 250 + "@a.test", "too long"),
    ],
)
def test_an_address_that_cannot_receive_mail_is_refused_and_nothing_is_saved(
    on_commit, commitment, address, says
):
    with pytest.raises(ValidationError) as refused:
        ask(on_commit, commitment=commitment, email=address)
    assert list(refused.value.message_dict) == ["email"]
    assert says in refused.value.message_dict["email"][0]
    assert not Subscriber.objects.exists() and not Subscription.objects.exists()
    assert mail.outbox == []


def test_the_refused_domains_are_a_setting(on_commit, commitment, settings):
    settings.ALERTS_REFUSED_DOMAINS = ["newsroom.test"]
    with pytest.raises(ValidationError):
        ask(on_commit, commitment=commitment)
    settings.ALERTS_REFUSED_DOMAINS = []
    assert ask(on_commit, commitment=commitment, email="a@example.com").outcome == Result.SENT


def test_only_public_things_can_be_followed(on_commit, make_commitment, make_topic):
    draft = make_commitment(published=False)
    with pytest.raises(ValidationError) as refused:
        ask(on_commit, commitment=draft)
    assert refused.value.message_dict == {
        "subject": ["This commitment is not published, so it cannot be followed."]
    }
    with pytest.raises(ValidationError) as refused:
        ask(on_commit, topic=make_topic())  # no published commitment: not public
    assert list(refused.value.message_dict) == ["subject"]
    assert not Subscriber.objects.exists()


def test_the_frequency_is_each_or_daily(on_commit, commitment):
    with pytest.raises(ValidationError) as refused:
        ask(on_commit, commitment=commitment, frequency="hourly")
    assert refused.value.message_dict == {"frequency": ["Choose “each change” or “daily digest”."]}
    assert not Subscriber.objects.exists()


def test_the_honeypot_saves_nothing_sends_nothing_and_answers_as_if_it_worked(
    on_commit, commitment
):
    result = ask(on_commit, commitment=commitment, honeypot="http://spam.test")
    assert result.outcome == Result.SENT and not result.saved
    assert not Subscriber.objects.exists() and mail.outbox == []


# --- Abuse limits ----------------------------------------------------------------------------


def test_requests_for_one_address_are_limited_per_hour(on_commit, commitment, settings):
    settings.ALERTS_REQUESTS_PER_ADDRESS_PER_HOUR = 3
    for n in range(3):
        ask(on_commit, commitment=commitment, client_ip=f"203.0.113.{n}")
    with pytest.raises(services.SubscriptionThrottled, match="for this address"):
        ask(on_commit, commitment=commitment, client_ip="203.0.113.99")
    # Another address is not held back by this one's count.
    assert ask(on_commit, commitment=commitment, email="other@newsroom.test").saved


def test_requests_from_one_client_are_limited_per_hour(on_commit, commitment, settings):
    settings.ALERTS_REQUESTS_PER_CLIENT_PER_HOUR = 3
    for n in range(3):
        ask(on_commit, commitment=commitment, email=f"reader{n}@newsroom.test")
    with pytest.raises(services.SubscriptionThrottled, match="from your connection"):
        ask(on_commit, commitment=commitment, email="reader9@newsroom.test")
    assert not Subscriber.objects.filter(email="reader9@newsroom.test").exists()
    assert ask(on_commit, commitment=commitment, email="r@newsroom.test", client_ip="198.51.100.1")


def test_the_limit_is_per_clock_hour(on_commit, commitment, settings):
    settings.ALERTS_REQUESTS_PER_ADDRESS_PER_HOUR = 1
    now = timezone.now()
    ask(on_commit, commitment=commitment, now=now)
    with pytest.raises(services.SubscriptionThrottled):
        ask(on_commit, commitment=commitment, now=now)
    assert ask(on_commit, commitment=commitment, now=now + datetime.timedelta(hours=1))


# --- SMTP down: the request stands, the email follows -------------------------------------------


def test_smtp_down_loses_no_request_and_the_sweep_sends_it_once_smtp_is_back(
    on_commit, commitment, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    result = ask(on_commit, commitment=commitment)  # the task fails; the request does not

    assert result.outcome == Result.SENT
    subscriber = Subscriber.objects.get()
    assert subscriber.confirmation_sent_at is None and Subscription.objects.count() == 1
    assert services.confirmations_pending() == [subscriber.pk]
    assert tasks.send_pending_confirmations() == "0 sent"  # SMTP still down: paused
    assert Subscriber.objects.get().confirmation_sent_at is None

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tasks.send_pending_confirmations() == "1 sent"
    assert tasks.send_pending_confirmations() == "0 sent"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [ADDRESS]
    assert services.confirmations_pending() == []


def test_the_sweep_leaves_alone_an_address_mailed_already(on_commit, commitment):
    ask(on_commit, commitment=commitment)
    earlier = datetime.timedelta(hours=30)
    Subscription.objects.update(created_at=F("created_at") - earlier)
    Subscriber.objects.update(confirmation_sent_at=F("confirmation_sent_at") - earlier)
    assert services.confirmations_pending() == []  # nothing asked since that email
    Subscription.objects.update(created_at=timezone.now())  # a request since, then lost
    assert services.confirmations_pending() == [Subscriber.objects.get().pk]


# --- Confirming, changing, deleting, purging ------------------------------------------------------


def test_confirming_confirms_the_pending_subscriptions_once(on_commit, commitment, make_topic):
    ask(on_commit, commitment=commitment)
    subscriber = Subscriber.objects.get()
    assert services.subscriptions_confirm(subscriber=subscriber) == 1
    assert Subscription.objects.get().confirmed_at is not None
    assert services.subscriptions_confirm(subscriber=subscriber) == 0


def test_set_frequency_refuses_anything_but_each_or_daily(on_commit, commitment):
    ask(on_commit, commitment=commitment)
    subscription = Subscription.objects.get()
    services.subscription_set_frequency(subscription=subscription, frequency="daily")
    assert Subscription.objects.get().frequency == "daily"
    with pytest.raises(ValidationError):
        services.subscription_set_frequency(subscription=subscription, frequency="weekly")
    assert Subscription.objects.get().frequency == "daily"


def test_deleting_the_last_subscription_deletes_the_address(on_commit, commitment):
    ask(on_commit, commitment=commitment)
    ask(on_commit)
    first, second = Subscription.objects.order_by("pk")
    assert services.subscription_delete(subscription=first) is False
    assert Subscriber.objects.exists()
    assert services.subscription_delete(subscription=second) is True
    assert not Subscriber.objects.exists() and not Subscription.objects.exists()


def test_deleting_an_address_deletes_what_it_follows_and_its_unsent_alerts(on_commit, commitment):
    ask(on_commit, commitment=commitment)
    subscriber = Subscriber.objects.get()
    event = OutboxEvent.objects.create(
        uuid=uuid.uuid4(), type="status_update.created", key="t:1", payload={}
    )
    Alert.objects.create(event=event, subscriber=subscriber)
    services.subscriber_delete(subscriber=subscriber)
    assert not Subscriber.objects.exists()
    assert not Subscription.objects.exists() and not Alert.objects.exists()


def test_the_purge_deletes_unconfirmed_subscriptions_past_the_link_life_in_one_go(
    on_commit, make_commitment, settings
):
    settings.ALERTS_CONFIRM_MAX_AGE_HOURS = 72
    now = timezone.now()
    old, fresh, kept = make_commitment(), make_commitment(), make_commitment()
    ask(on_commit, commitment=old, email="stale@newsroom.test")
    ask(on_commit, commitment=old, email="mixed@newsroom.test")
    ask(on_commit, commitment=fresh, email="mixed@newsroom.test")
    ask(on_commit, commitment=kept, email="loyal@newsroom.test")
    services.subscriptions_confirm(subscriber=Subscriber.objects.get(email="loyal@newsroom.test"))
    Subscription.objects.exclude(commitment=fresh).update(
        created_at=now - datetime.timedelta(hours=73)
    )

    with CaptureQueriesContext(connection) as queries:
        assert services.subscriptions_purge_unconfirmed(now=now) == (2, 1)
    statements = [q["sql"].split()[0] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert statements == ["DELETE", "DELETE"]  # one set-based statement each
    assert set(Subscriber.objects.values_list("email", flat=True)) == {
        "mixed@newsroom.test", "loyal@newsroom.test",
    }  # fmt: skip
    assert set(Subscription.objects.values_list("commitment", flat=True)) == {fresh.pk, kept.pk}
    assert services.subscriptions_purge_unconfirmed(now=now) == (0, 0)


def test_the_purge_runs_daily_from_the_one_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["alerts-purge-unconfirmed"]
    assert entry["task"] == "commitments.tasks.purge_unconfirmed_subscriptions"
    assert entry["task"] in current_app.tasks and entry["schedule"] == 24 * 60 * 60
    sweep = settings.CELERY_BEAT_SCHEDULE["alerts-confirmations"]["task"]
    assert sweep in current_app.tasks
    assert tasks.purge_unconfirmed_subscriptions() == "0 subscriptions, 0 addresses deleted"


# --- The subscribe form -----------------------------------------------------------------------


def private_headers(response):
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Robots-Tag"].startswith("noindex")
    assert "ETag" not in response


def post_form(client, on_commit, **data):
    values = {"email": ADDRESS, "frequency": "each", "subject": "", "website": ""}
    values.update(data)
    with on_commit():
        return client.post(SUBSCRIBE, values, REMOTE_ADDR="203.0.113.7")


def test_subscribing_from_the_form_answers_check_your_inbox(client, on_commit, commitment):
    response = post_form(
        client, on_commit, subject=f"commitment:{commitment.slug}", frequency="daily"
    )
    assert response.status_code == 200
    assert b"Check your inbox" in response.content and ADDRESS.encode() in response.content
    private_headers(response)
    assert Subscription.objects.get().frequency == "daily"
    assert len(mail.outbox) == 1


def test_the_subscribe_address_answers_post_only(client):
    assert client.get(SUBSCRIBE).status_code == 405


def test_the_form_needs_no_csrf_token(on_commit, commitment):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = post_form(client, on_commit, subject=f"commitment:{commitment.slug}")
    assert response.status_code == 200 and Subscription.objects.count() == 1


def test_a_bad_address_reshows_the_form_with_the_message_escaped(client, on_commit, commitment):
    response = post_form(
        client, on_commit, subject=f"commitment:{commitment.slug}", email="<b>me</b>@example.com"
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Enter a complete email address" in text
    assert "&lt;b&gt;me&lt;/b&gt;@example.com" in text and "<b>me</b>" not in text
    assert 'aria-invalid="true"' in text and f'value="commitment:{commitment.slug}"' in text
    private_headers(response)
    assert not Subscriber.objects.exists()


def test_a_reshown_form_keeps_what_it_follows_and_its_feeds(
    client, on_commit, make_actor, make_commitment
):
    actor = make_actor(name="Home Office")
    make_commitment(actor=actor)  # an actor is public through a published commitment
    response = post_form(client, on_commit, subject=f"actor:{actor.slug}", email="nope")
    assert response.status_code == 400
    text = response.content.decode()
    assert "<strong>Home Office</strong>" in text
    assert f'href="/feeds/actors/{actor.slug}/"' in text
    assert f'href="/feeds/actors/{actor.slug}/json/"' in text


def test_a_subject_that_is_not_public_is_refused(client, on_commit, make_commitment):
    draft = make_commitment(published=False)
    for subject in (f"commitment:{draft.slug}", "commitment:no-such", "planet:earth"):
        response = post_form(client, on_commit, subject=subject)
        assert response.status_code == 400
        assert b"no longer published" in response.content
    assert not Subscriber.objects.exists()


def test_the_honeypot_answers_like_a_success(client, on_commit, commitment):
    response = post_form(client, on_commit, website="http://spam.test")
    assert response.status_code == 200 and b"Check your inbox" in response.content
    assert not Subscriber.objects.exists() and mail.outbox == []


def test_too_many_requests_for_an_address_get_429_with_a_sentence(
    client, on_commit, commitment, settings
):
    settings.ALERTS_REQUESTS_PER_ADDRESS_PER_HOUR = 2
    for _ in range(2):
        assert post_form(client, on_commit).status_code == 200
    response = post_form(client, on_commit)
    assert response.status_code == 429
    assert b"Too many subscription requests for this address this hour" in response.content
    private_headers(response)


def test_too_many_requests_from_a_client_get_429(client, on_commit, commitment, settings):
    settings.ALERTS_REQUESTS_PER_CLIENT_PER_HOUR = 2
    for n in range(2):
        assert post_form(client, on_commit, email=f"r{n}@newsroom.test").status_code == 200
    response = post_form(client, on_commit, email="r3@newsroom.test")
    assert response.status_code == 429
    assert b"from your connection" in response.content
    assert not Subscriber.objects.filter(email="r3@newsroom.test").exists()


@pytest.mark.parametrize("page", ["home", "commitment", "actor", "topic"])
def test_the_form_is_on_the_public_pages_with_a_hidden_honeypot_and_the_feeds(
    client, make_commitment, make_actor, make_topic, page
):
    actor, topic = make_actor(), make_topic()
    commitment = make_commitment(actor=actor)
    commitment.topics.add(topic)
    url, subject, feed = {
        "home": ("/", "", "/feeds/changes/"),
        "commitment": (
            commitment.get_absolute_url(), f"commitment:{commitment.slug}",
            f"/feeds/commitments/{commitment.slug}/",
        ),
        "actor": (actor.get_absolute_url(), f"actor:{actor.slug}", f"/feeds/actors/{actor.slug}/"),
        "topic": (topic.get_absolute_url(), f"topic:{topic.slug}", f"/feeds/topics/{topic.slug}/"),
    }[page]  # fmt: skip
    response = client.get(url)
    assert response.status_code == 200
    text = response.content.decode()
    assert f'action="{SUBSCRIBE}"' in text
    assert f'name="subject" value="{subject}"' in text
    assert re.search(r'class="follow__trap" aria-hidden="true"', text)
    assert re.search(r'name="website" tabindex="-1" autocomplete="off"', text)
    assert "csrfmiddlewaretoken" not in text  # nothing per reader in a cached page
    assert "Feeds are the no-email way to follow" in text
    assert f'href="{feed}"' in text and f'href="{feed}json/"' in text
    assert not response.cookies  # the page stays cacheable
    assert client.get(url)["X-Cache"] == "hit"


def test_subscribing_leaves_the_public_pages_cached(client, on_commit, commitment):
    """Addresses are not public: writing them bumps no public version, so a page cached
    before a subscription is still served from the cache after it."""
    url = commitment.get_absolute_url()
    assert client.get(url)["X-Cache"] == "miss"
    assert post_form(client, on_commit, subject=f"commitment:{commitment.slug}").status_code == 200
    services.subscriptions_confirm(subscriber=Subscriber.objects.get())
    assert client.get(url)["X-Cache"] == "hit"


def test_a_draft_preview_has_no_subscribe_form(editor_client, make_commitment):
    draft = make_commitment(published=False)
    response = editor_client.get(draft.get_absolute_url())
    assert response.status_code == 200 and SUBSCRIBE.encode() not in response.content


# --- Confirm ---------------------------------------------------------------------------------


def confirm_link(on_commit, commitment) -> str:
    ask(on_commit, commitment=commitment)
    [url] = [u for u in links_in(mail.outbox[-1]) if "/alerts/confirm/" in u]
    return link_path(url)


def test_the_link_in_the_email_confirms_after_pressing_confirm(client, on_commit, commitment):
    path = confirm_link(on_commit, commitment)

    shown = client.get(path)  # what a mail scanner does: nothing changes
    assert shown.status_code == 200
    assert b"Stop the boats" in shown.content and b">Confirm</button>" in shown.content
    private_headers(shown)
    assert Subscription.objects.get().confirmed_at is None

    confirmed = client.post(path)
    assert confirmed.status_code == 303
    assert confirmed["Location"].startswith("/alerts/manage/")
    assert Subscription.objects.get().confirmed_at is not None
    manage = client.get(confirmed["Location"])
    assert manage.status_code == 200
    assert b"Confirmed." in manage.content and b"Stop the boats" in manage.content


def test_a_tampered_confirmation_link_is_refused_and_changes_nothing(client, on_commit, commitment):
    path = confirm_link(on_commit, commitment)
    token = token_of(path)
    tampered = path.replace(token, token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb"))
    for method in (client.get, client.post):
        response = method(tampered)
        assert response.status_code == 400
        assert b"This link is damaged or was changed" in response.content
        private_headers(response)
    assert client.get("/alerts/confirm/not-a-token/").status_code == 400
    assert Subscription.objects.get().confirmed_at is None


def test_an_expired_confirmation_link_is_refused_and_changes_nothing(
    client, on_commit, commitment, settings
):
    path = confirm_link(on_commit, commitment)
    settings.ALERTS_CONFIRM_MAX_AGE_HOURS = 1 / 3600  # one second
    time.sleep(2.1)
    response = client.post(path)
    assert response.status_code == 400
    assert b"This confirmation link has expired" in response.content
    assert Subscription.objects.get().confirmed_at is None


def test_a_manage_token_does_not_confirm(client, on_commit, commitment):
    ask(on_commit, commitment=commitment)
    manage_token = alert_links.make_token(alert_links.MANAGE, Subscriber.objects.get())
    assert client.post(f"/alerts/confirm/{manage_token}/").status_code == 400
    assert Subscription.objects.get().confirmed_at is None


def test_a_confirmation_link_of_a_deleted_address_says_so(client, on_commit, commitment):
    path = confirm_link(on_commit, commitment)
    Subscriber.objects.all().delete()
    response = client.get(path)
    assert response.status_code == 400 and b"no longer follows anything" in response.content


# --- Manage ----------------------------------------------------------------------------------


@pytest.fixture
def confirmed(on_commit, commitment):
    ask(on_commit, commitment=commitment)
    ask(on_commit)
    subscriber = Subscriber.objects.get()
    services.subscriptions_confirm(subscriber=subscriber)
    return subscriber


def manage_path(subscriber) -> str:
    return link_path(alert_links.manage_url(subscriber))


def test_the_manage_page_lists_and_changes_how_often(client, confirmed):
    path = manage_path(confirmed)
    page = client.get(path)
    assert page.status_code == 200
    assert b"Stop the boats" in page.content and b"every change on the tracker" in page.content
    private_headers(page)
    subscription = confirmed.subscriptions.get(commitment__isnull=False)

    response = client.post(
        path, {"action": "frequency", "subscription": subscription.pk, "frequency": "daily"}
    )
    assert response.status_code == 303
    assert Subscription.objects.get(pk=subscription.pk).frequency == "daily"
    refused = client.post(
        path, {"action": "frequency", "subscription": subscription.pk, "frequency": "yearly"}
    )
    assert refused.status_code == 400 and "Choose “each change”".encode() in refused.content
    assert Subscription.objects.get(pk=subscription.pk).frequency == "daily"


def test_the_manage_page_removes_one_then_all(client, confirmed):
    path = manage_path(confirmed)
    one = confirmed.subscriptions.get(commitment__isnull=False)
    assert client.post(path, {"action": "remove", "subscription": one.pk}).status_code == 303
    assert list(confirmed.subscriptions.all()) == [Subscription.objects.get()]
    response = client.post(path, {"action": "remove_all"})
    assert response.status_code == 200 and b"we deleted your address" in response.content
    assert not Subscriber.objects.exists()
    assert b"Already unsubscribed" in client.get(path).content


def test_the_manage_page_touches_only_its_own_address(client, confirmed, on_commit, commitment):
    ask(on_commit, commitment=commitment, email="other@newsroom.test")
    theirs = Subscription.objects.get(subscriber__email="other@newsroom.test")
    client.post(manage_path(confirmed), {"action": "remove", "subscription": theirs.pk})
    assert Subscription.objects.filter(pk=theirs.pk).exists()


# --- Unsubscribe -------------------------------------------------------------------------------


def test_one_click_unsubscribe_rfc_8058(client, confirmed):
    path = link_path(alert_links.unsubscribe_url(confirmed))
    response = client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    private_headers(response)
    assert not Subscriber.objects.exists() and not Subscription.objects.exists()
    again = client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert again.status_code == 200 and b"Already unsubscribed" in again.content


def test_unsubscribe_by_get_shows_a_button_and_changes_nothing(client, confirmed):
    page = client.get(link_path(alert_links.unsubscribe_url(confirmed)))
    assert page.status_code == 200 and b">Unsubscribe</button>" in page.content
    assert b'name="List-Unsubscribe" value="One-Click"' in page.content
    private_headers(page)
    assert Subscription.objects.count() == 2


def test_a_link_for_one_subscription_stops_only_that_one(client, confirmed):
    one = confirmed.subscriptions.get(commitment__isnull=False)
    path = link_path(alert_links.unsubscribe_url(confirmed, one))
    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert (
        response.status_code == 200 and b"You no longer follow Stop the boats" in response.content
    )
    assert list(Subscription.objects.values_list("commitment", flat=True)) == [None]
    assert b"Already unsubscribed" in client.get(path).content


def test_a_tampered_unsubscribe_link_is_refused(client, confirmed):
    path = link_path(alert_links.unsubscribe_url(confirmed))
    response = client.post(
        path[:-4] + "xyz/",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400 and b"damaged" in response.content
    assert Subscription.objects.count() == 2


def test_an_old_key_makes_every_link_dead(client, confirmed):
    """A link carries the address's key: a new key (the address deleted and made again)
    turns every older link into "already unsubscribed"."""
    path = link_path(alert_links.unsubscribe_url(confirmed))
    Subscriber.objects.update(key="another-key")
    assert b"Already unsubscribed" in client.post(path).content
    assert Subscription.objects.count() == 2


# --- The admin -------------------------------------------------------------------------------


def test_the_admin_role_sees_and_deletes_subscribers_but_never_adds_or_edits(
    role_client, confirmed
):
    admin = role_client("Admin")
    base = "/admin/commitments/subscriber/"
    listing = admin.get(base)
    assert listing.status_code == 200 and ADDRESS.encode() in listing.content
    assert admin.get(f"{base}add/").status_code == 403
    change = admin.get(f"{base}{confirmed.pk}/change/")
    assert change.status_code == 200 and b'name="email"' not in change.content
    assert admin.get("/admin/commitments/subscription/").status_code == 200
    response = admin.post(f"{base}{confirmed.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Subscriber.objects.exists() and not Subscription.objects.exists()


def test_an_admin_deletes_an_address_with_alerts_waiting(role_client, confirmed):
    event = OutboxEvent.objects.create(
        uuid=uuid.uuid4(), type="status_update.created", key="t:2", payload={}
    )
    Alert.objects.create(event=event, subscriber=confirmed)
    admin = role_client("Admin")
    url = f"/admin/commitments/subscriber/{confirmed.pk}/delete/"
    assert admin.post(url, {"post": "yes"}).status_code == 302
    assert not Subscriber.objects.exists() and not Alert.objects.exists()


def test_deleting_a_last_subscription_in_the_admin_deletes_the_address(
    role_client, on_commit, commitment
):
    ask(on_commit, commitment=commitment)
    subscription = Subscription.objects.get()
    admin = role_client("Admin")
    response = admin.post(
        f"/admin/commitments/subscription/{subscription.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize("role", ["Editor", "Publisher"])
def test_editors_and_publishers_do_not_see_readers_addresses(role_client, confirmed, role):
    assert role_client(role).get("/admin/commitments/subscriber/").status_code == 403


# --- At the same moment ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_for_a_new_address_record_once_and_mail_once(make_commitment):
    from tests.concurrency import second_waits_for_first

    commitment = make_commitment()

    def request():
        services.subscription_request(
            email=ADDRESS, commitment=commitment, frequency="each", client_ip="203.0.113.5"
        )

    second_waits_for_first(request, request)
    assert Subscriber.objects.count() == 1 and Subscription.objects.count() == 1
    assert len(mail.outbox) == 1
