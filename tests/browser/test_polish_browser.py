"""Small things people notice, in headless Chromium: the API's docs load with no other
host reachable, the list's filters fold away on a phone, the admin's lists fit 1280 px."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_with_no_host_but_the_site(page, seeded_site):
    site = urlsplit(seeded_site.url).netloc
    refused: list[str] = []

    def only_the_site(route):
        if urlsplit(route.request.url).netloc == site:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_site)
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    page.goto(f"{seeded_site.url}/api/docs")
    page.locator(".opblock").first.wait_for(state="visible")
    assert page.locator(".opblock").count() >= 10
    assert "/api/commitments" in page.locator("#swagger-ui").inner_text()
    assert refused == []
    assert not [text for text in violations if "Content Security Policy" in text]


def _in_first_screen(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    viewport = page.viewport_size
    return box is not None and box["y"] < viewport["height"] and box["y"] + box["height"] > 0


def test_on_a_phone_the_filters_fold_behind_a_button(page, seeded_site):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{seeded_site.url}/commitments/")
    page.wait_for_load_state("load")
    assert _in_first_screen(page, "#results .commitment-row")
    assert not page.locator("#id_status").is_visible()
    assert page.locator(".filter-panel__summary").inner_text().strip() == "Filters"

    page.click(".filter-panel__summary")
    page.locator("#id_status").wait_for(state="visible")
    assert page.locator("#id_q").is_visible()


def test_on_a_wide_screen_the_filters_show_and_count_what_is_in_force(page, seeded_site):
    page.goto(f"{seeded_site.url}/commitments/?status=stalled&topic=channel-crossings&sort=changed")
    page.wait_for_load_state("load")
    assert page.locator("#id_status").is_visible()
    assert page.locator(".filter-panel__summary").inner_text().strip() == "Filters (2)"

    page.select_option("#id_topic", "")
    page.wait_for_url("**/commitments/?status=stalled&sort=changed")
    page.locator(".filter-panel__summary", has_text="Filters (1)").wait_for()
    assert page.locator("#filter-summary").count() == 1


def test_a_phone_with_filters_in_force_says_how_many(page, seeded_site):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{seeded_site.url}/commitments/?status=stalled&sort=changed")
    page.wait_for_load_state("load")
    assert not page.locator("#id_status").is_visible()
    assert page.locator(".filter-panel__summary").inner_text().strip() == "Filters (1)"
