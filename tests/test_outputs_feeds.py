"""Feeds escape what editors typed: a source title, a description or an outlet holding
markup reaches feed readers as text, and sources are real links."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import feedparser
import pytest

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"


class _Tags(HTMLParser):
    """The elements of an HTML fragment, with their attributes."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.fixture
def hostile(make_commitment, make_source, log_update):
    commitment = make_commitment(title=f"Promise {IMG}", summary=f"Summary {SCRIPT}")
    source = make_source(
        url="https://news.example.org/hostile?a=1&b=2",
        title=f"Title {IMG}",
        outlet=f"Outlet {SCRIPT}",
        author=f"Author {IMG}",
    )
    entry = log_update(commitment, sources=[source], description=f"Step {SCRIPT} and {IMG}")
    log_update(commitment, sources=[source], corrects=entry, correction_note=f"Wrong {IMG}")
    return commitment


def _feeds(client, commitment):
    return [
        client.get("/feeds/changes/").content,
        client.get(f"/feeds/commitments/{commitment.slug}/").content,
    ]


def test_parsed_summaries_hold_no_live_markup_and_keep_the_source_link(client, hostile):
    for raw in _feeds(client, hostile):
        parsed = feedparser.parse(raw)
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert len(parsed.entries) == 2
        for entry in parsed.entries:
            tags = _Tags(entry.summary).tags
            assert {name for name, _attrs in tags} <= {"p", "ul", "li", "a", "br"}
            links = [attrs["href"] for name, attrs in tags if name == "a"]
            assert links == ["https://news.example.org/hostile?a=1&b=2"]
            # The editor's words survive, as words.
            assert "Title <img src=x onerror=alert(1)>" in _text(entry.summary)
            assert "Outlet <script>alert(2)</script>" in _text(entry.summary)


def test_raw_summary_is_html_with_the_editors_text_escaped(client, hostile):
    for raw in _feeds(client, hostile):
        entries = ET.fromstring(raw).findall(f"{ATOM}entry")
        assert len(entries) == 2
        for entry in entries:
            summary = entry.find(f"{ATOM}summary")
            assert summary.get("type") == "html"
            html = summary.text  # one level of XML unescaping: the HTML a reader renders
            assert "<img" not in html and "<script" not in html
            assert "Title &lt;img src=x onerror=alert(1)&gt;" in html
            assert "Outlet &lt;script&gt;alert(2)&lt;/script&gt;" in html
            assert "Author &lt;img src=x onerror=alert(1)&gt;" in html
            assert '<a href="https://news.example.org/hostile?a=1&amp;b=2">' in html
            assert "<https://" not in html
        correction, step = (e.find(f"{ATOM}summary").text for e in entries)
        assert "What was wrong: Wrong &lt;img src=x onerror=alert(1)&gt;" in correction
        assert "Step &lt;script&gt;alert(2)&lt;/script&gt; and &lt;img" in step


def test_titles_subtitles_and_authors_are_text_constructs(client, hostile):
    """Atom's default type is text: a reader shows the characters, never markup."""
    for raw in _feeds(client, hostile):
        feed = ET.fromstring(raw)
        texts = [feed.find(f"{ATOM}title"), feed.find(f"{ATOM}subtitle")]
        for entry in feed.findall(f"{ATOM}entry"):
            texts += [entry.find(f"{ATOM}title"), entry.find(f"{ATOM}author/{ATOM}name")]
        for element in texts:
            if element is None:
                continue
            assert element.get("type") in (None, "text")
            assert len(element) == 0  # no child elements
        parsed = feedparser.parse(raw)
        for entry in parsed.entries:
            assert entry.title_detail.type == "text/plain"
    per_commitment = feedparser.parse(_feeds(client, hostile)[1])
    assert per_commitment.feed.title == f"Promise {IMG}: status changes and corrections"
    assert per_commitment.feed.subtitle_detail.type == "text/plain"


def _text(html: str) -> str:
    class Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data):
            self.parts.append(data)

    parser = Text()
    parser.feed(html)
    return "".join(parser.parts)
