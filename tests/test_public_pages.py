"""The public pages: content, HTMX fragments, bad input, 404s and 405s, drafts hidden,
escaping, and query counts that do not grow with the data."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from commitments.models import (
    Commitment,
    CommitmentActor,
    CommitmentRelation,
    Flag,
    FlagReason,
    Indicator,
    Observation,
    Source,
    Statement,
    StatusUpdate,
)
from commitments.selectors import TIMELINE_PAGE_SIZE

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def rows(html: str) -> int:
    return html.count('class="commitment-row"')


def make_flag(commitment, reason=FlagReason.NO_RECENT_PROGRESS, **kwargs):
    values = {
        "raised_at": timezone.now(),
        "since": datetime.date(2025, 7, 1),
        "since_precision": "month",
    }
    values.update(kwargs)
    return Flag.objects.create(commitment=commitment, reason=reason, **values)


def make_statement(commitment, source, text="Something was said.", **kwargs):
    values = {
        "text": text,
        "speaker_description": "An official",
        "said_on": datetime.date(2025, 8, 2),
        "source": source,
    }
    values.update(kwargs)
    statement = Statement.objects.create(**values)
    statement.commitments.add(commitment)
    return statement


# --- Overview -------------------------------------------------------------------------------


def test_overview_has_linked_status_counts_flags_recent_and_indicators(client, seeded):
    taxi = Commitment.objects.get(slug="intercept-taxi-boats")
    make_flag(taxi, since=datetime.date(2025, 7, 1), since_precision="month")
    html = html_of(client.get("/"))
    # Every status is named, linked to the list filtered by it, with its count beside it.
    for value, label, count in [
        ("stalled", "Stalled", 2),
        ("in_progress", "In progress", 1),
        ("unclear", "Unclear", 1),
        ("kept", "Kept", 0),
    ]:
        assert re.search(
            rf'href="/commitments/\?status={value}">(?:(?!</a>).)*{label}(?:(?!</a>).)*</a>'
            rf"\s*<strong>{count}</strong>",
            html,
            re.S,
        )
    assert "No recorded progress since July 2025" in html
    assert taxi.title.replace('"', "&quot;") in html
    assert "Recently changed" in html
    assert "36,956 people" in html and "Whole of 2024" in html


# --- List: filters, search, sort, pagination, HTMX -------------------------------------------


def test_list_filters_by_status_actor_topic_and_flag(client, seeded):
    taxi = Commitment.objects.get(slug="intercept-taxi-boats")
    make_flag(taxi)
    assert rows(html_of(client.get("/commitments/"))) == 4
    assert rows(html_of(client.get("/commitments/?status=stalled"))) == 2
    html = html_of(client.get("/commitments/?status=in_progress"))
    assert rows(html) == 1 and "one in, one out" in html
    html = html_of(client.get("/commitments/?actor=home-office"))
    assert rows(html) == 2 and "maritime doctrine" in html and "one in, one out" in html
    assert rows(html_of(client.get("/commitments/?topic=returns-agreements"))) == 1
    html = html_of(client.get("/commitments/?flagged=yes"))
    assert rows(html) == 1 and "taxi boats" in html
    assert "No recorded progress since July 2025" in html
    assert rows(html_of(client.get("/commitments/?flagged=no"))) == 3
    assert rows(html_of(client.get("/commitments/?status=stalled&topic=returns-agreements"))) == 0


def test_list_filters_by_date_made(client, make_commitment):
    make_commitment(title="Old promise", made_on=datetime.date(2024, 3, 1))
    make_commitment(title="New promise", made_on=datetime.date(2025, 9, 1))
    html = html_of(client.get("/commitments/?made_from=2025-01-01"))
    assert "New promise" in html and "Old promise" not in html
    html = html_of(client.get("/commitments/?made_to=2024-12-31"))
    assert "Old promise" in html and "New promise" not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("slashing", {"intercept-taxi-boats"}),  # a paraphrased statement
        ("taxi", {"intercept-taxi-boats", "french-maritime-doctrine-shallow-waters"}),
        ("deter", {"one-in-one-out-returns-deal"}),  # summary and original wording
        ("shallow waters", {"french-maritime-doctrine-shallow-waters"}),
        ("blah", {"french-maritime-doctrine-shallow-waters"}),  # quote
        ("disaster", {"french-maritime-doctrine-shallow-waters"}),  # statement only
        ('"political stunt"', {"french-maritime-doctrine-shallow-waters"}),
        ("smash the gangs", {"smash-the-gangs"}),
        ('"whatever it takes"', {"smash-the-gangs", "french-maritime-doctrine-shallow-waters"}),
        ("zeppelin", set()),
    ],
)
def test_search_covers_titles_summaries_wording_and_statements(client, seeded, query, expected):
    html = html_of(client.get("/commitments/", {"q": query}))
    found = {c.slug for c in Commitment.objects.all() if f'href="{c.get_absolute_url()}"' in html}
    assert found == expected


def test_list_sorts_by_recent_change_date_made_and_deadline(client, make_commitment):
    early = make_commitment(
        title="Made early", made_on=datetime.date(2024, 1, 1), deadline=datetime.date(2026, 1, 1)
    )
    late = make_commitment(
        title="Made late", made_on=datetime.date(2025, 6, 1), deadline=datetime.date(2025, 12, 1)
    )
    Commitment.objects.filter(pk=early.pk).update(status_since=datetime.date(2025, 9, 1))
    Commitment.objects.filter(pk=late.pk).update(status_since=datetime.date(2025, 7, 1))

    def order(sort):
        html = html_of(client.get("/commitments/", {"sort": sort} if sort else {}))
        return [title for title in ("Made early", "Made late") if title in html] and sorted(
            ("Made early", "Made late"), key=html.index
        )

    assert order(None) == ["Made early", "Made late"]  # recently changed is the default
    assert order("changed") == ["Made early", "Made late"]
    assert order("made") == ["Made late", "Made early"]
    assert order("deadline") == ["Made late", "Made early"]


def test_list_paginates_and_keeps_the_filters_in_page_links(client, make_commitment):
    for n in range(25):
        make_commitment(title=f"Numbered promise {n:02d}", status="stalled")
    html = html_of(client.get("/commitments/?status=stalled"))
    assert rows(html) == 20 and "Page 1 of 2" in html
    assert 'href="?status=stalled&amp;page=2"' in html
    assert 'data-hx-get="?status=stalled&amp;page=2"' in html
    html = html_of(client.get("/commitments/?status=stalled&page=2"))
    assert rows(html) == 5 and "Page 2 of 2" in html


def test_htmx_request_gets_only_the_results_fragment(client, seeded):
    full = html_of(client.get("/commitments/?status=stalled"))
    fragment = html_of(client.get("/commitments/?status=stalled", **HTMX))
    assert "<html" not in fragment and "<form" not in fragment
    assert rows(fragment) == 2 == rows(full)
    # The fragment is the same markup the full page holds (one template).
    assert fragment.strip() in full
    response = client.get("/commitments/?status=stalled", **HTMX)
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_whole_page(client, seeded):
    html = html_of(
        client.get("/commitments/?status=stalled", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    )
    assert "<html" in html and rows(html) == 2


def test_filter_form_works_without_javascript(client, seeded):
    html = html_of(client.get("/commitments/?status=stalled"))
    form = re.search(r"<form class=\"filters.*?</form>", html, re.S).group(0)
    assert 'method="get"' in form and 'action="/commitments/"' in form
    assert '<button type="submit">' in form
    assert '<option value="stalled" selected>' in form
    for name in ("q", "status", "actor", "topic", "flagged", "made_from", "made_to", "sort"):
        assert f'<label for="id_{name}">' in form and f'id="id_{name}"' in form


# --- Bad input ----------------------------------------------------------------------------

NASTY = [
    "",
    "'",
    '"',
    "\\",
    "%",
    "%00",
    # "\x00": refused with 400 before any view (commitments.middleware), see test_outputs_api.py
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "!!! & | :* ()",
    "x" * 5000,
    "ü" * 300,
    "🙂",
    "-",
    "\u202e",
]


@pytest.mark.parametrize("value", NASTY)
def test_odd_search_text_never_breaks_the_list(client, seeded, value):
    response = client.get("/commitments/", {"q": value})
    assert response.status_code == 200
    assert client.get("/commitments/", {"q": value}, **HTMX).status_code == 200
    assert client.get("/commitments.json", {"q": value}).status_code == 200
    assert client.get("/api/commitments", {"q": value}).status_code == 200


@pytest.mark.parametrize(
    ("name", "value", "label"),
    [
        ("status", "nonsense", "Status"),
        ("actor", "no-such-actor", "Who"),
        ("topic", "'; drop table", "Topic"),
        ("flagged", "maybe", "Flags"),
        ("made_from", "2025-13-45", "Made on or after"),
        ("made_to", "99999-01-01", "Made on or before"),
        ("sort", "random", "Sort by"),
    ],
)
def test_unknown_filter_values_give_the_unfiltered_list_with_the_filter_named(
    client, seeded, name, value, label
):
    html = html_of(client.get("/commitments/", {name: value}))
    assert rows(html) == 4
    notice = re.search(r'<div class="notice".*?</div>', html, re.S).group(0)
    assert f"<strong>{label}</strong> (<code>{name}</code>)" in notice


@pytest.mark.parametrize("page", ["abc", "-1", "0", "1.5", "99999999999999999999999", "", "%00"])
def test_malformed_page_numbers_never_break_a_page(client, seeded, page):
    assert client.get("/commitments/", {"page": page}).status_code == 200
    assert client.get("/commitments/intercept-taxi-boats/", {"page": page}).status_code == 200
    assert (
        client.get("/commitments/intercept-taxi-boats/", {"page": page}, **HTMX).status_code == 200
    )
    assert client.get("/corrections/", {"page": page}).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/commitments/no-such-promise/",
        "/commitments/no-such-promise/embed/",
        "/actors/nobody/",
        "/topics/nothing/",
        "/feeds/commitments/no-such-promise/",
        "/api/commitments/no-such-promise",
        "/api/commitments/no-such-promise/timeline",
        "/api/actors/nobody",
        "/api/sources/999999",
    ],
)
def test_unknown_slugs_are_404(client, seeded, url):
    assert client.get(url).status_code == 404


def test_404_page_is_friendly(client, seeded):
    response = client.get("/commitments/no-such-promise/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in html and 'href="/commitments/"' in html


def test_500_page_is_friendly(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert 'lang="en-gb"' in html and "Something went wrong on our side" in html


PUBLIC_URLS = [
    "/",
    "/commitments/",
    "/commitments/intercept-taxi-boats/",
    "/commitments/intercept-taxi-boats/embed/",
    "/actors/keir-starmer/",
    "/topics/returns-agreements/",
    "/corrections/",
    "/feeds/changes/",
    "/feeds/commitments/intercept-taxi-boats/",
    "/commitments.csv",
    "/commitments.json",
    "/sitemap.xml",
    "/robots.txt",
]


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_urls_answer_only_get_and_head(client, seeded, url):
    assert client.get(url).status_code == 200
    assert client.head(url).status_code == 200
    for method in (client.post, client.put, client.patch, client.delete):
        response = method(url)
        assert response.status_code == 405, (method, response.status_code)
        assert "GET" in response["Allow"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/commitments",
        "/api/commitments/intercept-taxi-boats",
        "/api/commitments/intercept-taxi-boats/timeline",
        "/api/actors",
        "/api/actors/keir-starmer",
        "/api/sources",
        "/api/indicators",
    ],
)
def test_api_answers_only_get(client, seeded, url):
    # HEAD is not offered on the API: ninja would describe it as a second operation with
    # the same operationId, which makes the OpenAPI description invalid.
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 405
    assert client.delete(url).status_code == 405


# --- Commitment page ----------------------------------------------------------------------


@pytest.fixture
def rich_commitment(make_commitment, make_actor, make_source, log_update, make_topic):
    minister = make_actor(name="Minister of Boats")
    ministry = make_actor(name="Ministry of Boats")
    commitment = make_commitment(
        actor=minister,
        title="Build ten patrol boats",
        original_wording="We will build ten patrol boats by the end of next year.",
        made_on=datetime.date(2025, 7, 1),
        made_precision="month",
        made_in=make_source(title="The pledge speech", outlet="Gazette"),
        deadline=datetime.date(2026, 1, 1),
        deadline_precision="year",
    )
    commitment.topics.add(make_topic(name="Boats"))
    CommitmentActor.objects.create(commitment=commitment, actor=ministry, role="responsible")
    archived = make_source(title="Keel laid", outlet="Harbour News")
    Source.objects.filter(pk=archived.pk).update(archive_url="https://web.archive.org/x/1")
    first = log_update(
        commitment,
        sources=[archived],
        effective_on=datetime.date(2025, 8, 1),
        description="The first keel was laid.",
    )
    correction = log_update(
        commitment,
        sources=[make_source(title="Correction source", outlet="Harbour News")],
        effective_on=datetime.date(2025, 8, 1),
        status="not_started",
        description="No keel had been laid yet.",
        corrects=first,
        correction_note="The keel in the photo belonged to a ferry.",
    )
    statement = make_statement(
        commitment,
        archived,
        text="We are ahead of schedule.",
        said_on=datetime.date(2025, 9, 1),
        said_precision="month",
        kind="quote",
    )
    indicator = Indicator.objects.create(
        name="Patrol boats built", slug="boats-built", unit="boats"
    )
    indicator.commitments.add(commitment)
    observation = Observation.objects.create(
        indicator=indicator,
        observed_on=datetime.date(2025, 10, 1),
        observed_precision="month",
        value=2,
        source=archived,
    )
    other = make_commitment(title="Crew the patrol boats")
    draft = make_commitment(title="Secret sibling draft", published=False)
    CommitmentRelation.objects.create(
        from_commitment=other, to_commitment=commitment, kind="depends_on"
    )
    CommitmentRelation.objects.create(
        from_commitment=commitment, to_commitment=draft, kind="part_of"
    )
    make_flag(commitment, since=datetime.date(2025, 8, 1), since_precision="month")
    commitment.refresh_from_db()
    return {
        "commitment": commitment,
        "first": first,
        "correction": correction,
        "statement": statement,
        "observation": observation,
    }


def test_commitment_page_shows_everything_a_journalist_needs(client, rich_commitment):
    commitment = rich_commitment["commitment"]
    html = html_of(client.get(commitment.get_absolute_url()))
    assert "<h1>Build ten patrol boats</h1>" in html
    assert (
        'Not started</a> <span class="as-of">as of <time datetime="2025-08-01">1 August 2025'
        in html
    )
    assert "No recorded progress since August 2025" in html
    assert "Made the promise</dt><dd><a" in html and "Minister of Boats" in html
    assert "Responsible for delivering it</dt><dd><a" in html and "Ministry of Boats" in html
    assert "We will build ten patrol boats by the end of next year." in html
    assert "Gazette: The pledge speech" in html
    assert '<time datetime="2026">2026</time>' in html  # the deadline, at its precision
    # Made "July 2025", at its precision, never "1 July 2025".
    assert '<dt>Made</dt><dd><time datetime="2025-07">July 2025</time>' in html
    assert "This commitment is needed by" in html and "Crew the patrol boats" in html
    assert "Secret sibling draft" not in html
    # One observation: the figure as a number with its "as of" and source, not a chart.
    assert '<strong class="indicator__value">2 boats</strong>, as of' in html
    assert 'aria-labelledby="indicator-boats-built-title"' not in html
    assert 'href="https://web.archive.org/x/1">archived copy</a>' in html
    assert "Cite this" in html
    assert (
        "Build ten patrol boats. Status: Not started, as of 1 August 2025. Commitment Tracker. "
        "http://127.0.0.1:8000/commitments/" in html
    )
    assert f'href="/feeds/commitments/{commitment.slug}/"' in html
    assert 'rel="alternate" type="application/atom+xml"' in html


def test_timeline_merges_events_newest_first_with_permalinks_and_corrections_beside(
    client, rich_commitment
):
    commitment = rich_commitment["commitment"]
    html = html_of(client.get(commitment.get_absolute_url()))
    first, correction = rich_commitment["first"], rich_commitment["correction"]
    anchors = [
        f'id="observation-{rich_commitment["observation"].pk}"',
        f'id="statement-{rich_commitment["statement"].pk}"',
        f'id="update-{first.pk}"',
    ]
    positions = [html.index(anchor) for anchor in anchors]
    assert positions == sorted(positions)  # October, September, August: newest first
    for anchor in anchors:
        name = anchor.split('"')[1]
        assert f'href="#{name}"' in html
    # The correction sits inside the entry it corrects, with its own anchor and sources.
    entry = html[html.index(f'id="update-{first.pk}"') :]
    entry = entry[: entry.index("</aside>")]
    assert f'id="update-{correction.pk}"' in entry
    assert "The keel in the photo belonged to a ferry." in entry
    assert "Harbour News: Correction source" in entry
    assert html.count(f'id="update-{correction.pk}"') == 1


def test_long_timeline_loads_earlier_events_with_htmx_and_a_plain_link(
    client, make_commitment, make_source, log_update
):
    commitment = make_commitment()
    source = make_source()
    for day in range(TIMELINE_PAGE_SIZE + 5):
        log_update(
            commitment,
            sources=[source],
            effective_on=datetime.date(2025, 8, 1) + datetime.timedelta(days=day),
            description=f"Step {day + 1}.",
        )
    url = commitment.get_absolute_url()
    html = html_of(client.get(url))
    assert html.count('class="event event--update"') == TIMELINE_PAGE_SIZE
    assert "Step 25." in html and "<p>Step 5.</p>" not in html
    assert 'href="?page=2#timeline" data-hx-get="?page=2"' in html and "Load earlier events" in html

    fragment = html_of(client.get(url, {"page": 2}, **HTMX))
    assert "<html" not in fragment and "<h1>" not in fragment
    assert fragment.count('class="event event--update"') == 5
    assert "<p>Step 5.</p>" in fragment and "Load earlier events" not in fragment

    plain = html_of(client.get(url, {"page": 2}))
    assert plain.count('class="event event--update"') == TIMELINE_PAGE_SIZE + 5
    assert "Load earlier events" not in plain


def test_embed_card_may_be_framed_and_other_pages_may_not(client, seeded):
    embed = client.get("/commitments/intercept-taxi-boats/embed/")
    html = html_of(embed)
    assert "X-Frame-Options" not in embed
    assert "Stalled" in html and "as of" in html and 'target="_blank"' in html
    assert client.get("/commitments/intercept-taxi-boats/")["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("url", "title", "description"),
    [
        ("/", "Government commitments on Channel crossings", "What governments promised"),
        ("/commitments/", "Commitments", "Browse and search"),
        (
            "/commitments/intercept-taxi-boats/",
            "Intercept the &quot;taxi boats&quot;",
            "Stalled as of October 2025",
        ),
        ("/actors/keir-starmer/", "Keir Starmer: commitments", "Keir Starmer"),
        ("/topics/returns-agreements/", "Returns agreements: commitments", "Deals to send"),
        ("/corrections/", "Corrections", "Every correction"),
    ],
)
def test_each_page_has_its_title_description_and_open_graph_tags(
    client, seeded, url, title, description
):
    html = html_of(client.get(url))
    assert re.search(rf"<title>[^<]*{re.escape(title)}", html)
    assert re.search(rf'<meta name="description" content="[^"]*{re.escape(description)}', html)
    assert '<meta property="og:title" content="' in html
    assert f'<meta property="og:url" content="http://127.0.0.1:8000{url}">' in html
    assert '<html lang="en-gb">' in html and '<main id="main"' in html


def test_actor_and_topic_pages_show_status_counts(client, seeded):
    html = html_of(client.get("/actors/keir-starmer/"))
    counts = re.search(r'<ul class="status-counts">.*?</ul>', html, re.S).group(0)
    assert re.search(r"Stalled</a> <strong>1</strong>", counts)
    assert re.search(r"Not started</a> <strong>0", counts) is None  # zero rows are left out
    assert re.search(r"In progress</a> <strong>1</strong>", counts)
    assert re.search(r"Unclear</a> <strong>1</strong>", counts)
    assert rows(html) == 3


# --- Corrections page ---------------------------------------------------------------------


def test_corrections_page_lists_corrections_newest_first_with_both_links(
    client, make_commitment, make_source, log_update
):
    commitment = make_commitment(title="Corrected promise")
    draft = make_commitment(title="Draft promise", published=False)
    source = make_source()
    entry = log_update(commitment, sources=[source])
    older = log_update(commitment, sources=[source], corrects=entry, correction_note="Older fix.")
    newer = log_update(commitment, sources=[source], corrects=entry, correction_note="Newer fix.")
    draft_entry = log_update(draft, sources=[source])
    log_update(draft, sources=[source], corrects=draft_entry, correction_note="Draft fix.")

    html = html_of(client.get("/corrections/"))
    assert html.index("Newer fix.") < html.index("Older fix.")
    url = commitment.get_absolute_url()
    assert f'href="{url}#update-{entry.pk}"' in html
    assert f'href="{url}#update-{newer.pk}">Read the correction' in html
    assert f'href="{url}#update-{older.pk}">Read the correction' in html
    assert "Draft fix." not in html and "Draft promise" not in html


# --- Drafts never shown -------------------------------------------------------------------


def test_drafts_never_appear_on_any_public_page_feed_export_api_or_sitemap(
    client, seeded, make_commitment, make_source, log_update
):
    draft = make_commitment(
        title="Zanzibar draft promise",
        slug="zanzibar-draft",
        published=False,
        summary="Zanzibar summary text",
    )
    secret = make_source(title="Zanzibar secret source", url="https://secret.example.org/z")
    entry = log_update(draft, sources=[secret], description="Zanzibar step", status="stalled")
    log_update(draft, sources=[secret], corrects=entry, correction_note="Zanzibar correction")
    make_flag(draft)
    make_statement(draft, secret, text="Zanzibar statement")
    draft.topics.add(*seeded_topics())

    urls = [
        "/",
        "/commitments/",
        "/commitments/?q=zanzibar",
        "/commitments/?status=stalled",
        "/commitments/?flagged=yes",
        "/actors/" + draft.roles.get().actor.slug + "/",
        "/topics/channel-crossings/",
        "/corrections/",
        "/feeds/changes/",
        "/commitments.csv",
        "/commitments.json",
        "/commitments.json?q=zanzibar",
        "/api/commitments",
        "/api/commitments?q=zanzibar",
        "/api/sources",
        "/api/actors",
        "/sitemap.xml",
        "/sitemap-commitments.xml",
        "/sitemap-actors.xml",
        "/sitemap-topics.xml",
    ]
    for url in urls:
        body = client.get(url).getvalue().decode()  # getvalue: the exports stream
        assert "Zanzibar" not in body, url  # the search box echoes "zanzibar", lower-case
    for url in [
        draft.get_absolute_url(),
        f"{draft.get_absolute_url()}embed/",
        "/feeds/commitments/zanzibar-draft/",
        "/api/commitments/zanzibar-draft",
        "/api/commitments/zanzibar-draft/timeline",
        f"/api/sources/{secret.pk}",
    ]:
        assert client.get(url).status_code == 404, url


def seeded_topics():
    from commitments.models import Topic

    return list(Topic.objects.all())


# --- Escaping -----------------------------------------------------------------------------


def test_form_input_is_escaped_on_every_public_page(
    client, make_commitment, make_source, log_update
):
    script = "<script>alert('x')</script>"
    commitment = make_commitment(
        title=f"Title {script}",
        slug="escaped",
        summary=f"Summary {script}",
        original_wording=f"Wording {script}",
    )
    source = make_source(title=f"Source {script}", outlet=f"Outlet {script}")
    entry = log_update(commitment, sources=[source], description=f"Step {script}")
    log_update(commitment, sources=[source], corrects=entry, correction_note=f"Fix {script}")
    make_statement(commitment, source, text=f"Statement {script}")
    actor = commitment.roles.get().actor
    actor.name = f"Actor {script}"
    actor.save()
    for url in [
        "/",
        "/commitments/",
        "/commitments/?q=alert",
        commitment.get_absolute_url(),
        f"{commitment.get_absolute_url()}embed/",
        f"/actors/{actor.slug}/",
        "/corrections/",
        f"/commitments/?q={script}",
    ]:
        body = client.get(url).content.decode()
        assert "<script>alert" not in body, url
        assert "&lt;script&gt;alert(" in body, url
    html = client.get(commitment.get_absolute_url()).content.decode()
    for part in ("Title", "Summary", "Wording", "Source", "Outlet", "Step", "Fix", "Statement"):
        assert f"{part} &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html, part


# --- Query counts ---------------------------------------------------------------------------


def count_queries(client, django_assert_max_num_queries, url, limit, **headers):
    """Queries of an uncached render (the page cache emptied first); a cached repeat may
    use fewer, never more."""
    cache.clear()
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(url, **headers)
        response.getvalue()  # a streamed export reads its rows as it is consumed
    assert response.status_code == 200
    with django_assert_max_num_queries(len(captured)):
        assert client.get(url, **headers).status_code == 200
    return len(captured)


def test_list_and_overview_query_counts_do_not_grow_with_commitments(
    client, make_commitment, make_topic, make_source, log_update, django_assert_max_num_queries
):
    topic = make_topic()
    source = make_source()

    def add(n):
        for _ in range(n):
            commitment = make_commitment()
            commitment.topics.add(topic)
            log_update(commitment, sources=[source])
            make_flag(commitment)

    add(1)
    urls = [
        "/",
        "/commitments/",
        "/commitments/?status=in_progress&flagged=yes&q=promised",
        f"/topics/{topic.slug}/",
        "/commitments.csv",
        "/commitments.json",
        "/feeds/changes/",
        "/api/commitments",
        "/corrections/",
        "/sitemap.xml",
        "/sitemap-commitments.xml",
    ]
    small = {url: count_queries(client, django_assert_max_num_queries, url, 12) for url in urls}
    small["htmx"] = count_queries(
        client, django_assert_max_num_queries, "/commitments/?q=promised", 12, **HTMX
    )
    add(99)
    assert Commitment.objects.count() == 100
    large = {url: count_queries(client, django_assert_max_num_queries, url, 12) for url in urls}
    large["htmx"] = count_queries(
        client, django_assert_max_num_queries, "/commitments/?q=promised", 12, **HTMX
    )
    assert small == large


def test_timeline_query_count_is_the_same_for_1_and_200_events(
    client, make_commitment, make_source, log_update, django_assert_max_num_queries
):
    def build(n_updates, n_statements, n_observations):
        commitment = make_commitment(made_on=datetime.date(2024, 1, 1))
        sources = [make_source(), make_source()]
        indicator = Indicator.objects.create(
            name=f"Indicator for {commitment.slug}", slug=f"ind-{commitment.slug}", unit="people"
        )
        indicator.commitments.add(commitment)
        start = datetime.date(2025, 1, 1)

        def spread(i, n):  # each kind spread over the same 200 days, so every page mixes them
            return start + datetime.timedelta(days=i * 200 // n)

        for i in range(n_updates):
            update = log_update(commitment, sources=sources, effective_on=spread(i, n_updates))
            if i % 10 == 0:
                log_update(
                    commitment,
                    sources=sources,
                    corrects=update,
                    correction_note="Fixed.",
                    effective_on=spread(i, n_updates),
                )
        for i in range(n_statements):
            make_statement(commitment, sources[0], said_on=spread(i, n_statements))
        for i in range(n_observations):
            Observation.objects.create(
                indicator=indicator,
                observed_on=spread(i, n_observations),
                value=i,
                source=sources[1],
            )
        return commitment

    one = build(1, 1, 1)
    many = build(100, 60, 40)
    assert StatusUpdate.objects.filter(commitment=many, corrects=None).count() == 100
    for page in ("", "?page=3", "?page=9"):
        few = count_queries(
            client, django_assert_max_num_queries, one.get_absolute_url() + page, 16
        )
        lots = count_queries(
            client, django_assert_max_num_queries, many.get_absolute_url() + page, 16
        )
        assert few == lots, page
    few = count_queries(client, django_assert_max_num_queries, one.get_absolute_url(), 12, **HTMX)
    lots = count_queries(
        client, django_assert_max_num_queries, many.get_absolute_url() + "?page=2", 12, **HTMX
    )
    assert few == lots
    for url in ("/api/commitments/{}/timeline", "/feeds/commitments/{}/", "/commitments/{}/embed/"):
        assert count_queries(
            client, django_assert_max_num_queries, url.format(one.slug), 16
        ) == count_queries(client, django_assert_max_num_queries, url.format(many.slug), 16)


def test_actor_page_query_count_does_not_grow(
    client, make_actor, make_commitment, django_assert_max_num_queries
):
    actor = make_actor()
    make_commitment(actor=actor)
    url = reverse("commitments:actor_detail", args=[actor.slug])
    few = count_queries(client, django_assert_max_num_queries, url, 10)
    for _ in range(50):
        make_commitment(actor=actor)
    assert few == count_queries(client, django_assert_max_num_queries, url, 10)
