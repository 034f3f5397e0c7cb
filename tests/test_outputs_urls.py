"""Stored addresses become links, so only web addresses (http, https) are stored: a source's
address, its archive address (and only on the archive's own host), and the address after
redirects. Templates link only such addresses."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from commitments import services
from commitments.forms import SourceForm
from commitments.models import Source
from commitments.safety import is_web_address, safe_href
from commitments.services.archiving import source_archive
from commitments.services.links import LinkCheckResult
from commitments.services.links import source_link_results_record as record_checks

pytestmark = pytest.mark.django_db

HOSTILE = [
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "\tjavascript:alert(1)",
    "java\nscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "ftp://files.example.org/report.pdf",
    "//news.example.org/story",
    "https://",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_only_web_addresses_may_be_links(value):
    assert not is_web_address(value)
    assert safe_href(value) == ""


@pytest.mark.parametrize("value", ["https://news.example.org/a?b=1", "HTTP://EXAMPLE.ORG/"])
def test_web_addresses_may_be_links(value):
    assert safe_href(value) == value


@pytest.mark.parametrize("value", HOSTILE)
def test_the_service_refuses_a_source_address_that_is_not_a_web_address(value):
    with pytest.raises(ValidationError) as caught:
        services.source_get_or_create(url=value, title="A story", outlet="Example News")
    assert "url" in caught.value.message_dict
    assert "http:// or https://" in caught.value.message_dict["url"][0]
    assert not Source.objects.exists()


@pytest.mark.parametrize("value", [v for v in HOSTILE if not v.startswith("//")])
def test_the_admin_form_refuses_it_on_the_field(value):
    form = SourceForm(
        data={
            "url": value,
            "title": "A story",
            "outlet": "Example News",
            "kind": Source.Kind.NEWS_REPORT,
            "language": "en",
            "published_precision": "day",
        }
    )
    assert not form.is_valid()
    assert (
        form.errors["url"]
        == ["“" + value.strip() + "” is not a web address starting with http:// or https://."]
        or "Enter a valid URL." in form.errors["url"]
    )


@pytest.mark.parametrize("field", ["url", "archive_url", "final_url"])
@pytest.mark.parametrize(
    "value", ["javascript:alert(1)", "JAVASCRIPT:alert(1)", " javascript:x", "data:,x", "ftp://x"]
)
def test_the_database_refuses_other_schemes_in_every_address_field(make_source, field, value):
    source = make_source()
    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.filter(pk=source.pk).update(**{field: value})
    source.refresh_from_db()
    setattr(source, field, value)
    with pytest.raises(ValidationError) as caught:
        source.validate_constraints()
    assert "http:// or https://" in str(caught.value)


def test_the_database_still_takes_web_addresses_and_blanks(make_source):
    source = make_source()
    Source.objects.filter(pk=source.pk).update(
        archive_url="https://web.archive.org/web/20251024120000/x",
        final_url="HTTPS://news.example.org/moved",
    )
    Source.objects.filter(pk=source.pk).update(archive_url="", final_url="", url=None)


# --- Save Page Now: only a snapshot on the archive's own host is kept ------------------------


@pytest.mark.parametrize(
    "answer",
    [
        "javascript:alert(1)//web/20251024120000/x",
        "JAVASCRIPT:alert(1)//web/20251024120000/x",
        "data:text/html,<script>alert(1)</script>/web/20251024120000/x",
        "ftp://{host}/web/20251024120000/x",
        "https://evil.example/web/20251024120000/x",
        "//evil.example/web/20251024120000/x",
        "http://{host}.evil.example/web/20251024120000/x",
    ],
)
def test_a_snapshot_address_off_the_archive_is_an_archive_error_not_a_link(
    fake_web, make_source, client, answer
):
    host = fake_web.base.removeprefix("http://")
    fake_web.spn_mode = "content-location:" + answer.format(host=host)
    source = make_source(url=fake_web.url("/ok/story"))
    outcome = source_archive(source_id=source.pk)
    assert not outcome.archived
    source.refresh_from_db()
    assert source.archive_url == "" and source.archived_at is None
    assert "not stored" in source.archive_error
    assert source.archive_attempts == 1


def test_a_snapshot_on_the_archive_host_is_stored(fake_web, make_source):
    fake_web.spn_mode = "content-location:" + fake_web.url("/web/20251024120000/x")
    source = make_source(url=fake_web.url("/ok/story"))
    assert source_archive(source_id=source.pk).archived
    source.refresh_from_db()
    assert source.archive_url == fake_web.url("/web/20251024120000/x")
    assert source.archive_error == ""


def test_a_relative_snapshot_address_is_joined_to_the_archive(fake_web, make_source):
    fake_web.spn_mode = "content-location:/web/20251024120000/x"  # the real answer shape
    source = make_source(url=fake_web.url("/ok/story"))
    assert source_archive(source_id=source.pk).archived  # relative: joined to the archive
    source.refresh_from_db()
    assert source.archive_url == fake_web.url("/web/20251024120000/x")


# --- Link checks: the address after redirects --------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_a_final_address_that_is_not_a_web_address_is_not_recorded(make_source, value):
    source = make_source()
    now = datetime.datetime(2025, 11, 1, tzinfo=datetime.UTC)
    record_checks(
        results={source.pk: LinkCheckResult(ok=True, status=200, final_url=value)}, now=now
    )
    source.refresh_from_db()
    assert source.final_url == "" and source.link_status == Source.LinkStatus.OK


# --- Templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_the_source_template_links_only_web_addresses(value):
    # Unsaved: the database would refuse these; the template must not rely on that alone.
    source = Source(url=value, title="A story", outlet="Example News", archive_url=value)
    html = render_to_string("commitments/_source.html", {"source": source})
    assert "href" not in html
    assert "Example News: A story" in html


def test_the_source_template_links_web_addresses():
    source = Source(
        url="https://news.example.org/a",
        title="A story",
        outlet="Example News",
        archive_url="https://web.archive.org/web/20251024120000/https://news.example.org/a",
    )
    html = render_to_string("commitments/_source.html", {"source": source})
    assert '<a href="https://news.example.org/a">' in html
    assert 'href="https://web.archive.org/web/20251024120000/https://news.example.org/a"' in html


@pytest.mark.parametrize("value", HOSTILE)
def test_a_source_described_while_logging_an_update_is_refused_on_its_address(value):
    errors = services.source_description_errors(url=value, title="A story", outlet="Example")
    assert "http:// or https://" in errors["url"]
