"""A newcomer reads what "Stalled" means, from the home page, in headless Chromium: the
badge is a link to its definition on the methodology page, which is scrolled into view."""

from __future__ import annotations

import datetime

import pytest

from commitments.services.flags import flags_refresh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_from_the_home_page_a_stalled_badge_leads_to_its_definition(page, seeded_site, artifacts):
    # The seed's steps date from 2025: the flag job finds them quiet for too long.
    flags_refresh(today=datetime.date(2026, 12, 1))
    page.goto(f"{seeded_site.url}/")
    badge = page.locator(".commitment-row a.badge--stalled").first
    badge.click()
    page.wait_for_url("**/methodology/#status-stalled")
    term = page.locator("#status-stalled")
    assert term.is_visible()
    definition = page.locator("#status-stalled + dd")
    assert "progress has stopped" in definition.inner_text()
    # The definition is on screen, not merely somewhere on the page.
    box = definition.bounding_box()
    assert box is not None and 0 <= box["y"] < page.viewport_size["height"]
    page.screenshot(path=str(artifacts / "methodology.png"), full_page=True)

    # The flag beside it leads to the rule, with its threshold.
    page.goto(f"{seeded_site.url}/")
    page.locator(".commitment-row .flag a").first.click()
    page.wait_for_url("**/methodology/#flag-no_recent_progress")
    assert "more than 90 days" in page.locator("#flag-no_recent_progress + dd").inner_text()
