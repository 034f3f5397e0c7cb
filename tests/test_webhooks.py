"""Signed webhooks: endpoints refused or saved by the service, events posted to a local
receiver that verifies each signature with the ``standardwebhooks`` library, retries on
the schedule, timeouts, filters, the admin's pages and buttons. The worker and a killed
worker are in ``test_webhooks_worker.py``."""

from __future__ import annotations

import base64
import datetime
import shutil
import subprocess

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import WebhookVerificationError

from commitments import roles, services, tasks
from commitments.models import EventType, OutboxEvent, WebhookDelivery, WebhookEndpoint
from commitments.services import outbox, webhooks

from .webhooks import Receiver, contract_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def endpoint(url, **kwargs):
    return services.webhook_endpoint_create(url=url, **kwargs)


def record(commitment=None, *, type=EventType.STATUS_UPDATE, headline="Status changed", key=None,
           **subject):
    event, _created = outbox.event_record(
        type=type,
        key=key or f"test:{headline}:{timezone.now().timestamp()}",
        payload=contract_payload(headline=headline, commitment=commitment),
        commitment=commitment,
        **subject,
    )
    outbox.event_fan_out(event_id=event.pk)
    return event


def attempts_of(delivery):
    return list(delivery.attempt_log.order_by("attempted_at", "id"))


# --- Signing ---------------------------------------------------------------------------------


def test_a_delivery_is_signed_as_standard_webhooks_says_and_verifies(receiver, make_commitment):
    hook = endpoint(receiver.url())
    commitment = make_commitment()
    event = record(commitment, headline="Status changed to Stalled")

    report = services.webhooks_deliver_due()

    assert (report.attempted, report.delivered) == (1, 1)
    (got,) = receiver.requests
    message = got.verify(hook.secret)
    assert message["type"] == "status_update.created"
    assert message["data"]["id"] == event.webhook_id == got.webhook_id
    assert message["data"]["headline"] == "Status changed to Stalled"
    assert message["data"]["commitment"]["slug"] == commitment.slug
    assert message["timestamp"].endswith("Z")
    assert datetime.datetime.fromisoformat(message["timestamp"]) == event.occurred_at
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"].startswith("AccountabilityTracker-Webhooks/")
    assert got.headers["webhook-signature"].startswith("v1,")
    assert abs(int(got.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    delivery = WebhookDelivery.objects.get(event=event, endpoint=hook)
    assert delivery.state == "delivered" and delivery.attempts == 1
    (attempt,) = attempts_of(delivery)
    assert (attempt.status_code, attempt.error, attempt.response_excerpt) == (200, "", "thanks")


def test_a_tampered_body_or_another_secret_fails_verification(receiver, make_commitment):
    hook = endpoint(receiver.url())
    record(make_commitment(), headline="Flag raised: no recent progress")
    services.webhooks_deliver_due()
    (got,) = receiver.requests
    got.verify(hook.secret)  # the genuine message passes

    got.body = got.body.replace("Flag raised", "Flag cleared")
    with pytest.raises(WebhookVerificationError):
        got.verify(hook.secret)
    got.body = receiver.requests[0].body.replace("Flag cleared", "Flag raised")
    with pytest.raises(WebhookVerificationError):
        got.verify(webhooks.secret_new())


def test_the_secret_is_a_standard_webhooks_secret_and_rotating_it_changes_the_signature(
    receiver, make_commitment
):
    hook = endpoint(receiver.url())
    assert hook.secret.startswith("whsec_")
    assert len(base64.b64decode(hook.secret.removeprefix("whsec_"))) == 32
    old = hook.secret
    rotated = services.webhook_endpoint_rotate_secret(endpoint=hook)
    assert rotated.secret != old and WebhookEndpoint.objects.get().secret == rotated.secret

    record(make_commitment())
    services.webhooks_deliver_due()
    (got,) = receiver.requests
    got.verify(rotated.secret)
    with pytest.raises(WebhookVerificationError):
        got.verify(old)


# --- Retries, timeouts, redirects -----------------------------------------------------------


def test_an_endpoint_answering_500_then_200_gets_it_once_after_the_backoff(
    receiver, make_commitment
):
    hook = endpoint(receiver.url())
    event = record(make_commitment())
    receiver.answers = [500]

    first = services.webhooks_deliver_due()
    assert (first.attempted, first.retrying) == (1, 1)
    delivery = WebhookDelivery.objects.get(event=event, endpoint=hook)
    assert delivery.state == "pending" and delivery.last_error == "The endpoint answered HTTP 500."
    (failed,) = attempts_of(delivery)
    assert failed.status_code == 500
    wait = (delivery.next_attempt_at - failed.attempted_at).total_seconds()
    assert 5 <= wait < 6  # the schedule's first step

    # Not due yet: nothing is posted.
    assert services.webhooks_deliver_due().attempted == 0
    assert len(receiver.requests) == 1

    later = delivery.next_attempt_at + datetime.timedelta(milliseconds=10)
    second = services.webhooks_deliver_due(now=later)
    assert (second.attempted, second.delivered) == (1, 1)
    assert services.webhooks_deliver_due(now=later + datetime.timedelta(days=2)).attempted == 0

    delivery.refresh_from_db()
    assert delivery.state == "delivered" and delivery.attempts == 2 and delivery.last_error == ""
    log = attempts_of(delivery)
    assert [a.status_code for a in log] == [500, 200]
    assert (log[1].attempted_at - log[0].attempted_at).total_seconds() >= 5
    assert [r.status for r in receiver.requests] == [500, 200]
    assert {r.webhook_id for r in receiver.requests} == {event.webhook_id}
    receiver.requests[1].verify(hook.secret)


def test_retries_follow_the_schedule_then_give_up_and_retry_now_gives_one_more_try(
    receiver, make_commitment, settings
):
    settings.WEBHOOKS_RETRY_SCHEDULE_SECONDS = [5, 60]
    hook = endpoint(receiver.url())
    event = record(make_commitment())
    receiver.answers = [503, 503, 503, 503]
    now = timezone.now()
    for expected_wait in (5, 60):
        services.webhooks_deliver_due(now=now)
        delivery = WebhookDelivery.objects.get(event=event)
        assert delivery.state == "pending"
        assert round((delivery.next_attempt_at - now).total_seconds()) == expected_wait
        now = delivery.next_attempt_at
    report = services.webhooks_deliver_due(now=now)
    assert report.failed == 1
    delivery.refresh_from_db()
    assert delivery.state == "failed" and delivery.attempts == 3
    assert delivery.last_error == "The endpoint answered HTTP 503."
    later = now + datetime.timedelta(days=3)
    assert services.webhooks_deliver_due(now=later).attempted == 0  # given up stays given up

    assert services.webhook_deliveries_retry(deliveries=WebhookDelivery.objects.all()) == 1
    delivery.refresh_from_db()
    assert delivery.state == "pending"
    assert services.webhooks_deliver_due().failed == 1  # the fourth 503: given up again
    receiver.answers = []
    services.webhook_deliveries_retry(deliveries=WebhookDelivery.objects.all())
    assert services.webhooks_deliver_due().delivered == 1
    assert len(attempts_of(delivery)) == 5 and len(receiver.at("/hooks")) == 5
    # A delivered one is not made due again.
    assert services.webhook_deliveries_retry(deliveries=WebhookDelivery.objects.all()) == 0
    assert hook.deliveries.get().state == "delivered"


def test_a_timeout_is_recorded_and_retried(receiver, make_commitment, settings):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.5
    endpoint(receiver.url())
    event = record(make_commitment())
    receiver.pause, receiver.pause_count = 2.0, 1

    report = services.webhooks_deliver_due()

    assert (report.attempted, report.retrying) == (1, 1)
    delivery = WebhookDelivery.objects.get(event=event)
    (attempt,) = attempts_of(delivery)
    assert attempt.status_code is None
    assert attempt.error == "No answer within 0.5 seconds."
    assert 450 <= attempt.duration_ms < 2000
    assert delivery.state == "pending" and delivery.last_error == attempt.error


def test_redirects_are_not_followed(receiver, make_commitment):
    endpoint(receiver.url())
    event = record(make_commitment())
    receiver.answers = [302]
    services.webhooks_deliver_due()
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.state == "pending"
    assert "Redirects are not followed" in delivery.last_error
    assert [r.path for r in receiver.requests] == ["/hooks"]  # /elsewhere never asked


def test_a_switched_off_endpoint_is_not_posted_to(receiver, make_commitment):
    hook = endpoint(receiver.url())
    record(make_commitment())
    WebhookEndpoint.objects.filter(pk=hook.pk).update(is_active=False)
    assert services.webhooks_deliver_due().attempted == 0
    assert receiver.requests == []


# --- Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://127.0.0.1/hooks", "127.0.0.1, a loopback address"),
        ("https://10.20.30.40/hooks", "10.20.30.40, a private address"),
        ("https://169.254.169.254/latest", "169.254.169.254, a link-local address"),
        ("https://[::1]/hooks", "::1, a loopback address"),
        ("https://[::ffff:10.0.0.1]/hooks", "10.0.0.1, a private address"),
        ("https://100.64.1.2/hooks", "100.64.1.2, a shared or special-purpose address"),
        ("https://0.0.0.0/hooks", "0.0.0.0, an unspecified address"),
        ("https://224.0.0.5/hooks", "224.0.0.5, a multicast address"),
        ("https://localhost/hooks", "a loopback address"),  # resolved by the system
    ],
)
def test_addresses_that_are_not_public_are_refused(settings, url, message):
    settings.WEBHOOKS_ALLOWED_NETWORKS = []
    with pytest.raises(ValidationError) as refused:
        endpoint(url)
    (error,) = refused.value.message_dict["url"]
    assert message in error and "webhooks go only to public addresses" in error
    assert not WebhookEndpoint.objects.exists()


def test_a_host_name_resolving_to_a_private_address_is_refused(settings, monkeypatch):
    settings.WEBHOOKS_ALLOWED_NETWORKS = []
    # The system's resolver stands in for DNS answering 10.1.1.1 for this name.
    monkeypatch.setattr(webhooks, "resolve_host", lambda host, port: ["93.184.215.14", "10.1.1.1"])
    with pytest.raises(ValidationError) as refused:
        endpoint("https://hooks.newsroom.example/in")
    assert refused.value.message_dict == {
        "url": [
            "Refused: “hooks.newsroom.example” is not public: it resolves to 10.1.1.1, a "
            "private address; webhooks go only to public addresses."
        ]
    }
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        (
            {"url": "http://hooks.newsroom.example/in"},
            "url",
            "The address must start with https:// so that webhooks are encrypted.",
        ),
        ({"url": "ftp://hooks.newsroom.example/in"}, "url", "The address must start with https://."),
        (
            {"url": "https://user:secret@hooks.newsroom.example/in"},
            "url",
            "Remove the user name and password from the address: the receiver checks the "
            "signature instead.",
        ),
        ({"url": ""}, "url", "Enter the address that receives the webhooks."),
        (
            {"url": "https://hooks.invalid/in"},
            "url",
            "The host “hooks.invalid” could not be found",
        ),
        (
            {
                "url": "https://93.184.215.14/in",
                "event_types": ["status_update.created", "flag.rasied"],
            },
            "event_types",
            "Unknown event type “flag.rasied”. Known types: status_update.created, ",
        ),
        (
            {"url": "https://93.184.215.14/in", "event_types": ["webhook.test"]},
            "event_types",
            "Unknown event type “webhook.test”.",
        ),
    ],
)
def test_bad_endpoints_are_refused_with_the_field_and_a_sentence(settings, kwargs, field, message):
    settings.WEBHOOKS_ALLOW_HTTP = False
    with pytest.raises(ValidationError) as refused:
        endpoint(**kwargs)
    assert list(refused.value.message_dict) == [field]
    assert refused.value.message_dict[field][0].startswith(message)
    assert not WebhookEndpoint.objects.exists()


def test_http_and_loopback_pass_only_when_the_settings_allow(settings, receiver):
    settings.WEBHOOKS_ALLOW_HTTP, settings.WEBHOOKS_ALLOWED_NETWORKS = False, []
    with pytest.raises(ValidationError):
        endpoint(receiver.url())
    settings.WEBHOOKS_ALLOW_HTTP = True
    with pytest.raises(ValidationError) as refused:
        endpoint(receiver.url())
    assert "a loopback address" in refused.value.message_dict["url"][0]
    settings.WEBHOOKS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    assert endpoint(receiver.url()).url == receiver.url()


def test_an_endpoint_follows_at_most_one_subject(make_commitment, make_topic):
    commitment, topic = make_commitment(), make_topic()
    with pytest.raises(ValidationError) as refused:
        endpoint("https://93.184.215.14/in", commitment=commitment, topic=topic)
    assert list(refused.value.message_dict) == ["topic"]
    assert not WebhookEndpoint.objects.exists()


def test_an_edit_is_judged_like_a_new_endpoint_and_a_refused_edit_changes_nothing(receiver):
    hook = endpoint(receiver.url(), description="Newsroom desk")
    with pytest.raises(ValidationError) as refused:
        services.webhook_endpoint_save(
            endpoint=hook, url="https://10.0.0.9/in", description="Moved", event_types=["nope"]
        )
    assert set(refused.value.message_dict) == {"url", "event_types"}
    stored = WebhookEndpoint.objects.get()
    assert (stored.url, stored.description) == (receiver.url(), "Newsroom desk")
    saved = services.webhook_endpoint_save(
        endpoint=hook,
        url=receiver.url("/v2"),
        description="Moved",
        event_types=["flag.raised", "status_update.created", "flag.raised"],
    )
    assert saved.event_types == ["status_update.created", "flag.raised"]  # known order, once
    assert saved.secret == hook.secret


def test_the_address_is_checked_again_at_each_delivery_and_the_connection_pinned(
    receiver, make_commitment, monkeypatch
):
    """DNS rebinding: the name resolved to a public (here, allowed) address when it was
    registered and to a private one later. The post goes to the address checked just
    before connecting, with the name in the Host header; a private one gets nothing."""
    answers = {"hooks.newsroom.test": ["127.0.0.1"]}
    monkeypatch.setattr(webhooks, "resolve_host", lambda host, port: answers[host])
    hook = endpoint(f"http://hooks.newsroom.test:{receiver.port}/in")
    commitment = make_commitment()
    record(commitment, headline="First")
    services.webhooks_deliver_due()
    (got,) = receiver.requests
    assert got.headers["host"] == f"hooks.newsroom.test:{receiver.port}"
    got.verify(hook.secret)

    answers["hooks.newsroom.test"] = ["10.9.8.7"]
    event = record(commitment, headline="Second")
    report = services.webhooks_deliver_due()
    assert (report.attempted, report.delivered) == (1, 0)
    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.state == "pending"
    assert delivery.last_error.startswith("Not sent: Refused: “hooks.newsroom.test” is not public")
    assert attempts_of(delivery)[0].status_code is None


def test_https_to_the_pinned_address_checks_the_certificate_against_the_host_name(
    tmp_path, settings, monkeypatch, make_commitment
):
    """The connection goes to the checked address, and TLS still checks the certificate
    against the URL's host name (sent as SNI): a certificate for another name fails."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=hooks.newsroom.test",
            "-addext", "subjectAltName=DNS:hooks.newsroom.test",
        ],
        check=True, capture_output=True, timeout=60,
    )
    settings.WEBHOOKS_CA_BUNDLE = str(cert)
    monkeypatch.setattr(webhooks, "resolve_host", lambda host, port: ["127.0.0.1"])
    server = Receiver(tls=(str(cert), str(key)))
    try:
        right = endpoint(f"https://hooks.newsroom.test:{server.port}/in")
        record(make_commitment(), headline="Over TLS")
        assert services.webhooks_deliver_due().delivered == 1
        (got,) = server.requests
        assert got.headers["host"] == f"hooks.newsroom.test:{server.port}"
        assert got.verify(right.secret)["data"]["headline"] == "Over TLS"

        WebhookEndpoint.objects.all().delete()
        endpoint(f"https://wrong-name.newsroom.test:{server.port}/in")
        event = record(make_commitment(), headline="Wrong name")
        assert services.webhooks_deliver_due().delivered == 0
        assert len(server.requests) == 1
        error = WebhookDelivery.objects.get(event=event).last_error
        assert "certificate" in error.lower() and "wrong-name.newsroom.test" in error
    finally:
        server.close()


# --- What each endpoint receives ---------------------------------------------------------------


def test_each_endpoint_gets_the_types_and_the_subject_it_follows(
    receiver, make_commitment, make_actor, make_topic
):
    followed, other = make_commitment(), make_actor()
    of_other = make_commitment(actor=other)
    topic = make_topic()
    of_other.topics.add(topic)
    everything = endpoint(receiver.url("/everything"))
    flags_only = endpoint(receiver.url("/flags"), event_types=["flag.raised"])
    one_commitment = endpoint(receiver.url("/commitment"), commitment=followed)
    one_actor = endpoint(receiver.url("/actor"), actor=other)
    one_topic = endpoint(
        receiver.url("/topic"), topic=topic, event_types=["status_update.created"]
    )
    switched_off = endpoint(receiver.url("/off"), is_active=False)

    update = record(followed, headline="Update on the followed one")
    flag = record(of_other, type=EventType.FLAG_RAISED, headline="Flag on the other")
    services.webhooks_deliver_due()

    def ids(path):
        return sorted(r.message["data"]["headline"] for r in receiver.at(path))

    assert ids("/everything") == ["Flag on the other", "Update on the followed one"]
    assert ids("/flags") == ["Flag on the other"]
    assert ids("/commitment") == ["Update on the followed one"]
    assert ids("/actor") == ["Flag on the other"]
    assert ids("/topic") == []  # follows the topic, but only status updates
    assert ids("/off") == []
    assert not WebhookDelivery.objects.filter(endpoint__in=[one_topic, switched_off]).exists()
    assert WebhookDelivery.objects.filter(event=update).count() == 2
    assert WebhookDelivery.objects.filter(event=flag).count() == 3
    for path, hook in [
        ("/everything", everything), ("/flags", flags_only), ("/commitment", one_commitment),
        ("/actor", one_actor),
    ]:
        for got in receiver.at(path):
            got.verify(hook.secret)


def test_a_test_event_goes_to_its_endpoint_only(receiver):
    chosen = endpoint(receiver.url("/chosen"))
    endpoint(receiver.url("/other"))
    event = services.webhook_test_event_send(endpoint=chosen)
    assert event.type == "webhook.test" and event.endpoint == chosen
    again = services.webhook_test_event_send(endpoint=chosen)
    assert again.key != event.key  # each press is its own event
    for each in (event, again):
        outbox.event_fan_out(event_id=each.pk)
    services.webhooks_deliver_due()
    assert receiver.at("/other") == []
    messages = [r.verify(chosen.secret) for r in receiver.at("/chosen")]
    assert [m["type"] for m in messages] == ["webhook.test", "webhook.test"]
    assert {m["data"]["id"] for m in messages} == {event.webhook_id, again.webhook_id}
    data = messages[0]["data"]
    assert set(data) >= {"headline", "summary", "url", "occurred_on", "sources", "changes"}


def test_a_switched_off_endpoint_refuses_a_test_event(receiver):
    hook = endpoint(receiver.url(), is_active=False)
    with pytest.raises(ValidationError) as refused:
        services.webhook_test_event_send(endpoint=hook)
    assert list(refused.value.message_dict) == ["endpoint"]
    assert not OutboxEvent.objects.exists()


# --- The admin -------------------------------------------------------------------------------

ENDPOINTS = "/admin/commitments/webhookendpoint/"
DELIVERIES = "/admin/commitments/webhookdelivery/"


def endpoint_form(**values):
    data = {"url": "", "description": "", "commitment": "", "actor": "", "topic": "",
            "is_active": "on"}
    data.update(values)
    return data


def test_an_admin_registers_an_endpoint_and_refusals_show_beside_the_fields(
    role_client, receiver
):
    admin = role_client(roles.ADMIN)
    page = admin.get(f"{ENDPOINTS}add/")
    assert page.status_code == 200
    assert 'type="checkbox" name="event_types" value="flag.raised"' in page.content.decode()
    assert 'value="webhook.test"' not in page.content.decode()

    refused = admin.post(
        f"{ENDPOINTS}add/", endpoint_form(url="https://10.0.0.1/in", event_types=["flag.raised"])
    )
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert "10.0.0.1, a private address" in errors["url"][0]
    assert not WebhookEndpoint.objects.exists()

    saved = admin.post(
        f"{ENDPOINTS}add/",
        endpoint_form(url=receiver.url(), description="Desk", event_types=["flag.raised"]),
    )
    assert saved.status_code == 302
    hook = WebhookEndpoint.objects.get()
    assert hook.event_types == ["flag.raised"] and hook.created_by == admin.user
    assert hook.secret.startswith("whsec_")

    change = admin.get(f"{ENDPOINTS}{hook.pk}/change/")
    html = change.content.decode()
    assert change.status_code == 200 and hook.secret in html
    assert reverse("admin:commitments_webhookendpoint_send_test", args=[hook.pk]) in html
    assert 'name="secret"' not in html  # shown, never edited


def test_the_send_test_event_button_delivers_to_that_endpoint_only(
    role_client, receiver, django_capture_on_commit_callbacks
):
    admin = role_client(roles.ADMIN)
    chosen = endpoint(receiver.url("/chosen"))
    endpoint(receiver.url("/other"))
    button = reverse("admin:commitments_webhookendpoint_send_test", args=[chosen.pk])
    assert admin.get(button).status_code == 403  # a POST only
    with django_capture_on_commit_callbacks() as queued:
        answer = admin.post(button)
    assert answer.status_code == 302 and len(queued) == 1  # the fan-out, on commit
    (event,) = OutboxEvent.objects.all()
    outbox.event_fan_out(event_id=event.pk)  # what the queued task does
    services.webhooks_deliver_due()
    (got,) = receiver.requests
    assert got.path == "/chosen" and got.verify(chosen.secret)["type"] == "webhook.test"


def test_rotating_the_secret_in_the_admin(role_client, receiver):
    admin = role_client(roles.ADMIN)
    hook = endpoint(receiver.url())
    answer = admin.post(reverse("admin:commitments_webhookendpoint_rotate_secret", args=[hook.pk]))
    assert answer.status_code == 302
    assert WebhookEndpoint.objects.get().secret not in ("", hook.secret)


def test_the_delivery_log_is_for_admins_read_only_with_retry_now(
    role_client, receiver, make_commitment
):
    hook = endpoint(receiver.url())
    event = record(make_commitment(), headline="Logged <b>event</b>")
    receiver.answers = [500]
    services.webhooks_deliver_due()
    delivery = WebhookDelivery.objects.get()
    admin, editor = role_client(roles.ADMIN), role_client(roles.EDITOR)

    for url in (DELIVERIES, f"{DELIVERIES}{delivery.pk}/change/", ENDPOINTS):
        assert admin.get(url).status_code == 200, url
        assert editor.get(url).status_code == 403, url
    listing = admin.get(DELIVERIES, {"state": "pending", "endpoint__id__exact": hook.pk})
    html = listing.content.decode()
    assert "The endpoint answered HTTP 500." in html and "&lt;b&gt;event&lt;/b&gt;" in html
    assert admin.get(DELIVERIES, {"state": "delivered"}).context["cl"].result_count == 0
    detail = admin.get(f"{DELIVERIES}{delivery.pk}/change/").content.decode()
    assert "not now" in detail  # the attempt's answer, in the inline
    assert 'name="_save"' not in detail
    assert admin.get(f"{DELIVERIES}add/").status_code == 403
    assert admin.post(f"{DELIVERIES}{delivery.pk}/delete/", {"post": "yes"}).status_code == 403

    answer = admin.post(
        DELIVERIES, {"action": "retry_now", "_selected_action": [delivery.pk]}
    )
    assert answer.status_code == 302
    delivery.refresh_from_db()
    assert delivery.next_attempt_at <= timezone.now() and delivery.state == "pending"
    services.webhooks_deliver_due()
    assert WebhookDelivery.objects.get().state == "delivered"
    assert [r.webhook_id for r in receiver.requests] == [event.webhook_id] * 2


def test_the_sweep_is_on_the_beat_schedule_and_the_task_is_safe_to_run_late():
    from accountability.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["deliver-webhooks"]
    assert entry == {
        "task": "commitments.tasks.deliver_webhooks",
        "schedule": settings.WEBHOOKS_SWEEP_EVERY_SECONDS,
    }
    app.loader.import_default_modules()
    task = app.tasks["commitments.tasks.deliver_webhooks"]
    assert task.acks_late and task.soft_time_limit < task.time_limit < 3600
    # The run's budget plus one last batch of claims fits in its soft limit.
    longest_batch = 5 * webhooks.claim_seconds()
    assert tasks.WEBHOOKS_TASK_BUDGET_SECONDS + longest_batch < task.soft_time_limit
