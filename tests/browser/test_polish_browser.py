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


@pytest.fixture
def admin_page(chromium, seeded_site, django_user_model):
    """A 1280x800 page signed in as a superuser (the widest lists: every column shown)."""
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from commitments import services
    from commitments.models import Commitment, Flag, FlagReason

    user = django_user_model.objects.create_superuser("wide-lists", "", "a long pass phrase")
    # A row in the lists the seeds leave empty: a flag, a revision waiting for a publisher.
    commitment = Commitment.objects.order_by("-title").first()
    Flag.objects.create(
        commitment=commitment, reason=FlagReason.NO_RECENT_PROGRESS, raised_at=timezone.now()
    )
    editor = services.accounts.user_create(
        username="an-editor", role="Editor", password="a long pass phrase for tests"
    )
    services.revision_submit(
        obj=commitment,
        after={"summary": commitment.summary + " And a longer summary, to see it wrap."},
        kind="correction",
        reason="The summary left out what the minister added the next day.",
        by=editor,
    )
    client = Client()
    client.force_login(user)
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": seeded_site.url,
            }
        ]
    )
    yield context.new_page()
    context.close()


def _changelists() -> list[str]:
    from django.contrib import admin

    return sorted(
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for model in admin.site._registry
    )


def test_every_admin_list_fits_1280_pixels(admin_page, seeded_site, artifacts):
    too_wide, checked = [], []
    for path in _changelists():
        admin_page.goto(f"{seeded_site.url}{path}")
        if admin_page.locator("#result_list").count() == 0:
            continue
        widths = admin_page.evaluate(
            """() => {
                const table = document.querySelector('#result_list');
                const box = table.closest('.results') || table.parentElement;
                return {
                  table: table.scrollWidth,
                  box: box.clientWidth,
                  page: document.documentElement.scrollWidth,
                  viewport: window.innerWidth,
                };
            }"""
        )
        checked.append(path)
        if widths["table"] > widths["box"] or widths["page"] > widths["viewport"]:
            too_wide.append(f"{path}: {widths}")
            admin_page.screenshot(path=str(artifacts / f"admin{path.replace('/', '-')}.png"))
    assert not too_wide, "\n".join(too_wide)
    for model in ("commitment", "statusupdate", "source", "statement", "flag", "revision"):
        assert f"/admin/commitments/{model}/" in checked
