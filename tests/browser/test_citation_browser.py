"""Copying a step's citation in headless Chromium: the "Copy citation" button of a
timeline event puts that event's citation (and no other) on the clipboard, on the page as
loaded and on events brought in by "Load earlier events"."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from commitments import citations
from commitments.dates import format_vague_date
from commitments.models import Commitment, StatusUpdate
from tests.browser.polling import wait_until as _wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clipboard_page(chromium):
    context = chromium.new_context(
        viewport={"width": 1200, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _clipboard(page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def _copy(page, anchor: str) -> str:
    """Click the event's button, wait for its status message, and read the clipboard."""
    page.evaluate("navigator.clipboard.writeText('nothing copied yet')")
    event = page.locator(f"#{anchor}")
    button = event.locator(".event__cite button.copy-button").first
    assert button.is_visible()
    button.click()
    status = event.locator(".event__cite .copy-status").first
    _wait_until(
        page, f"document.querySelector('#{anchor} .event__cite .copy-status').textContent !== ''"
    )
    assert status.inner_text() == "Copied."
    return _clipboard(page)


def test_copy_citation_copies_that_steps_citation(clipboard_page, seeded_site):
    page = clipboard_page
    commitment = Commitment.objects.public().filter(status_updates__isnull=False).distinct().first()
    updates = list(
        StatusUpdate.objects.public().filter(commitment=commitment, corrects__isnull=True)
    )
    assert updates
    page.goto(f"{seeded_site.url}{commitment.get_absolute_url()}")
    _wait_until(page, "window.htmx !== undefined")
    today = timezone.localdate()
    for update in updates:
        copied = _copy(page, f"update-{update.pk}")
        assert copied == citations.step_citation(commitment, update, today)
        assert copied.endswith(
            f"{commitment.get_absolute_url()}#update-{update.pk} "
            f"(accessed {format_vague_date(today, 'day')})"
        )
        assert commitment.title in copied

    # The whole commitment's citation: its own button copies its own textarea.
    page.evaluate("navigator.clipboard.writeText('nothing copied yet')")
    page.locator("button[data-copy='#cite-text']").click()
    _wait_until(page, "document.querySelector('.cite .copy-status').textContent !== ''")
    assert _clipboard(page) == page.input_value("#cite-text").strip()
    assert "last changed" in _clipboard(page)


def test_copy_buttons_work_on_events_loaded_by_htmx(
    clipboard_page, seeded_site, make_commitment, make_source, log_update
):
    page = clipboard_page
    commitment = make_commitment(title='A "quoted" <promise> & more')
    source = make_source()
    updates = [
        log_update(
            commitment,
            sources=[source],
            effective_on=datetime.date(2025, 8, 1) + datetime.timedelta(days=day),
            description=f"Step number {day + 1}.",
        )
        for day in range(23)
    ]
    page.goto(f"{seeded_site.url}{commitment.get_absolute_url()}")
    _wait_until(page, "window.htmx !== undefined")
    page.get_by_role("link", name="Load earlier events").click()
    _wait_until(page, "document.querySelectorAll('#timeline-events > li.event').length === 23")
    today = timezone.localdate()
    for update in (updates[0], updates[2], updates[-1]):  # two loaded by HTMX, one not
        copied = _copy(page, f"update-{update.pk}")
        assert copied == citations.step_citation(commitment, update, today)
        assert 'A "quoted" <promise> & more' in copied
        assert f"Step number {updates.index(update) + 1}." in copied
