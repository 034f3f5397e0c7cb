"""The public pages in headless Chromium: HTMX filtering, Back, "Load earlier events",
the no-JavaScript fallback, and screenshots saved to test-artifacts/."""

from __future__ import annotations

import datetime

import pytest

from commitments.models import Commitment
from tests.browser.polling import wait_until as _wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#results .commitment-row"


def _mark_document(page):
    """A flag on ``window`` that a full page load would wipe."""
    page.evaluate("window.__sameDocument = true")


def _same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def test_filtering_updates_results_and_address_bar_and_back_restores(page, seeded_site):
    page.goto(f"{seeded_site.url}/commitments/")
    _wait_until(page, "window.htmx !== undefined")
    assert page.locator(ROWS).count() == 4
    _mark_document(page)

    page.select_option("#id_status", "stalled")
    page.wait_for_url("**/commitments/?status=stalled&sort=changed")
    _wait_until(page, f"document.querySelectorAll('{ROWS}').length === 2")
    assert "one in, one out" not in page.locator("#results").inner_text()

    page.select_option("#id_status", "in_progress")
    page.wait_for_url("**/commitments/?status=in_progress&sort=changed")
    _wait_until(page, f"document.querySelectorAll('{ROWS}').length === 1")
    assert "one in, one out" in page.locator("#results").inner_text()
    assert _same_document(page), "filtering reloaded the page instead of swapping results"

    page.go_back()
    page.wait_for_url("**/commitments/?status=stalled&sort=changed")
    _wait_until(page, f"document.querySelectorAll('{ROWS}').length === 2")
    assert page.input_value("#id_status") == "stalled"

    page.go_back()
    page.wait_for_url("**/commitments/")
    _wait_until(page, f"document.querySelectorAll('{ROWS}').length === 4")


def test_search_box_updates_results_as_you_type(page, seeded_site):
    page.goto(f"{seeded_site.url}/commitments/")
    _wait_until(page, "window.htmx !== undefined")
    page.fill("#id_q", "returned")
    page.wait_for_url("**/commitments/?q=returned&sort=changed")
    _wait_until(page, f"document.querySelectorAll('{ROWS}').length === 1")
    assert "one in, one out" in page.locator("#results").inner_text()


def test_filter_form_works_without_javascript(page_without_js, seeded_site):
    page = page_without_js
    page.goto(f"{seeded_site.url}/commitments/")
    page.select_option("#id_status", "stalled")
    page.click("button[type=submit]")
    page.wait_for_url("**/commitments/?**status=stalled**")
    assert page.locator(ROWS).count() == 2


def test_load_earlier_events_appends_events(
    page, seeded_site, make_commitment, make_source, log_update
):
    commitment = make_commitment(title="A promise with a long history")
    source = make_source()
    for day in range(30):
        log_update(
            commitment,
            sources=[source],
            effective_on=datetime.date(2025, 8, 1) + datetime.timedelta(days=day),
            description=f"Step number {day + 1}.",
        )
    page.goto(f"{seeded_site.url}{commitment.get_absolute_url()}")
    _wait_until(page, "window.htmx !== undefined")
    events = page.locator("#timeline-events > li.event")
    assert events.count() == 20
    assert "Step number 30." in events.first.inner_text()
    _mark_document(page)

    page.get_by_role("link", name="Load earlier events").click()
    _wait_until(page, "document.querySelectorAll('#timeline-events > li.event').length === 30")
    assert "Step number 1." in events.last.inner_text()
    assert page.get_by_role("link", name="Load earlier events").count() == 0
    assert _same_document(page)


def test_load_earlier_events_link_works_without_javascript(
    page_without_js, seeded_site, make_commitment, make_source, log_update
):
    commitment = make_commitment()
    source = make_source()
    for day in range(25):
        log_update(
            commitment,
            sources=[source],
            effective_on=datetime.date(2025, 8, 1) + datetime.timedelta(days=day),
        )
    page = page_without_js
    page.goto(f"{seeded_site.url}{commitment.get_absolute_url()}")
    assert page.locator("#timeline-events > li.event").count() == 20
    page.get_by_role("link", name="Load earlier events").click()
    page.wait_for_url("**?page=2#timeline")
    assert page.locator("#timeline-events > li.event").count() == 25


def test_screenshots_of_the_list_and_a_commitment(page, seeded_site, artifacts):
    page.goto(f"{seeded_site.url}/")
    page.screenshot(path=artifacts / "overview.png", full_page=True)
    page.goto(f"{seeded_site.url}/commitments/")
    page.screenshot(path=artifacts / "list.png", full_page=True)
    commitment = Commitment.objects.get(slug="intercept-taxi-boats")
    page.goto(f"{seeded_site.url}{commitment.get_absolute_url()}")
    assert page.locator("#timeline-events > li.event").count() > 0
    page.screenshot(path=artifacts / "commitment.png", full_page=True)
    page.locator("#timeline").screenshot(path=artifacts / "commitment-timeline.png")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=artifacts / "commitment-phone.png", full_page=True)
    page.emulate_media(media="print")
    page.screenshot(path=artifacts / "commitment-print.png", full_page=True)
    for name in ("list.png", "commitment.png", "commitment-phone.png", "commitment-print.png"):
        assert (artifacts / name).stat().st_size > 10_000
