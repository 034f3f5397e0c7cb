"""The public pages in English and French (issue 13): every page in both languages with its
``lang``, no English template string left on a French page (read from the public pages'
catalogue itself), dates and numbers in each language's format, a missing translation
marked, quotes in their own language beside our translation, the language switch keeping
the page and its filters, the page cache kept apart per language, and the same query
count in both."""

from __future__ import annotations

import ast
import datetime
import json
import re
import subprocess
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from commitments.dates import DatePrecision, format_vague_date
from commitments.models import (
    Actor,
    Commitment,
    Flag,
    FlagReason,
    Indicator,
    Observation,
    Statement,
    StatusUpdate,
    Topic,
)
from commitments.templatetags.tracker import day, number

pytestmark = pytest.mark.django_db

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"
NBSP = "\u00a0"


# --- The catalogue and the visible text -------------------------------------------------


def _po_strings(path: Path) -> list[str]:
    """Every msgid and msgid_plural of a .po file whose French differs from the English
    (a name kept as it is, "JSON Feed", is no English left over). Parsed here: polib is not
    installed."""
    entries, entry, key = [], {}, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) (\".*\")$", line)
        if match:
            key = match.group(1)
            if key in ("msgctxt", "msgid") and "msgid" in entry and any(
                name.startswith("msgstr") for name in entry
            ):
                entries.append(entry)
                entry = {}
            entry[key] = ast.literal_eval(match.group(2))
        elif line.startswith('"') and key:
            entry[key] += ast.literal_eval(line)
        else:
            key = None
    entries.append(entry)
    strings = []
    for entry in entries:
        french = {value for name, value in entry.items() if name.startswith("msgstr")}
        for name in ("msgid", "msgid_plural"):
            if entry.get(name) and entry[name] not in french:
                strings.append(entry[name])
    return strings


#: What may stand between the fixed words of a message: a placeholder or an HTML tag.
_BREAKS = re.compile(r"%\([^)]*\)[sd]|%[sd]|<[^>]+>|\{[^}]*\}")


def english_phrases() -> set[str]:
    """The fixed English of the public pages' messages: each message of two words or more,
    and, in a message with placeholders or tags, each run of three words or more between
    them ("%(counter)s commitments matching your filters" gives "commitments matching
    your filters"). Shorter runs ("are recorded") also occur in other parts' strings."""
    phrases = set()
    for message in _po_strings(CATALOGUE):
        pieces = _BREAKS.split(re.sub(r"<code>.*?</code>", "", message))  # code stays code
        least = 2 if len(pieces) == 1 else 3
        for piece in pieces:
            piece = " ".join(piece.replace("&nbsp;", " ").split()).strip(" .,:;()·")
            if len(re.findall(r"[A-Za-z']+", piece)) >= least:
                phrases.add(piece)
    return phrases


#: Sections of the pages left out of the check (none: every part shares the catalogue).
OTHER_PARTS: set[str] = set()


class _VisibleText(HTMLParser):
    """The text a reader meets: element text outside scripts and styles, the page title,
    and the attributes that are read out or shown (aria-label, title, alt, placeholder,
    a meta description's content). Sections in ``OTHER_PARTS`` are left out."""

    READ = {"aria-label", "title", "alt", "placeholder"}
    VOID = {"meta", "link", "input", "br", "img", "hr", "source", "area", "col", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []

    @property
    def skipping(self) -> bool:
        return any(skip for _tag, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        skip = tag in ("script", "style") or attrs.get("id") in OTHER_PARTS
        if not self.skipping and not skip:
            self.parts += [value for name, value in attrs.items() if name in self.READ and value]
            if tag == "meta" and attrs.get("name") == "description":
                self.parts.append(attrs.get("content") or "")
        if tag not in self.VOID:
            self.stack.append((tag, skip))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).replace(NBSP, " ").replace("\u202f", " ").split())


def phrases_in(text: str, phrases: set[str]) -> set[str]:
    return {phrase for phrase in phrases if phrase in text}


# --- Data -----------------------------------------------------------------------------------


@pytest.fixture
def bilingual(make_commitment, make_actor, make_topic, make_source, log_update):
    """A commitment with everything in both languages, one with no French at all, an
    English quote with our French translation, a French source and a charted indicator."""
    actor = make_actor(
        name="Home Office",
        name_fr="Ministère de l'Intérieur britannique",
        slug="home-office",
        kind=Actor.Kind.MINISTRY,
        role="UK interior ministry",
        role_fr="ministère de l'Intérieur du Royaume-Uni",
    )
    topic = make_topic(name="Returns", name_fr="Retours", slug="returns")
    english_source = make_source(title="Boats report", outlet="The Times", language="en")
    french_source = make_source(title="Rapport sur les bateaux", outlet="Le Monde", language="fr")
    translated = make_commitment(
        actor=actor,
        slug="stop-the-boats",
        title="Stop the boats",
        title_fr="Arrêter les bateaux",
        summary="Fewer crossings by the end of the year.",
        summary_fr="Moins de traversées d'ici la fin de l'année.",
        made_on=datetime.date(2025, 7, 1),
        made_precision=DatePrecision.MONTH,
        made_in=english_source,
        original_wording="We will stop the boats.",
        original_wording_language="en",
        original_wording_translation_fr="Nous arrêterons les bateaux.",
    )
    translated.topics.add(topic)
    update = log_update(
        translated,
        sources=[french_source],
        status="in_progress",
        effective_on=datetime.date(2025, 10, 24),
        description="Patrols began.",
    )
    StatusUpdate.objects.filter(pk=update.pk).update(description_fr="Les patrouilles ont commencé.")
    untranslated = make_commitment(
        actor=actor, slug="build-boats", title="Build patrol boats", summary="Two new boats."
    )
    untranslated.topics.add(topic)
    log_update(untranslated, sources=[english_source], status="stalled")
    statement = Statement.objects.create(
        text="We are making progress.",
        language="en",
        translation_fr="Nous progressons.",
        speaker=actor,
        speaker_description="A spokesman",
        speaker_description_fr="Un porte-parole",
        said_on=datetime.date(2025, 8, 2),
        source=english_source,
    )
    statement.commitments.add(translated)
    indicator = Indicator.objects.create(
        name="People crossing",
        name_fr="Personnes ayant traversé",
        slug="people-crossing",
        unit="people",
        unit_fr="personnes",
    )
    indicator.commitments.add(translated)
    for observed_on, value in (
        (datetime.date(2025, 6, 1), 12000),
        (datetime.date(2025, 10, 1), 36956),
    ):
        Observation.objects.create(
            indicator=indicator,
            observed_on=observed_on,
            observed_precision=DatePrecision.MONTH,
            value=value,
            source=english_source,
        )
    Flag.objects.create(
        commitment=untranslated,
        reason=FlagReason.NO_RECENT_PROGRESS,
        raised_at=datetime.datetime(2025, 11, 1, tzinfo=datetime.UTC),
        since=datetime.date(2025, 8, 1),
        since_precision=DatePrecision.MONTH,
    )
    return {
        "translated": translated,
        "untranslated": untranslated,
        "actor": actor,
        "topic": topic,
        "statement": statement,
    }


def public_paths(world) -> list[str]:
    slug = world["translated"].slug
    return [
        "/",
        "/commitments/",
        "/commitments/?status=in_progress&topic=returns",
        "/commitments/?q=boats",
        f"/commitments/{slug}/",
        f"/commitments/{slug}/changes/",
        f"/commitments/{slug}/embed/",
        "/actors/",
        f"/actors/{world['actor'].slug}/",
        "/topics/",
        f"/topics/{world['topic'].slug}/",
        "/corrections/",
        "/methodology/",
        "/about/",
        "/data/",
    ]


def get(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.content.decode()


# --- Every page in both languages -----------------------------------------------------------


def test_the_catalogue_is_read_and_has_many_phrases():
    phrases = english_phrases()
    assert len(phrases) > 150
    # From "%(counter)s commitments matching your filters":
    assert "commitments matching your filters" in phrases
    assert "Browse and search all commitments" in phrases


def test_every_public_page_in_both_languages_with_no_english_template_string_in_french(
    client, bilingual
):
    phrases = english_phrases()
    for path in [*public_paths(bilingual), "/no-such-page/"]:
        status = 404 if path == "/no-such-page/" else 200
        english = get(client, path, status)
        french = get(client, f"/fr{path}", status)
        assert '<html lang="en-gb">' in english, path
        assert '<html lang="fr">' in french, path
        # Not vacuous: the English page shows some of the catalogue's phrases...
        assert phrases_in(visible_text(english), phrases), path
        # ...and the French page none of them.
        assert phrases_in(visible_text(french), phrases) == set(), path


def test_the_check_fails_when_a_template_string_has_no_french():
    """The generic check catches an English string on a French page (what a string with
    no French entry would show)."""
    html = '<html lang="fr"><main><p>Aucun engagement publié.</p><p>Change history</p></main>'
    assert phrases_in(visible_text(html), english_phrases()) == {"Change history"}
    assert phrases_in(visible_text('<a title="Copy citation">x</a>'), english_phrases())


def test_error_pages_in_french(client, rf):
    from django.views.defaults import server_error

    html = get(client, "/fr/no-such-page/", 404)
    assert "Page introuvable" in html and 'href="/fr/commitments/"' in html
    with translation.override("fr"):
        page = server_error(rf.get("/fr/")).content.decode()
    assert '<html lang="fr">' in page and "Une erreur s'est produite de notre côté" in page
    assert 'href="/fr/commitments/"' in page


# --- Dates and numbers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "day", "month", "year"),
    [
        ("en-gb", "24 October 2025", "July 2025", "2025"),
        ("fr", "24 octobre 2025", "juillet 2025", "2025"),
    ],
)
def test_vague_dates_in_each_language(language, day, month, year):
    with translation.override(language):
        assert format_vague_date(datetime.date(2025, 10, 24), DatePrecision.DAY) == day
        assert format_vague_date(datetime.date(2025, 7, 1), DatePrecision.MONTH) == month
        assert format_vague_date(datetime.date(2025, 1, 1), DatePrecision.YEAR) == year


def test_the_first_of_the_month_in_french_is_an_ordinal():
    with translation.override("fr"):
        assert format_vague_date(datetime.date(2025, 8, 1), DatePrecision.DAY) == "1er août 2025"
        assert format_vague_date(datetime.date(2025, 8, 1), DatePrecision.MONTH) == "août 2025"
    with translation.override("en-gb"):
        assert format_vague_date(datetime.date(2025, 8, 1), DatePrecision.DAY) == "1 August 2025"
    # Moments (a correction recorded, a revision applied) are written the same way.
    noon = datetime.datetime(2025, 8, 1, 12, tzinfo=datetime.UTC)
    with translation.override("fr"):
        assert day(noon) == "1er août 2025" and day(datetime.date(2025, 8, 2)) == "2 août 2025"
    with translation.override("en-gb"):
        assert day(noon) == "1 August 2025"


def test_numbers_in_each_language():
    with translation.override("en-gb"):
        assert number(36956) == "36,956"
        assert number(Decimal("12.50")) == "12.5"
    with translation.override("fr"):
        # Django's French format separates thousands with a no-break space (U+00A0).
        assert number(36956) == f"36{NBSP}956"
        assert number(Decimal("12.50")) == "12,5"
        assert number(Decimal("1234.00")) == f"1{NBSP}234"


def test_pages_show_dates_and_numbers_in_their_language(client, bilingual):
    path = f"/commitments/{bilingual['translated'].slug}/"
    english, french = get(client, path), get(client, f"/fr{path}")
    assert "24 October 2025" in english and "July 2025" in english and "36,956" in english
    assert "24 octobre 2025" in french and "juillet 2025" in french
    assert f"36{NBSP}956" in french and "36,956" not in french
    assert "October" not in visible_text(french)
    # "as of" as each language writes it before a date known to the day.
    assert re.search(r'<span class="as-of">as of <time datetime="2025-10-24">24 October', english)
    assert re.search(r'<span class="as-of">depuis le <time datetime="2025-10-24">24 oct', french)
    assert ", depuis le 24 octobre 2025. " in french  # the commitment's citation


# --- Content in two languages ---------------------------------------------------------------


def test_a_missing_french_title_falls_back_to_english_marked(client, bilingual):
    html = get(client, f"/fr/commitments/{bilingual['untranslated'].slug}/")
    assert re.search(
        r'<h1><span lang="en">Build patrol boats</span> '
        r'<small class="untranslated">\(en anglais, pas encore traduit\)</small></h1>',
        html,
    )


def test_a_french_title_is_shown_unmarked(client, bilingual):
    html = get(client, f"/fr/commitments/{bilingual['translated'].slug}/")
    assert "<h1>Arrêter les bateaux</h1>" in html
    assert "<title>Arrêter les bateaux · " in html
    assert "Moins de traversées d&#x27;ici la fin de l&#x27;année." in html
    assert "Les patrouilles ont commencé." in html
    english = get(client, f"/commitments/{bilingual['translated'].slug}/")
    assert "<h1>Stop the boats</h1>" in english and "untranslated" not in english


def test_an_english_quote_on_a_french_page_with_our_translation(client, bilingual):
    html = get(client, f"/fr/commitments/{bilingual['translated'].slug}/")
    assert '<q lang="en">We are making progress.</q>' in html
    assert '<small class="quote-language">(en anglais)</small>' in html
    assert (
        f'<span class="our-translation" lang="fr">Notre traduction{NBSP}: '
        "<q>Nous progressons.</q></span>"
    ) in html
    # The promise's own words too (no marks added: an original wording carries its own
    # where it quotes), and the speaker described in French.
    assert '<span lang="en">We will stop the boats.</span>' in html
    assert "<span>Nous arrêterons les bateaux.</span>" in html
    assert "Un porte-parole (Ministère de l&#x27;Intérieur britannique)" in html
    # On the English page the quote is in its own language: no marker, no translation.
    english = get(client, f"/commitments/{bilingual['translated'].slug}/")
    assert '<q lang="en">We are making progress.</q>' in english
    assert "our-translation" not in english and "quote-language" not in english


def test_a_source_says_its_language_when_it_is_not_the_pages(client, bilingual):
    path = f"/commitments/{bilingual['translated'].slug}/"
    english, french = get(client, path), get(client, f"/fr{path}")
    assert '<small class="source-language">(in French)</small>' in english
    assert '<small class="source-language">(en anglais)</small>' in french
    assert "(en français)" not in french and "(in English)" not in english


def test_actor_topic_and_filter_menus_in_the_pages_language(client, bilingual):
    french = get(client, "/fr/commitments/")
    assert ">Ministère de l&#x27;Intérieur britannique (ministère de l&#x27;Intérieur" in french
    assert '<option value="returns">Retours</option>' in french
    assert '<option value="returns">Returns</option>' in get(client, "/commitments/")
    assert "<h1>Retours</h1>" in get(client, "/fr/topics/returns/")
    assert "<h1>Ministère de l&#x27;Intérieur britannique</h1>" in get(
        client, "/fr/actors/home-office/"
    )


def test_citations_chart_and_json_ld_in_the_pages_language(client, bilingual):
    html = get(client, f"/fr/commitments/{bilingual['translated'].slug}/")
    assert "(consulté le " in html and "(accessed " not in html
    assert "Personnes ayant traversé, en personnes" in html  # the chart's title
    [data] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    review = json.loads(data)
    assert review["inLanguage"] == "fr"
    assert review["claimReviewed"] == "Arrêter les bateaux"
    assert review["url"].endswith("/fr/commitments/stop-the-boats/")
    assert review["itemReviewed"]["author"][0]["name"] == "Ministère de l'Intérieur britannique"


def test_embed_card_and_oembed_in_french(client, bilingual):
    slug = bilingual["translated"].slug
    card = get(client, f"/fr/commitments/{slug}/embed/")
    assert '<html lang="fr">' in card and "Arrêter les bateaux" in card
    assert "Voir chaque étape et ses sources" in card
    page = f"{settings.SITE_URL}/fr/commitments/{slug}/"
    response = client.get("/fr/oembed/", {"url": page, "format": "json"})
    assert response.status_code == 200
    payload = response.json()
    assert response["Content-Language"] == "fr"
    assert payload["title"] == "Arrêter les bateaux"
    assert f'src="{settings.SITE_URL}/fr/commitments/{slug}/embed/"' in payload["html"]
    english = client.get("/oembed/", {"url": page.replace("/fr/", "/"), "format": "json"})
    assert english.json()["title"] == "Stop the boats"
    assert f"{settings.SITE_URL}/commitments/{slug}/embed/" in english.json()["html"]


def test_internal_links_stay_in_the_pages_language(client, bilingual):
    for path in public_paths(bilingual):
        html = get(client, f"/fr{path}")
        main = re.split(r"<main[^>]*>", html, maxsplit=1)[1].split("</main>", 1)[0]
        links = re.findall(r'href="(/[^"]*)"', main)
        english = [link for link in links if not link.startswith(("/fr/", "/static/", "/api/"))]
        # Only the exports and feeds (language-neutral data) may sit outside /fr/.
        assert all(
            link.startswith(("/commitments.csv", "/commitments.json", "/feeds/"))
            or link.endswith((".csv", ".json"))
            for link in english
        ), (path, english)


# --- Language switch and alternates ----------------------------------------------------------


def test_the_language_switch_keeps_the_page_and_its_filters(client, bilingual):
    query = "?status=in_progress&amp;topic=returns"
    french = get(client, "/fr/commitments/?status=in_progress&topic=returns")
    assert f'<a href="/commitments/{query}" hreflang="en-gb"' in french
    english = get(client, "/commitments/?status=in_progress&topic=returns")
    assert f'<a href="/fr/commitments/{query}" hreflang="fr"' in english
    # The filter is applied on both: one result, the same one.
    assert "Arrêter les bateaux" in french and "Build patrol boats" not in french
    assert 'value="in_progress" selected' in french


def test_hreflang_alternates_and_open_graph_locales(client, bilingual):
    path = f"/commitments/{bilingual['translated'].slug}/"
    site = settings.SITE_URL.rstrip("/")
    for html, locale, alternate in (
        (get(client, path), "en_GB", "fr_FR"),
        (get(client, f"/fr{path}"), "fr_FR", "en_GB"),
    ):
        assert f'<link rel="alternate" hreflang="en-gb" href="{site}{path}">' in html
        assert f'<link rel="alternate" hreflang="fr" href="{site}/fr{path}">' in html
        assert f'<link rel="alternate" hreflang="x-default" href="{site}{path}">' in html
        assert f'<meta property="og:locale" content="{locale}">' in html
        assert f'<meta property="og:locale:alternate" content="{alternate}">' in html


# --- The page cache and query counts ----------------------------------------------------------


def test_the_page_cache_keeps_each_language_apart(client, bilingual):
    cache.clear()
    first_en = client.get("/commitments/")
    first_fr = client.get("/fr/commitments/")
    assert (first_en["X-Cache"], first_fr["X-Cache"]) == ("miss", "miss")
    again_en, again_fr = client.get("/commitments/"), client.get("/fr/commitments/")
    assert (again_en["X-Cache"], again_fr["X-Cache"]) == ("hit", "hit")
    assert '<html lang="en-gb">' in again_en.content.decode()
    assert '<html lang="fr">' in again_fr.content.decode()
    assert "Engagements" not in visible_text(again_en.content.decode())
    assert again_en["ETag"] != again_fr["ETag"]
    assert again_en["Content-Language"] == "en-gb" and again_fr["Content-Language"] == "fr"
    # One language's ETag never validates the other's page.
    assert client.get("/fr/commitments/", HTTP_IF_NONE_MATCH=again_en["ETag"]).status_code == 200
    # The French page filled first: the English address still gets English.
    cache.clear()
    assert '<html lang="fr">' in client.get("/fr/").content.decode()
    assert '<html lang="en-gb">' in client.get("/").content.decode()


def _queries(client, django_assert_max_num_queries, path: str) -> int:
    cache.clear()
    with django_assert_max_num_queries(30) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_every_page_makes_as_many_queries_in_french_as_in_english(
    client, bilingual, django_assert_max_num_queries
):
    for path in public_paths(bilingual):
        english = _queries(client, django_assert_max_num_queries, path)
        french = _queries(client, django_assert_max_num_queries, f"/fr{path}")
        assert french == english, (path, english, french)


def test_menus_and_names_read_no_more_with_more_translated_records(
    client, bilingual, make_commitment, django_assert_max_num_queries
):
    before = _queries(client, django_assert_max_num_queries, "/fr/commitments/")
    for n in range(15):
        actor = Actor.objects.create(name=f"Actor {n}", name_fr=f"Acteur {n}", slug=f"a-{n}")
        topic = Topic.objects.create(name=f"Topic {n}", name_fr=f"Thème {n}", slug=f"t-{n}")
        make_commitment(actor=actor, title_fr=f"Engagement {n}").topics.add(topic)
    assert Commitment.objects.count() == 17
    assert _queries(client, django_assert_max_num_queries, "/fr/commitments/") == before


def test_the_403_page_in_french_under_the_french_admin(role_client, make_commitment):
    draft = make_commitment(published=False, slug="a-draft", title="A draft")
    response = role_client("Editor").post(f"/fr/admin/commitments/commitment/{draft.pk}/publish/")
    assert response.status_code == 403
    html = response.content.decode()
    assert '<html lang="fr">' in html and "Vous ne pouvez pas faire cela" in html
    # The admin's own wording (the path is the admin's under /fr/ too), linking back to it.
    assert "Votre rôle dans la rédaction ne permet pas cette action." in html
    assert 'href="/fr/admin/"' in html
    assert phrases_in(visible_text(html), english_phrases()) == set()


def test_the_preview_image_is_drawn_per_language(client, bilingual):
    path = f"/commitments/{bilingual['translated'].slug}/preview.png"
    english, french = client.get(path), client.get(f"/fr{path}")
    assert english.status_code == french.status_code == 200
    assert english["Content-Type"] == french["Content-Type"] == "image/png"
    # Another language, other words on the image: another fingerprint, another ETag.
    assert english["ETag"] != french["ETag"]
    assert english.content != french.content
    html = get(client, f"/fr/commitments/{bilingual['translated'].slug}/")
    assert f'<meta property="og:image" content="{settings.SITE_URL}/fr{path}">' in html


def test_htmx_fragments_in_the_pages_language(client, bilingual):
    htmx = {"HTTP_HX_REQUEST": "true"}
    fragment = client.get("/fr/commitments/?status=in_progress", **htmx).content.decode()
    assert "<html" not in fragment
    assert "1 engagement correspond à vos filtres" in fragment
    assert "Arrêter les bateaux" in fragment
    assert phrases_in(visible_text(fragment), english_phrases()) == set()
    english = client.get("/commitments/?status=in_progress", **htmx).content.decode()
    assert "1 commitment matching your filters" in english


def test_the_french_pages_are_valid_html(client, bilingual, tmp_path):
    """The Nu HTML Checker over every French page (the crawl of test_valid_html starts in
    English): the fallback markers, quotes and translations are valid where they sit."""
    from tests.test_valid_html import vnu_jar

    jar = vnu_jar()
    files = {}
    for index, path in enumerate([*public_paths(bilingual), "/no-such-page/"]):
        response = client.get(f"/fr{path}")
        file = tmp_path / f"page-{index:03}.html"
        file.write_text(response.content.decode(), encoding="utf-8")
        files[str(file.resolve())] = f"/fr{path}"
    result = subprocess.run(
        ["java", "-jar", str(jar), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    errors = [
        f"{files.get(m.get('url', '').removeprefix('file:'), m.get('url'))}: {m['message']}"
        for m in messages
        if m.get("type") in ("error", "non-document-error")
    ]
    assert not errors, "\n".join(errors)
