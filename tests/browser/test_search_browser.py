"""Finding people in headless Chromium (issue 11): from the home page, type "Macron" and
see his promise with the name highlighted; find him in /actors/ and his promises under
"Promises made"; the same search without JavaScript."""

from __future__ import annotations

import pytest

from tests.browser.polling import wait_until as _wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#results .commitment-row"


def test_typing_macron_finds_his_promise_highlighted(page, seeded_site):
    page.goto(f"{seeded_site.url}/")
    page.click("nav[aria-label=Main] >> text=Commitments")
    page.wait_for_url("**/commitments/")
    _wait_until(page, "window.htmx !== undefined")
    page.fill("#id_q", "Macron")
    page.wait_for_url("**/commitments/?q=Macron**")
    _wait_until(page, f"document.querySelectorAll('{ROWS}').length === 1")
    results = page.locator("#results")
    assert "taxi boats" in results.inner_text()
    assert "Matched: actor Emmanuel Macron" in results.inner_text()
    assert page.locator("#results mark").first.inner_text() == "Macron"


def test_actors_index_leads_to_his_promises(page, seeded_site):
    page.goto(f"{seeded_site.url}/")
    page.click("nav[aria-label=Main] >> text=Actors")
    page.wait_for_url("**/actors/")
    page.click("text=Emmanuel Macron")
    page.wait_for_url("**/actors/emmanuel-macron/")
    made = page.locator("section#role-made_by")
    assert "Promises made" in made.inner_text()
    assert "taxi boats" in made.inner_text()


def test_search_without_javascript(page_without_js, seeded_site):
    page = page_without_js
    page.goto(f"{seeded_site.url}/commitments/")
    page.fill("#id_q", "Hewitt")
    page.click("button[type=submit]")
    page.wait_for_url("**/commitments/?**q=Hewitt**")
    assert page.locator(ROWS).count() == 2
    assert page.locator("#results mark").count() >= 2


def test_screenshots_of_a_search_and_the_people_pages(page, seeded_site, artifacts):
    for name, path in (
        ("search-macron.png", "/commitments/?q=Macron"),
        ("actors.png", "/actors/"),
        ("topics.png", "/topics/"),
        ("actor-french-government.png", "/actors/french-government/"),
        ("actor-martin-hewitt.png", "/actors/martin-hewitt/"),
    ):
        page.goto(f"{seeded_site.url}{path}")
        page.screenshot(path=artifacts / name, full_page=True)
        assert (artifacts / name).stat().st_size > 10_000
