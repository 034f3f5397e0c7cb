"""Embeds that survive a newsroom CMS: the snippet (parsed back by an HTML parser), the
"Embed this" section, oEmbed (https://oembed.com/, section 2) with its discovery link, the
social preview image and its caching, and which of these may be framed."""

from __future__ import annotations

import datetime
import io
import json
import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.html import escape
from PIL import Image

from commitments import embeds, previews
from commitments.models import Commitment, Flag, FlagReason

pytestmark = pytest.mark.django_db

NASTY_TITLE = """Stop the "taxi boats" & the gangs' <b>crossings</b> 'now'"""


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of each textarea."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.textareas: dict[str, str] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "textarea":
            self._textarea = dict(attrs).get("id", "")
            self.textareas[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self.textareas[self._textarea] += data

    def named(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser


def only_iframe(snippet: str) -> dict:
    parsed = parse(snippet)
    assert [name for name, _attrs in parsed.tags] == ["iframe"], parsed.tags
    return parsed.named("iframe")[0]


def embed_address(commitment) -> str:
    return f"{settings.SITE_URL}/commitments/{commitment.slug}/embed/"


def page_address(commitment) -> str:
    return f"{settings.SITE_URL}/commitments/{commitment.slug}/"


@pytest.fixture
def nasty(make_commitment):
    return make_commitment(title=NASTY_TITLE, slug="nasty-title")


def make_flag(commitment, reason=FlagReason.NO_RECENT_PROGRESS):
    return Flag.objects.create(
        commitment=commitment,
        reason=reason,
        raised_at=timezone.now(),
        since=datetime.date(2025, 7, 1),
        since_precision="month",
    )


# --- The snippet ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "responsive"), [(400, 220, False), (300, 260, True), (350, 210, False)]
)
def test_snippet_parses_back_to_one_iframe_with_the_exact_attributes(
    nasty, width, height, responsive
):
    snippet = embeds.embed_snippet(nasty, width=width, height=height, responsive=responsive)
    attrs = only_iframe(snippet)
    assert attrs["src"] == embed_address(nasty)
    assert attrs["width"] == str(width)
    assert attrs["height"] == str(height)
    assert attrs["title"] == NASTY_TITLE
    rules = attrs["style"].split(";")
    assert ("width:100%" in rules) is responsive
    assert ("max-width:100%" in rules) is not responsive


def test_embed_section_offers_each_size_as_copyable_escaped_code(client, nasty):
    response = client.get(nasty.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    parsed = parse(html)
    # The old inline snippet is gone: the only iframes are inside the textareas' text.
    assert parsed.named("iframe") == []
    assert "<iframe" not in html
    offered = {size.key: size for size in embeds.EMBED_SIZES}
    assert set(offered) == {"card", "responsive"}
    for key, size in offered.items():
        text = parsed.textareas[f"embed-{key}"]
        assert text == embeds.embed_snippet(
            nasty, width=size.width, height=size.height, responsive=size.responsive
        )
        attrs = only_iframe(text)
        assert (attrs["src"], attrs["title"]) == (embed_address(nasty), NASTY_TITLE)
        assert (attrs["width"], attrs["height"]) == (str(size.width), str(size.height))
    buttons = [a for a in parsed.named("button") if a.get("data-copy", "").startswith("#embed-")]
    assert sorted(a["data-copy"] for a in buttons) == ["#embed-card", "#embed-responsive"]
    assert "Copy embed code" in html and "Embed this" in html


def test_every_seed_title_survives_the_snippet(client, seeded):
    for commitment in Commitment.objects.public():
        html = client.get(commitment.get_absolute_url()).content.decode()
        for key in ("card", "responsive"):
            attrs = only_iframe(parse(html).textareas[f"embed-{key}"])
            assert attrs["title"] == commitment.title
    assert any('"' in c.title for c in Commitment.objects.public())


# --- The commitment page's head: oEmbed discovery, preview image ------------------------


def test_page_head_names_the_oembed_answer_and_the_preview_image(client, nasty):
    html = client.get(nasty.get_absolute_url()).content.decode()
    head = html.split("</head>")[0]
    parsed = parse(head)
    [link] = [a for a in parsed.named("link") if a.get("type") == "application/json+oembed"]
    assert link["rel"] == "alternate" and link["title"] == NASTY_TITLE
    assert "&amp;format=json" in head  # the & is escaped in the attribute
    address = urlsplit(link["href"])
    assert f"{address.scheme}://{address.netloc}{address.path}" == f"{settings.SITE_URL}/oembed/"
    assert parse_qs(address.query) == {"url": [page_address(nasty)], "format": ["json"]}

    meta = {a.get("property") or a.get("name"): a.get("content") for a in parsed.named("meta")}
    assert meta["og:image"] == f"{settings.SITE_URL}/commitments/nasty-title/preview.png"
    assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "630")
    assert meta["og:image:alt"].startswith(NASTY_TITLE + ": ")
    assert meta["twitter:card"] == "summary_large_image"
    # The discovery link answers what it names.
    answer = client.get(link["href"].removeprefix(settings.SITE_URL))
    assert answer.status_code == 200 and answer.json()["title"] == NASTY_TITLE


def test_other_pages_keep_the_plain_twitter_card(client, seeded):
    html = client.get("/").content.decode()
    assert '<meta name="twitter:card" content="summary">' in html
    assert "og:image" not in html and "json+oembed" not in html


def test_draft_preview_offers_no_embed_nor_preview_image(
    client, make_commitment, django_user_model
):
    draft = make_commitment(published=False)
    staff = django_user_model.objects.create_superuser("boss", "boss@example.org", "pw")
    client.force_login(staff)
    html = client.get(draft.get_absolute_url()).content.decode()
    assert "Draft preview" in html
    assert "embed-card" not in html and "og:image" not in html and "json+oembed" not in html


def test_the_card_is_headed_by_its_title_escaped(client, nasty):
    """The card is a page of its own inside the frame: one heading, the title (axe-core's
    page-has-heading-one), escaped like every editor's text."""
    html = client.get(f"/commitments/{nasty.slug}/embed/").content.decode()
    headings = re.findall(r"<h1\b[^>]*>(.*?)</h1>", html, re.S)
    assert len(headings) == 1
    assert escape(NASTY_TITLE) in headings[0]
    assert NASTY_TITLE not in html


# --- oEmbed ---------------------------------------------------------------------------


def oembed(client, **params):
    return client.get("/oembed/", params)


def test_oembed_answers_a_rich_json_object_per_the_spec(client, nasty):
    response = oembed(client, url=page_address(nasty), format="json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["type"] == "rich" and data["version"] == "1.0"
    assert data["title"] == NASTY_TITLE
    assert data["provider_name"] == settings.SITE_NAME
    assert data["provider_url"] == settings.SITE_URL + "/"
    assert isinstance(data["cache_age"], int) and data["cache_age"] > 0
    assert (data["width"], data["height"]) == (400, 220)
    assert data["html"] == embeds.embed_snippet(nasty, width=400, height=220)
    attrs = only_iframe(data["html"])
    assert (attrs["width"], attrs["height"], attrs["title"]) == ("400", "220", NASTY_TITLE)
    assert data["thumbnail_url"] == f"{settings.SITE_URL}/commitments/nasty-title/preview.png"
    assert (data["thumbnail_width"], data["thumbnail_height"]) == (1200, 630)
    # The thumbnail it names is there.
    thumbnail = client.get(data["thumbnail_url"].removeprefix(settings.SITE_URL))
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/png"


@pytest.mark.parametrize(
    "url",
    [
        "/commitments/nasty-title/",
        "/commitments/nasty-title/embed/",
        "{site}/commitments/nasty-title/?page=2#event-1",
        "{site}/commitments/nasty-title",
    ],
)
def test_oembed_accepts_the_page_its_card_and_the_bare_path(client, nasty, url):
    response = oembed(client, url=url.format(site=settings.SITE_URL))
    if url.endswith("nasty-title"):  # no trailing slash: not the page's address
        assert response.status_code == 404
        return
    assert response.status_code == 200
    assert response.json()["title"] == NASTY_TITLE


@pytest.mark.parametrize(
    ("maxwidth", "maxheight", "size"),
    [
        ("1000", None, (400, 220)),
        ("400", "220", (400, 220)),
        ("350", None, (350, 260)),
        ("300", "240", (300, 240)),
        (None, "210", (400, 210)),
        (" 320 ", "", (320, 260)),
    ],
)
def test_oembed_fits_within_maxwidth_and_maxheight(client, nasty, maxwidth, maxheight, size):
    params = {"url": page_address(nasty)}
    if maxwidth is not None:
        params["maxwidth"] = maxwidth
    if maxheight is not None:
        params["maxheight"] = maxheight
    data = oembed(client, **params).json()
    assert (data["width"], data["height"]) == size
    attrs = only_iframe(data["html"])
    assert (int(attrs["width"]), int(attrs["height"])) == size
    # The thumbnail (1200 x 630) is named only where it fits.
    assert "thumbnail_url" not in data


def test_oembed_names_the_thumbnail_only_when_it_fits(client, nasty):
    fits = oembed(client, url=page_address(nasty), maxwidth="1200", maxheight="630").json()
    assert fits["thumbnail_width"] == 1200 and fits["width"] == 400
    too_small = oembed(client, url=page_address(nasty), maxwidth="1199").json()
    assert not {"thumbnail_url", "thumbnail_width", "thumbnail_height"} & set(too_small)


@pytest.mark.parametrize("response_format", ["xml", "XML", "yaml"])
def test_oembed_answers_501_for_any_format_but_json(client, nasty, response_format):
    response = oembed(client, url=page_address(nasty), format=response_format)
    assert response.status_code == 501


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("maxwidth", "wide", "maxwidth must be a whole number"),
        ("maxwidth", "1e3", "maxwidth must be a whole number"),
        ("maxwidth", "9" * 5000, "maxwidth must be a whole number"),
        ("maxheight", "-5", "maxheight must be a positive number"),
        ("maxheight", "0", "maxheight must be a positive number"),
        ("maxwidth", "300.5", "maxwidth must be a whole number"),
    ],
)
def test_oembed_bad_sizes_are_400_with_a_clear_message(client, nasty, param, value, message):
    response = oembed(client, url=page_address(nasty), **{param: value})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_oembed_without_url_is_400(client, nasty):
    response = oembed(client, format="json")
    assert response.status_code == 400 and "url" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "https://elsewhere.example.com/commitments/nasty-title/",
        "ftp://{host}/commitments/nasty-title/",
        "{site}/commitments/no-such-promise/",
        "{site}/corrections/",
        "{site}/",
        "/commitments/draft-one/",
        "http://[::1",
        "javascript:alert(1)",
        "//elsewhere.example.com/commitments/nasty-title/",
        "not a url at all",
    ],
)
def test_oembed_404_for_anything_but_a_public_commitment_here(client, nasty, make_commitment, url):
    make_commitment(published=False, slug="draft-one")
    host = urlsplit(settings.SITE_URL).netloc
    response = oembed(client, url=url.format(site=settings.SITE_URL, host=host))
    assert response.status_code == 404


def test_oembed_too_small_for_the_card_is_404(client, nasty):
    response = oembed(client, url=page_address(nasty), maxwidth="120")
    assert response.status_code == 404
    assert "280 x 200" in response.content.decode()


def test_oembed_query_count_does_not_grow_with_flags(
    client, nasty, make_commitment, django_assert_max_num_queries
):
    def count():
        cache.clear()
        with django_assert_max_num_queries(8) as captured:
            assert oembed(client, url=page_address(nasty)).status_code == 200
        return len(captured)

    before = count()
    make_flag(nasty)
    make_flag(nasty, FlagReason.DEADLINE_PASSED)
    for _ in range(5):
        make_commitment()
    assert count() == before


# --- The preview image ------------------------------------------------------------------


def preview(client, commitment, **headers):
    return client.get(f"/commitments/{commitment.slug}/preview.png", **headers)


def test_preview_image_is_a_1200_by_630_png_with_caching_headers(client, nasty):
    response = preview(client, nasty)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG" and image.size == (1200, 630)
    assert "public" in response["Cache-Control"]
    etag = response["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert etag.strip('"') == previews.fingerprint(previews.preview_facts(_with_open_flags(nasty)))
    again = preview(client, nasty, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag
    assert "public" in again["Cache-Control"]


def _with_open_flags(commitment):
    from commitments import selectors

    return selectors.public_commitment_or_404(commitment.slug)


def test_preview_image_changes_with_the_status_and_is_cached_otherwise(
    client, nasty, make_source, log_update, monkeypatch
):
    cache.clear()
    draws = []
    draw = previews.draw_preview

    def counting_draw(facts):
        draws.append(facts["status"])
        return draw(facts)

    monkeypatch.setattr(previews, "draw_preview", counting_draw)

    first = preview(client, nasty)
    second = preview(client, nasty)
    assert first.status_code == second.status_code == 200
    assert first["ETag"] == second["ETag"]
    assert first.content == second.content
    assert draws == ["not_started"]  # the second came from the cache
    assert second.get("X-Cache") != "hit"  # the page cache leaves it to its view

    log_update(nasty, sources=[make_source()], status="stalled")
    third = preview(client, nasty, HTTP_IF_NONE_MATCH=first["ETag"])
    assert third.status_code == 200
    assert third["ETag"] != first["ETag"]
    assert third.content != first.content
    assert draws == ["not_started", "stalled"]
    assert Image.open(io.BytesIO(third.content)).size == (1200, 630)

    # A new flag is drawn too; an unrelated public write is not.
    make_flag(nasty)
    fourth = preview(client, nasty)
    assert fourth["ETag"] != third["ETag"] and len(draws) == 3
    Commitment.objects.filter(pk=nasty.pk).update(summary="Another summary.")
    assert preview(client, nasty)["ETag"] == fourth["ETag"] and len(draws) == 3


def test_preview_image_is_404_for_drafts_and_unknown_slugs(client, make_commitment):
    draft = make_commitment(published=False)
    assert preview(client, draft).status_code == 404
    assert client.get("/commitments/no-such-promise/preview.png").status_code == 404


def test_preview_image_draws_long_titles_and_without_the_dejavu_font(
    client, make_commitment, monkeypatch, tmp_path
):
    long_title = ("A promise with a very long title that goes on " * 6)[:200]
    commitment = make_commitment(title=long_title, status="in_progress")
    make_flag(commitment)
    make_flag(commitment, FlagReason.DEADLINE_PASSED)
    make_flag(commitment, FlagReason.SOURCES_UNAVAILABLE)
    cache.clear()
    monkeypatch.setattr(previews, "FONT_DIR", tmp_path / "no-fonts-here")
    previews._font.cache_clear()
    try:
        response = preview(client, commitment)
    finally:
        previews._font.cache_clear()
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.content)).size == (1200, 630)


def test_preview_image_wraps_and_cuts_the_title():
    from PIL import ImageDraw

    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    font = previews._font(60, bold=True)
    lines = previews._wrap(draw, "word " * 100, font, 1056, 4)
    assert len(lines) == 4 and lines[-1].endswith("…")
    assert all(draw.textlength(line, font=font) <= 1056 for line in lines)
    assert previews._wrap(draw, "x" * 300, font, 1056, 4)[0].startswith("xxx")


def test_preview_image_query_count_does_not_grow(client, nasty, django_assert_max_num_queries):
    def count():
        with django_assert_max_num_queries(8) as captured:
            assert preview(client, nasty).status_code == 200
        return len(captured)

    before = count()
    make_flag(nasty)
    make_flag(nasty, FlagReason.DEADLINE_PASSED)
    assert count() == before


# --- Framing and the page cache ---------------------------------------------------------


def test_only_the_embed_card_may_be_framed_even_from_the_page_cache(client, nasty):
    cache.clear()
    for _attempt in ("miss", "hit"):
        embed = client.get(f"/commitments/{nasty.slug}/embed/")
        assert embed.status_code == 200 and embed["X-Cache"] == _attempt
        assert "X-Frame-Options" not in embed
        assert "frame-ancestors *" in embed["Content-Security-Policy"]
    for url in (
        f"/oembed/?url=/commitments/{nasty.slug}/",
        f"/commitments/{nasty.slug}/preview.png",
        f"/commitments/{nasty.slug}/",
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert response["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_embed_card_uses_a_static_stylesheet_and_escapes_the_title(client, nasty):
    html = client.get(f"/commitments/{nasty.slug}/embed/").content.decode()
    assert "/static/css/embed.css" in html
    assert "<style" not in html and " style=" not in html
    assert "<b>crossings</b>" not in html and "&lt;b&gt;crossings&lt;/b&gt;" in html
    assert "See every step" in html


def test_oembed_json_is_valid_and_keeps_the_title_unescaped(client, nasty):
    raw = oembed(client, url=page_address(nasty)).content.decode()
    assert json.loads(raw)["title"] == NASTY_TITLE
    assert unescape(json.loads(raw)["html"]).count(NASTY_TITLE) == 1


def test_oembed_answers_from_the_page_cache_until_a_public_write(
    client, nasty, make_source, log_update
):
    cache.clear()
    url = page_address(nasty)
    first = oembed(client, url=url)
    second = oembed(client, url=url)
    assert (first["X-Cache"], second["X-Cache"]) == ("miss", "hit")
    assert second.json() == first.json() and second["Access-Control-Allow-Origin"] == "*"
    nasty.title = "A new title"
    nasty.save()
    third = oembed(client, url=url)
    assert third["X-Cache"] == "miss" and third.json()["title"] == "A new title"


def test_preview_image_is_not_gzipped_again_but_pages_are(client, nasty):
    image = preview(client, nasty, HTTP_ACCEPT_ENCODING="gzip")
    assert image.status_code == 200 and "Content-Encoding" not in image
    assert image["ETag"].startswith('"')
    page = client.get(nasty.get_absolute_url(), HTTP_ACCEPT_ENCODING="gzip")
    assert page["Content-Encoding"] == "gzip"


def test_every_status_has_its_badge_colour_in_the_preview_image():
    from commitments.vocabulary import Status

    assert set(previews.STATUS_COLOURS) == set(Status.values)
