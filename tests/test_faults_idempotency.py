"""A "Log status update" form posted twice (a retry, a double click) records one update: the
form carries a one-time token, stored with the update under a unique constraint."""

from __future__ import annotations

import datetime
import re
import threading
import uuid

import pytest
from django.contrib.messages import get_messages
from django.db import connections, transaction
from django.test import Client

from commitments import services
from commitments.models import Commitment, Source, StatusUpdate
from tests.concurrency import second_waits_for_first

ADD_URL = "/admin/commitments/statusupdate/add/"


def form(commitment, token, **overrides):
    data = {
        "commitment": commitment.pk,
        "status": "stalled",
        "effective_on": "2025-10-01",
        "effective_precision": "month",
        "description": "The prefecture says the doctrine is still being studied.",
        "new_source_url": "https://example.org/news/still-studied",
        "new_source_title": "Still studied",
        "new_source_outlet": "Example Daily",
        "new_source_published_precision": "day",
        "new_source_kind": "news_report",
        "form_token": str(token),
    }
    data.update(overrides)
    return data


def token_on_the_page(client, commitment) -> str:
    page = client.get(f"{ADD_URL}?commitment={commitment.pk}").content.decode()
    match = re.search(r'<input type="hidden" name="form_token" value="([0-9a-f-]{36})"', page)
    assert match, "the form carries no one-time token"
    return match.group(1)


@pytest.mark.django_db
def test_the_form_carries_a_new_token_each_time_it_is_shown(role_client, make_commitment):
    editor = role_client("Editor")
    commitment = make_commitment()
    first, second = token_on_the_page(editor, commitment), token_on_the_page(editor, commitment)
    assert first != second
    uuid.UUID(first)


@pytest.mark.django_db
def test_the_same_form_posted_twice_records_one_update(role_client, make_commitment):
    editor = role_client("Editor")
    commitment = make_commitment()
    token = token_on_the_page(editor, commitment)
    sources = Source.objects.count()

    first = editor.post(ADD_URL, form(commitment, token))
    second = editor.post(ADD_URL, form(commitment, token))

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert first["Location"] == f"/admin/commitments/commitment/{commitment.pk}/change/"
    assert StatusUpdate.objects.filter(commitment=commitment).count() == 1
    assert Source.objects.count() == sources + 1
    update = StatusUpdate.objects.get(commitment=commitment)
    assert update.idempotency_key == uuid.UUID(token)
    said = [str(m) for m in get_messages(second.wsgi_request)]
    assert any(m.startswith("Already recorded") for m in said), said

    # A new form (a new token) records a new update.
    third = editor.post(
        ADD_URL, form(commitment, token_on_the_page(editor, commitment), status="in_progress")
    )
    assert third.status_code == 302
    assert StatusUpdate.objects.filter(commitment=commitment).count() == 2


@pytest.mark.django_db
def test_a_form_shown_again_with_errors_keeps_its_token(role_client, make_commitment):
    editor = role_client("Editor")
    commitment = make_commitment()
    token = token_on_the_page(editor, commitment)
    refused = editor.post(ADD_URL, form(commitment, token, description=""))
    assert refused.status_code == 200
    assert f'name="form_token" value="{token}"' in refused.content.decode()
    assert editor.post(ADD_URL, form(commitment, token)).status_code == 302
    assert StatusUpdate.objects.filter(commitment=commitment).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_calls_at_once_with_one_token_record_once(make_commitment):
    """The second call finds nothing (the first has not committed), waits on the
    commitment's row lock, then meets the first's token: it records nothing, not even its
    new source, and answers with the first's update."""
    commitment = make_commitment(made_on=datetime.date(2025, 7, 10))
    token = uuid.uuid4()
    fields = {
        "commitment": commitment,
        "status": "stalled",
        "effective_on": datetime.date(2025, 10, 1),
        "description": "Stalled.",
        "new_sources": [
            {"url": "https://example.org/at-once", "title": "At once", "outlet": "Example"}
        ],
    }
    results: dict[str, tuple] = {}

    def first():
        results["first"] = services.status_update_create_once(idempotency_key=token, **fields)

    def second():
        with transaction.atomic():
            results["second"] = services.status_update_create_once(
                idempotency_key=token, **fields
            )

    second_waits_for_first(first, second)

    (first_update, first_new), (second_update, second_new) = results["first"], results["second"]
    assert (first_new, second_new) == (True, False)
    assert first_update.pk == second_update.pk
    assert StatusUpdate.objects.filter(commitment=commitment).count() == 1
    assert Source.objects.filter(url="https://example.org/at-once").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_posts_at_once_through_the_admin_record_once(role_client, make_commitment):
    editor = role_client("Editor")
    commitment = make_commitment()
    token = token_on_the_page(editor, commitment)
    start = threading.Barrier(2)
    answers: list[int] = []
    errors: list[BaseException] = []

    def post():
        try:
            client = Client()
            client.force_login(editor.user)
            start.wait(10)
            answers.append(client.post(ADD_URL, form(commitment, token)).status_code)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert answers == [302, 302]
    assert StatusUpdate.objects.filter(commitment=commitment).count() == 1
    assert Commitment.objects.get(pk=commitment.pk).status == "stalled"
