"""Method in public (issue 11): the methodology and about pages, read from the vocabulary
and the settings; every status badge and flag linked to its definition; and the editors'
checks ("checked, nothing new") shown as "last checked", which never resolve a flag."""

from __future__ import annotations

import datetime
import re
import uuid
from html import escape
from html.parser import HTMLParser

import pytest
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from commitments import checks, services, vocabulary
from commitments.models import Check, Commitment, Flag, FlagReason, PublicVersion, Status
from commitments.services.flags import flags_refresh

pytestmark = pytest.mark.django_db

CHECK_ADD = "/admin/commitments/check/add/"


def get(client, url, **kwargs):
    """An uncached render (the page cache emptied first), so settings changed in a test
    show."""
    cache.clear()
    response = client.get(url, **kwargs)
    assert response.status_code == 200, url
    return response.content.decode()


# --- The methodology page -----------------------------------------------------------------


def test_every_status_is_on_the_methodology_page_with_its_definition_and_anchor(client):
    html = get(client, "/methodology/")
    for status in Status:
        meaning = vocabulary.STATUS_DEFINITIONS[status]
        assert f'id="status-{status.value}"' in html, status
        assert escape(str(meaning.definition)) in html, status
        assert escape(str(meaning.example)) in html, status
        assert escape(str(status.label)) in html, status


def test_every_flag_rule_is_on_the_page_with_its_anchor(client):
    html = get(client, "/methodology/")
    for reason in FlagReason:
        assert f'id="flag-{reason.value}"' in html, reason
        assert escape(str(reason.label)) in html, reason
    assert 'id="last-checked"' in html
    assert 'id="verdicts-and-flags"' in html
    assert "/corrections/" in html
    assert "Wayback Machine" in html
    assert "International Fact-Checking Network" in html


def test_the_thresholds_shown_are_the_settings_read_at_request_time(client):
    with override_settings(
        STALL_AFTER_DAYS=90,
        LINK_CHECK_UNAVAILABLE_AFTER=3,
        CHECK_SOURCES_EVERY_DAYS=7,
        FLAG_STALLED_EVERY_HOURS=24,
    ):
        before = get(client, "/methodology/")
    with override_settings(
        STALL_AFTER_DAYS=45,
        LINK_CHECK_UNAVAILABLE_AFTER=5,
        CHECK_SOURCES_EVERY_DAYS=2,
        FLAG_STALLED_EVERY_HOURS=0.5,
    ):
        after = get(client, "/methodology/")
    assert "more than 90 days" in before and "more than 90 days" not in after
    assert "more than 45 days" in after
    assert "failed 3 times in a row" in before and "failed 5 times in a row" in after
    assert "every 7 days" in before.lower() and "every 2 days" in after.lower()
    assert "every 24 hours" in before and "every 0.5 hours" in after


def test_the_system_check_fails_when_a_status_or_flag_lacks_its_definition(monkeypatch):
    assert checks.vocabulary_is_defined() == []
    statuses = dict(vocabulary.STATUS_DEFINITIONS)
    del statuses[Status.UNCLEAR]
    monkeypatch.setattr(vocabulary, "STATUS_DEFINITIONS", statuses)
    errors = checks.vocabulary_is_defined()
    assert [error.id for error in errors] == ["commitments.E001"]
    assert "'unclear'" in errors[0].msg
    with pytest.raises(SystemCheckError, match="commitments.E001"):
        call_command("check")

    flags = dict(vocabulary.FLAG_DEFINITIONS)
    flags[FlagReason.DEADLINE_PASSED] = vocabulary.Meaning("", "An example.")
    monkeypatch.setattr(vocabulary, "FLAG_DEFINITIONS", flags)
    assert {error.id for error in checks.vocabulary_is_defined()} == {
        "commitments.E001",
        "commitments.E002",
    }


def test_the_about_page_says_who_runs_it_and_links_to_the_method(client):
    with override_settings(
        SITE_PUBLISHER="The <Example> Gazette", SITE_CONTACT_EMAIL="desk@example.org"
    ):
        html = get(client, "/about/")
        methodology = get(client, "/methodology/")
    assert 'href="/methodology/"' in html
    assert 'href="/corrections/"' in html
    assert "The &lt;Example&gt; Gazette" in html and "<Example>" not in html
    assert 'href="mailto:desk@example.org"' in html
    assert 'href="mailto:desk@example.org"' in methodology
    # Without a contact address set, the pages still say how to ask for a correction.
    assert "correction" in get(client, "/about/")


def test_navigation_links_to_methodology_and_about(client):
    html = get(client, "/")
    assert 'href="/methodology/"' in html and 'href="/about/"' in html
    assert 'aria-current="page">Methodology' in get(client, "/methodology/")


def test_the_pages_query_counts_are_fixed(client, django_assert_max_num_queries):
    for url in ("/methodology/", "/about/"):
        cache.clear()
        with django_assert_max_num_queries(2):
            assert client.get(url).status_code == 200


# --- Badges and flags link to their definitions --------------------------------------------


class LinkNesting(HTMLParser):
    """Records every <a> opened inside another <a>."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.nested = 0

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.nested += self.depth > 0
            self.depth += 1

    def handle_endtag(self, tag):
        if tag == "a":
            self.depth -= 1


def no_nested_links(html: str) -> bool:
    parser = LinkNesting()
    parser.feed(html)
    return parser.nested == 0


@pytest.fixture
def stalled(make_commitment, make_source, make_actor, make_topic, log_update):
    actor, topic = make_actor(), make_topic()
    commitment = make_commitment(actor=actor, title='France "to intercept" <boats>')
    commitment.topics.add(topic)
    log_update(commitment, sources=[make_source()], status="stalled")
    Flag.objects.create(
        commitment=commitment,
        reason=FlagReason.NO_RECENT_PROGRESS,
        raised_at=timezone.now(),
        since=datetime.date(2025, 8, 1),
    )
    return {"commitment": commitment, "actor": actor, "topic": topic}


def test_badges_and_flags_link_to_their_anchors_everywhere(client, stalled):
    commitment = stalled["commitment"]
    pages = [
        "/",
        "/commitments/",
        commitment.get_absolute_url(),
        stalled["actor"].get_absolute_url(),
        stalled["topic"].get_absolute_url(),
        f"/commitments/{commitment.slug}/embed/",
    ]
    for url in pages:
        html = get(client, url)
        assert 'href="/methodology/#status-stalled"' in html, url
        assert 'href="/methodology/#flag-no_recent_progress"' in html, url
        assert no_nested_links(html), url
    embed = get(client, f"/commitments/{commitment.slug}/embed/")
    assert re.search(r'href="/methodology/#status-stalled"[^>]*target="_blank"', embed)
    assert re.search(r'href="/methodology/#flag-no_recent_progress"[^>]*target="_blank"', embed)
    # The home page's status counts are links to the list: their badges are not links.
    home = get(client, "/")
    assert '?status=stalled"><span class="badge badge--stalled">' in home
    # Every status in a timeline entry links too.
    assert 'class="badge badge--stalled" href="/methodology/#status-stalled"' in get(
        client, commitment.get_absolute_url()
    )


def test_every_linked_anchor_exists_on_the_methodology_page(client, stalled):
    anchors = set(re.findall(r'id="([^"]+)"', get(client, "/methodology/")))
    for url in ("/", "/commitments/", stalled["commitment"].get_absolute_url()):
        for anchor in re.findall(r'href="/methodology/#([^"]+)"', get(client, url)):
            assert anchor in anchors, (url, anchor)


# --- Checks: the service ------------------------------------------------------------------


def record(commitment, **overrides):
    values = {
        "commitment": commitment,
        "checked_on": datetime.date(2025, 11, 3),
        "note": "Searched the prefecture's and the ministry's releases: nothing new.",
    }
    values.update(overrides)
    return services.check_record(**values)


def test_a_check_is_recorded_and_bumps_the_public_version(make_commitment, django_user_model):
    commitment = make_commitment()
    user = django_user_model.objects.create_user("checker", password="a long pass phrase")
    before = PublicVersion.objects.get().version
    check = record(commitment, recorded_by=user, note="  Nothing new.  ")
    assert check.note == "Nothing new." and check.recorded_by == user
    assert check.recorded_at is not None
    assert PublicVersion.objects.get().version > before
    assert list(Check.objects.public()) == [check]


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"note": "   "}, "note", "Say what was checked"),
        ({"checked_on": None}, "checked_on", "Give the date"),
        (
            {"checked_on": timezone.localdate() + datetime.timedelta(days=1)},
            "checked_on",
            "after today",
        ),
        ({"checked_on": datetime.date(1899, 12, 31)}, "checked_on", "before 1 January 1900"),
    ],
)
def test_a_check_is_refused_with_a_message_naming_the_field(
    make_commitment, overrides, field, words
):
    commitment = make_commitment()
    with pytest.raises(ValidationError) as refused:
        record(commitment, **overrides)
    assert list(refused.value.message_dict) == [field]
    assert words in refused.value.message_dict[field][0]
    assert not Check.objects.exists()


def test_the_database_refuses_a_check_out_of_range_or_without_a_note(make_commitment):
    commitment = make_commitment()
    for values in (
        {"checked_on": datetime.date(1899, 1, 1), "note": "x"},
        {
            "checked_on": datetime.date(2025, 1, 1),
            "note": "",
        },
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Check.objects.create(commitment=commitment, **values)


def test_checks_are_append_only_in_the_database(make_commitment):
    check = record(make_commitment())
    with pytest.raises(IntegrityError), transaction.atomic():
        Check.objects.filter(pk=check.pk).update(note="Rewritten.")
    with pytest.raises(IntegrityError), transaction.atomic():
        Check.objects.filter(pk=check.pk).delete()


def test_the_same_token_records_one_check(make_commitment):
    commitment = make_commitment()
    token = uuid.uuid4()
    first, created = services.check_record_once(
        idempotency_key=token,
        commitment=commitment,
        checked_on=datetime.date(2025, 11, 3),
        note="Nothing new.",
    )
    again, created_again = services.check_record_once(
        idempotency_key=str(token),
        commitment=commitment,
        checked_on=datetime.date(2025, 11, 3),
        note="Nothing new.",
    )
    assert created and not created_again and again == first
    assert Check.objects.count() == 1


def test_a_check_leaves_the_status_and_the_no_progress_flag_alone(
    make_commitment, make_source, log_update
):
    commitment = make_commitment(made_on=datetime.date(2025, 1, 10))
    log_update(
        commitment,
        sources=[make_source()],
        status="stalled",
        effective_on=datetime.date(2025, 2, 1),
    )
    today = datetime.date(2025, 11, 20)
    flags_refresh(today=today)
    flag = Flag.objects.open().get(commitment=commitment)
    assert flag.reason == FlagReason.NO_RECENT_PROGRESS

    record(commitment, checked_on=datetime.date(2025, 11, 19))
    report = flags_refresh(today=today)

    assert report.resolved[FlagReason.NO_RECENT_PROGRESS] == 0
    assert list(Flag.objects.open().filter(commitment=commitment)) == [flag]
    commitment.refresh_from_db()
    assert commitment.status == Status.STALLED
    assert commitment.status_since == datetime.date(2025, 2, 1)
    # Only progress resolves it.
    log_update(
        commitment,
        sources=[make_source()],
        status="in_progress",
        effective_on=datetime.date(2025, 11, 18),
    )
    flags_refresh(today=today)
    assert not Flag.objects.open().filter(commitment=commitment).exists()


# --- Checks: the admin --------------------------------------------------------------------


def check_form(commitment, token, **overrides):
    data = {
        "commitment": commitment.pk,
        "checked_on": "2025-11-03",
        "note": "Looked at the ministry's releases; nothing new.",
        "source": "",
        "form_token": str(token),
    }
    data.update(overrides)
    return data


def token_on_the_page(client, commitment) -> str:
    page = client.get(f"{CHECK_ADD}?commitment={commitment.pk}")
    assert page.status_code == 200
    match = re.search(
        r'<input type="hidden" name="form_token" value="([0-9a-f-]{36})"', page.content.decode()
    )
    assert match, "the form carries no one-time token"
    return match.group(1)


def test_an_editor_records_a_check_once_from_the_commitment_page(role_client, make_commitment):
    editor = role_client("Editor")
    commitment = make_commitment()
    change = editor.get(f"/admin/commitments/commitment/{commitment.pk}/change/").content.decode()
    assert f'href="{CHECK_ADD}?commitment={commitment.pk}"' in change
    assert "Record check" in change

    token = token_on_the_page(editor, commitment)
    first = editor.post(CHECK_ADD, check_form(commitment, token))
    second = editor.post(CHECK_ADD, check_form(commitment, token))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == f"/admin/commitments/commitment/{commitment.pk}/change/"
    check = Check.objects.get(commitment=commitment)
    assert check.recorded_by == editor.user and check.idempotency_key == uuid.UUID(token)
    said = [str(m) for m in get_messages(second.wsgi_request)]
    assert any(m.startswith("Already recorded") for m in said), said

    # Listed, read-only, on the commitment's page; never editable or deletable.
    change = editor.get(f"/admin/commitments/commitment/{commitment.pk}/change/").content.decode()
    assert "Looked at the ministry&#x27;s releases; nothing new." in change
    assert 'name="checks-0-note"' not in change
    assert editor.get(f"/admin/commitments/check/{check.pk}/delete/").status_code == 403
    listing = editor.get("/admin/commitments/check/")
    assert listing.status_code == 200 and "Looked at the ministry" in listing.content.decode()
    editor.post(f"/admin/commitments/check/{check.pk}/change/", check_form(commitment, token))
    assert Check.objects.get().note == check.note


def test_the_check_form_shows_the_services_messages_beside_the_fields(role_client, make_commitment):
    editor = role_client("Editor")
    commitment = make_commitment()
    token = token_on_the_page(editor, commitment)
    refused = editor.post(
        CHECK_ADD, check_form(commitment, token, note="", checked_on="2999-01-01")
    )
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert "Say what was checked" in errors["note"][0]
    assert errors["checked_on"], errors
    assert not Check.objects.exists()
    assert f'name="form_token" value="{token}"' in refused.content.decode()


def test_a_user_without_the_permission_cannot_record_a_check(role_client, make_commitment):
    admin_role = role_client("Admin")  # manages accounts; does not log the timeline
    commitment = make_commitment()
    assert admin_role.get(f"{CHECK_ADD}?commitment={commitment.pk}").status_code == 403
    response = admin_role.post(CHECK_ADD, check_form(commitment, uuid.uuid4()))
    assert response.status_code == 403
    assert not Check.objects.exists()
    publisher = role_client("Publisher")
    assert publisher.get(f"{CHECK_ADD}?commitment={commitment.pk}").status_code == 200


# --- Checks: public -----------------------------------------------------------------------


def test_the_commitment_page_shows_last_checked_beside_as_of(client, stalled):
    commitment = stalled["commitment"]
    html = get(client, commitment.get_absolute_url())
    assert "last checked" not in html
    record(commitment, checked_on=datetime.date(2025, 11, 3))
    record(commitment, checked_on=datetime.date(2025, 10, 1), note="An older look.")
    html = get(client, commitment.get_absolute_url())
    status_line = re.search(r'<p class="commitment__status">.*?</p>', html, re.S).group(0)
    assert "as of" in status_line
    assert 'href="/methodology/#last-checked">last checked</a>' in status_line
    assert '<time datetime="2025-11-03">3 November 2025</time>' in status_line
    # The list row shows it too.
    assert '<time datetime="2025-11-03">3 November 2025</time>' in get(client, "/commitments/")


def test_a_drafts_checks_are_not_public(make_commitment):
    draft = make_commitment(published=False)
    record(draft)
    assert not Check.objects.public().exists()
    assert Commitment.objects.public().with_last_checked().filter(pk=draft.pk).count() == 0


def test_last_checked_adds_no_query_per_row(client, make_commitment, django_assert_max_num_queries):
    def counted(url):
        cache.clear()
        with django_assert_max_num_queries(12) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    first = make_commitment()
    record(first)
    few = {url: counted(url) for url in ("/commitments/", first.get_absolute_url())}
    for _ in range(15):
        record(make_commitment())
    many = {url: counted(url) for url in ("/commitments/", first.get_absolute_url())}
    assert few == many


def test_the_api_gives_last_checked(client, make_commitment):
    commitment = make_commitment()
    assert client.get(f"/api/commitments/{commitment.slug}").json()["last_checked"] is None
    record(commitment, checked_on=datetime.date(2025, 11, 3))
    cache.clear()
    assert client.get(f"/api/commitments/{commitment.slug}").json()["last_checked"] == (
        "2025-11-03"
    )
    (item,) = client.get("/api/commitments").json()["items"]
    assert item["last_checked"] == "2025-11-03"


def test_the_sitemap_lists_the_methodology_and_about_pages(client):
    cache.clear()
    pages = client.get("/sitemap-pages.xml").content.decode()
    assert "http://testserver/methodology/</loc>" in pages
    assert "http://testserver/about/</loc>" in pages


def test_the_exports_give_last_checked_in_their_last_column(client, make_commitment):
    import csv
    import io
    import json

    checked = make_commitment(title="Checked")
    make_commitment(title="Never checked")
    record(checked, checked_on=datetime.date(2025, 11, 3))
    cache.clear()
    table = list(csv.reader(io.StringIO(client.get("/commitments.csv").getvalue().decode())))
    # After the columns issue 11 found there; the French ones (issue 13) come after it.
    header = table[0]
    assert header[-1] == "generated_at"
    assert header.index("last_checked") == header.index("title_fr") - 1
    column = header.index("last_checked")
    by_title = {row[0]: row for row in table[1:]}
    assert by_title["Checked"][column] == "2025-11-03"
    assert by_title["Never checked"][column] == ""
    rows = json.loads(client.get("/commitments.json").getvalue())["commitments"]
    assert {row["title"]: row["last_checked"] for row in rows} == {
        "Checked": "2025-11-03",
        "Never checked": "",
    }


@pytest.mark.parametrize("query", ["?page=x", "?q=%00", "?status=<script>", "?" + "a=1&" * 200])
def test_the_method_pages_never_fail_whatever_the_query_string(client, query):
    for url in ("/methodology/", "/about/"):
        cache.clear()
        response = client.get(url + query)
        assert response.status_code in (200, 400), (url, query, response.status_code)
        assert "<script>" not in response.content.decode()


def test_the_check_form_starts_on_the_commitment_and_today(role_client, make_commitment):
    editor = role_client("Editor")
    commitment = make_commitment()
    form = editor.get(f"{CHECK_ADD}?commitment={commitment.pk}").context["adminform"].form
    assert str(form.initial["commitment"]) == str(commitment.pk)
    assert form.initial["checked_on"] == timezone.localdate()
