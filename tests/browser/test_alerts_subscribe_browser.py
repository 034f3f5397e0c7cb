"""Following a seed commitment by email in headless Chromium: type an address on the
commitment's page, read the confirmation link from the email, open it, confirm, and land on
the page that manages the subscription.

The live server runs in this process, so Django's in-memory outbox (the test settings'
email backend) holds the mail the page caused; the confirmation task runs eagerly on
commit, as a worker would run it.
"""

from __future__ import annotations

import re
import uuid

import pytest
from celery import current_app
from django.core import mail

from commitments import tasks  # noqa: F401 - registers the tasks, so they run eagerly here
from commitments.models import Commitment, Subscriber, Subscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def own_cache_and_eager_tasks(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/11",
            "KEY_PREFIX": f"test-alerts-browser-{uuid.uuid4().hex}",
        }
    }
    saved = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = saved


def test_a_reader_subscribes_confirms_from_the_email_and_manages(page, seeded_site, artifacts):
    commitment = Commitment.objects.public().order_by("pk").first()
    address = f"reader-{uuid.uuid4().hex[:8]}@newsroom.test"
    page.goto(f"{seeded_site.url}{commitment.get_absolute_url()}")

    page.locator("#follow").screenshot(path=str(artifacts / "alerts-subscribe-form.png"))
    form = page.locator("form.follow__form")
    trap = page.locator("#follow-website")
    box = trap.bounding_box()
    assert box is None or box["x"] + box["width"] <= 0  # the honeypot is out of sight
    assert trap.get_attribute("tabindex") == "-1"

    page.fill("#follow-email", address)
    form.get_by_label("Daily digest").check()
    form.get_by_role("button", name="Follow").click()
    page.wait_for_selector("h1:has-text('Check your inbox')")
    assert address in page.locator("main").inner_text()
    assert Subscription.objects.get().confirmed_at is None

    [message] = mail.outbox
    assert message.to == [address]
    [link] = [url for url in re.findall(r"https?://\S+", message.body) if "/alerts/confirm/" in url]
    path = re.sub(r"^https?://[^/]+", "", link)

    page.goto(f"{seeded_site.url}{path}")
    assert commitment.title in page.locator("main").inner_text()
    assert Subscription.objects.get().confirmed_at is None  # opening the link confirms nothing
    page.get_by_role("button", name="Confirm").click()

    page.wait_for_url("**/alerts/manage/**")
    main = page.locator("main").inner_text()
    assert "Confirmed." in main and commitment.title in main and address in main
    assert page.get_by_label("Daily digest").is_checked()
    subscription = Subscription.objects.get()
    assert subscription.confirmed_at is not None
    assert (subscription.commitment_id, subscription.frequency) == (commitment.pk, "daily")
    assert Subscriber.objects.get().email == address
    page.screenshot(path=str(artifacts / "alerts-manage.png"), full_page=True)


def test_the_manage_page_stops_everything_with_one_button(page, seeded_site):
    commitment = Commitment.objects.public().order_by("pk").first()
    page.goto(f"{seeded_site.url}{commitment.get_absolute_url()}")
    page.fill("#follow-email", "leaving@newsroom.test")
    page.locator("form.follow__form").get_by_role("button", name="Follow").click()
    page.wait_for_selector("h1:has-text('Check your inbox')")
    [link] = [u for u in re.findall(r"https?://\S+", mail.outbox[0].body) if "/alerts/manage/" in u]

    page.goto(seeded_site.url + re.sub(r"^https?://[^/]+", "", link))
    page.get_by_role("button", name="Stop everything and forget my address").click()
    page.wait_for_selector("h1:has-text('Unsubscribed')")
    assert not Subscriber.objects.exists() and not Subscription.objects.exists()
