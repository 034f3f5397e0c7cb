"""The editors' forms in both languages, in headless Chromium: under /fr/admin/ the
commitment form is French, and each English text sits beside its French on one row, two
columns of the same width (long texts included). Screenshot in test-artifacts/."""

from __future__ import annotations

import pytest

from commitments.models import Commitment
from commitments.services.accounts import user_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long pass phrase for the browser"


def test_english_and_french_sit_side_by_side(chromium, seeded_site, artifacts):
    url = seeded_site.url
    user_create(username="eddie", role="Editor", password=PASSWORD)
    commitment = Commitment.objects.order_by("pk").first()
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{url}/fr/admin/login/")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.fill("#id_username", "eddie")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{url}/fr/admin/")

    page.goto(f"{url}/fr/admin/commitments/commitment/{commitment.pk}/change/")
    page.screenshot(path=str(artifacts / "admin-bilingual-form.png"), full_page=True)
    assert "Titre (en français)" in page.locator("label[for=id_title_fr]").inner_text()
    for english, french in (("#id_title", "#id_title_fr"), ("#id_summary", "#id_summary_fr")):
        left, right = page.locator(english).bounding_box(), page.locator(french).bounding_box()
        assert abs(left["y"] - right["y"]) < 2, (english, left, right)  # the same row
        assert right["x"] >= left["x"] + left["width"]  # French to the right, no overlap
        assert abs(left["width"] - right["width"]) < 0.1 * left["width"]  # two even columns
        assert left["width"] > 350  # room for long text
    context.close()
