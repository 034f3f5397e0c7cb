"""The embed card in headless Chromium, as a newsroom would use it: the snippet copied from
the commitment page exactly as offered, pasted into a blank page, in columns from 300 to
700 px wide. Every part of the card (title, status, "as of", flags, the link to every
step) must lie inside the iframe's viewport, with nothing cut off inside the card."""

from __future__ import annotations

import datetime
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from commitments.models import Commitment, Flag, FlagReason

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: Column widths a CMS may give the embed.
COLUMNS = (300, 500, 700)
PARTS = {
    "title": ".embed-card__title",
    "badge": ".badge",
    "as of": ".as-of",
    "flag": ".flag",
    "link": ".embed-card__more a",
}


@pytest.fixture
def site(seeded_site, settings):
    """The seeds behind a live server whose address is the site's own (the snippet names
    SITE_URL), each published commitment with two open flags: the card at its fullest."""
    settings.SITE_URL = seeded_site.url
    for commitment in Commitment.objects.public():
        for reason in (FlagReason.NO_RECENT_PROGRESS, FlagReason.DEADLINE_PASSED):
            Flag.objects.get_or_create(
                commitment=commitment,
                reason=reason,
                resolved_at=None,
                defaults={
                    "raised_at": timezone.now(),
                    "since": datetime.date(2025, 10, 1),
                    "since_precision": "month",
                },
            )
    return seeded_site


def offered_snippets(page, url: str) -> dict[str, str]:
    """The embed codes the commitment page offers, read from its textareas."""
    page.goto(url)
    areas = page.locator("textarea[data-embed-size]")
    return {
        areas.nth(i).get_attribute("data-embed-size"): areas.nth(i).input_value()
        for i in range(areas.count())
    }


@pytest.fixture(scope="module")
def blank_site():
    """Another site (127.0.0.1, where the live server is localhost: another origin, as a
    newsroom's CMS is) serving whatever page a test puts at ``pages[path]``."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.pages = pages
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def paste(page, blank_site, snippet: str, column: int):
    """A blank page on another site with the snippet in a column ``column`` px wide, as a
    CMS would show it; the card's iframe and frame."""
    blank_site.pages["/article"] = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Article</title></head>"
        f"<body style='margin:0'><div style='width:{column}px'>{snippet}</div></body></html>"
    )
    page.goto(f"{blank_site.url}/article")
    iframe = page.locator("iframe")
    assert iframe.count() == 1
    frame = iframe.element_handle().content_frame()
    frame.wait_for_load_state("load")
    frame.locator(".embed-card__more a").wait_for()
    return iframe, frame


def inside(box, outer, slack=0.5) -> bool:
    return (
        box["x"] >= outer["x"] - slack
        and box["y"] >= outer["y"] - slack
        and box["x"] + box["width"] <= outer["x"] + outer["width"] + slack
        and box["y"] + box["height"] <= outer["y"] + outer["height"] + slack
    )


def assert_card_whole(iframe, frame, *, expect_flags: int):
    frame_box = iframe.bounding_box()
    for name, selector in PARTS.items():
        parts = frame.locator(selector)
        expected = expect_flags if name == "flag" else 1
        assert parts.count() == expected, (name, parts.count())
        for i in range(parts.count()):
            box = parts.nth(i).bounding_box()
            assert box is not None and box["width"] > 0 and box["height"] > 0, name
            assert inside(box, frame_box), (name, box, frame_box)
    # Nothing overflows inside the card either (its overflow is hidden, so a part pushed
    # out of it would be invisible while still "inside" the frame).
    overflow = frame.evaluate(
        "() => [...document.querySelectorAll('.embed-card, .flags')]"
        ".filter(el => el.scrollHeight > el.clientHeight + 1).map(el => el.className)"
    )
    assert overflow == []
    assert frame.evaluate("document.documentElement.scrollHeight <= window.innerHeight")


def test_every_offered_snippet_shows_the_whole_card_in_a_blank_page(
    page, site, blank_site, artifacts
):
    for commitment in Commitment.objects.public():
        snippets = offered_snippets(page, f"{site.url}{commitment.get_absolute_url()}")
        assert set(snippets) == {"card", "responsive"}
        for key, snippet in snippets.items():
            for column in COLUMNS:
                iframe, frame = paste(page, blank_site, snippet, column)
                box = iframe.bounding_box()
                if key == "card":
                    assert box["width"] == min(400, column) and box["height"] == 220
                else:
                    assert box["width"] == column and box["height"] == 260
                assert frame.locator(".embed-card__title a").inner_text() == commitment.title
                assert_card_whole(iframe, frame, expect_flags=2)
                if commitment.slug == "one-in-one-out" or column == 300:
                    page.screenshot(path=str(artifacts / f"embed-{key}-{column}.png"))


def test_a_200_character_title_is_clamped_and_the_card_stays_whole(
    page, site, blank_site, artifacts
):
    seed = Commitment.objects.public().first()
    long_title = ('Stop the "taxi boats" & the gangs\' crossings ' * 6)[:200]
    Commitment.objects.filter(pk=seed.pk).update(title=long_title)
    Flag.objects.create(
        commitment=seed,
        reason=FlagReason.SOURCES_UNAVAILABLE,
        raised_at=timezone.now(),
    )
    snippets = offered_snippets(page, f"{site.url}{seed.get_absolute_url()}")
    for key, snippet in snippets.items():
        for column in COLUMNS:
            iframe, frame = paste(page, blank_site, snippet, column)
            assert_card_whole(iframe, frame, expect_flags=3)
            title = frame.locator(".embed-card__title")
            # Clamped: two lines at most (three flags take the third), the rest cut.
            lines = frame.evaluate(
                "() => { const t = document.querySelector('.embed-card__title');"
                " return t.clientHeight / parseFloat(getComputedStyle(t).lineHeight); }"
            )
            assert lines <= 2.05, lines
            assert title.evaluate("t => t.scrollHeight > t.clientHeight")  # text was cut
            page.screenshot(path=str(artifacts / f"embed-long-{key}-{column}.png"))


def test_copy_embed_code_puts_the_offered_snippet_on_the_clipboard(page, site, artifacts):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    commitment = Commitment.objects.public().filter(title__contains='"').first()
    page.goto(f"{site.url}{commitment.get_absolute_url()}")
    for key in ("card", "responsive"):
        button = page.locator(f'button[data-copy="#embed-{key}"]')
        button.click()
        status = button.locator("xpath=..").locator(".copy-status")
        status.filter(has_text="Copied.").wait_for()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == page.input_value(f"#embed-{key}")
        assert copied.startswith("<iframe ") and f'/commitments/{commitment.slug}/embed/"' in copied
        assert "&quot;" in copied  # the title's quotes, escaped for the attribute
    page.locator(".embed-code").screenshot(path=str(artifacts / "embed-code-section.png"))
