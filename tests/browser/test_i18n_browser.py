"""Switching language on a filtered list in headless Chromium (issue 13): the list filtered
by status, the language switch pressed, the same list in French with the same filter in
the form and the same results; and back. Also after htmx changed the filters in place."""

from __future__ import annotations

import pytest

from tests.browser.polling import wait_until as _wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#results .commitment-row"


def _titles(page) -> list[str]:
    return page.locator(f"{ROWS} .commitment-row__title").all_inner_texts()


def test_switching_language_keeps_the_filtered_list(page, seeded_site):
    page.goto(f"{seeded_site.url}/commitments/?status=stalled")
    assert page.locator("html").get_attribute("lang") == "en-gb"
    english_titles = _titles(page)
    assert len(english_titles) == 2  # the seeds' two stalled commitments

    page.click(".language-switch a[hreflang=fr]")
    page.wait_for_url("**/fr/commitments/?status=stalled")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h1").inner_text() == "Engagements"
    assert page.locator("#id_status").input_value() == "stalled"
    assert page.locator(ROWS).count() == 2
    assert "Appliquer les filtres" in page.locator("form.filters").inner_text()
    # The same commitments, in French where a translation exists, else in English marked.
    for row in page.locator(ROWS).all():
        assert row.locator(".badge").count() == 1
        assert "/fr/commitments/" in row.locator("h3 a").get_attribute("href")

    page.click(".language-switch a[hreflang=en-gb]")
    page.wait_for_url("**/commitments/?status=stalled")
    assert not page.url.split(seeded_site.url, 1)[1].startswith("/fr/")
    assert page.locator("html").get_attribute("lang") == "en-gb"
    assert page.locator("#id_status").input_value() == "stalled"
    assert _titles(page) == english_titles


def test_the_switch_follows_filters_changed_in_place(page, seeded_site):
    page.goto(f"{seeded_site.url}/fr/commitments/")
    _wait_until(page, "window.htmx !== undefined")
    page.select_option("#id_status", "stalled")
    page.wait_for_url("**/fr/commitments/?status=stalled**")
    _wait_until(page, f"document.querySelectorAll('{ROWS}').length === 2")
    switch = page.locator(".language-switch a[hreflang=en-gb]")
    _wait_until(
        page,
        "document.querySelector('.language-switch a[hreflang=en-gb]')"
        ".getAttribute('href') === '/commitments/' + window.location.search",
    )
    assert "status=stalled" in switch.get_attribute("href")
    switch.click()
    page.wait_for_url("**/commitments/?status=stalled**")
    assert "/fr/" not in page.url
    assert page.locator("html").get_attribute("lang") == "en-gb"
    assert page.locator("#id_status").input_value() == "stalled"
    assert page.locator(ROWS).count() == 2
