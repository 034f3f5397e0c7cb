"""The editor-to-publisher path in headless Chromium, as a newsroom walks it: an editor
changes a published quote in the admin, the public page keeps the old words, a publisher
applies the proposal from the queue, and the commitment's change history shows what the
quote said before. Screenshots land in test-artifacts/."""

from __future__ import annotations

import pytest

from commitments.models import Statement
from commitments.services.accounts import user_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long pass phrase for the browser"


def _sign_in(chromium, url, username):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{url}/admin/")
    return context, page


def test_an_editors_quote_change_waits_for_a_publisher_then_shows_in_the_history(
    chromium, seeded_site, artifacts
):
    url = seeded_site.url
    user_create(username="eddie", role="Editor", password=PASSWORD)
    user_create(username="pat", role="Publisher", password=PASSWORD)
    quote = Statement.objects.public().filter(kind="quote").order_by("pk").first()
    commitment = quote.commitments.public().order_by("pk").first()
    old_text, new_text = quote.text, quote.text + " [sic]"

    editor_context, editor = _sign_in(chromium, url, "eddie")
    editor.goto(f"{url}/admin/commitments/statement/{quote.pk}/change/")
    editor.fill("#id_text", new_text)
    editor.check("input[name=revision_kind][value=correction]")
    editor.fill("#id_revision_reason", "The quote lacked the speaker's own emphasis.")
    editor.click("input[name=_save]")
    editor.wait_for_selector("text=waits for a publisher")
    editor.screenshot(path=str(artifacts / "revision-proposed.png"), full_page=True)
    editor_context.close()

    public = chromium.new_page()
    public.goto(f"{url}{commitment.get_absolute_url()}")
    body = public.locator("main").inner_text()
    assert old_text[:60] in body and "[sic]" not in body

    publisher_context, publisher = _sign_in(chromium, url, "pat")
    publisher.goto(f"{url}/admin/commitments/revision/")
    publisher.click("#result_list tbody th a")
    assert "[sic]" in publisher.locator("table.revision-changes").inner_text()
    publisher.click("input[name=_apply]")
    publisher.wait_for_selector("text=Applied: the change is public.")
    publisher_context.close()

    # The reader's browser may keep its copy for PUBLIC_MAX_AGE seconds; reloading asks
    # the server again (If-None-Match), which answers with the change at once.
    public.reload()
    assert "[sic]" in public.locator("main").inner_text()
    public.click("text=Change history")
    public.wait_for_url(f"**{commitment.get_absolute_url()}changes/")
    history = public.locator("main").inner_text()
    assert old_text[:60] in history and new_text[-40:] in history
    assert "The quote lacked the speaker's own emphasis." in history
    assert "Proposed by: Editor. Applied by: Publisher." in history
    public.screenshot(path=str(artifacts / "change-history.png"), full_page=True)
    public.context.close()
