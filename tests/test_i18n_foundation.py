"""Two languages, the foundation (issue 13): the language comes from the address alone, the
admin stays private in both, a field falls back to the other language and says so, and
what a process keeps per public version is kept per language too."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.template import Context, Template
from django.utils import translation

from commitments import languages
from commitments.caching import per_version
from commitments.models import Commitment, Statement, StatusUpdate


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "language"),
    [("/", "en-gb"), ("/fr/", "fr"), ("/commitments/", "en-gb"), ("/fr/commitments/", "fr")],
)
def test_the_address_alone_chooses_the_language(client, path, language):
    # A French browser asking for the English address still gets English: the address is
    # the page, so a cache may keep one copy of it.
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9" if language != "fr" else "en")
    assert response.status_code == 200
    assert response["Content-Language"] == language
    assert f'<html lang="{language}">' in response.content.decode()
    assert "accept-language" not in response.get("Vary", "").lower()


@pytest.mark.django_db
def test_a_language_cookie_changes_nothing(client):
    client.cookies["django_language"] = "fr"
    response = client.get("/")
    assert response["Content-Language"] == "en-gb"


@pytest.mark.django_db
def test_the_french_admin_is_private_as_the_english_one(client):
    for path in ("/admin/login/", "/fr/admin/login/"):
        response = client.get(path)
        assert response.status_code == 200
        assert "public" not in response.get("Cache-Control", "")
        assert "ETag" not in response
    assert '<html lang="fr"' in client.get("/fr/admin/login/").content.decode()


@pytest.mark.django_db
def test_the_api_is_outside_the_languages(client):
    assert client.get("/api/commitments").status_code == 200
    assert client.get("/fr/api/commitments").status_code == 404


@pytest.mark.django_db
def test_a_missing_page_offers_itself_in_the_other_language(client):
    response = client.get("/fr/nowhere/")
    assert response.status_code == 404
    body = response.content.decode()
    site = settings.SITE_URL.rstrip("/")
    assert f'hreflang="en-gb" href="{site}/nowhere/"' in body
    assert f'hreflang="fr" href="{site}/fr/nowhere/"' in body
    assert '<a href="/nowhere/" hreflang="en-gb"' in body


@pytest.mark.django_db
def test_the_switch_and_the_alternates_name_the_same_page(client, make_commitment):
    commitment = make_commitment()
    body = client.get(f"/fr/commitments/{commitment.slug}/").content.decode()
    assert f'href="/commitments/{commitment.slug}/" hreflang="en-gb"' in body
    assert 'hreflang="fr" href="' in body and f"/fr/commitments/{commitment.slug}/" in body
    assert '<meta property="og:locale" content="fr_FR">' in body
    assert '<meta property="og:locale:alternate" content="en_GB">' in body


def test_a_field_falls_back_to_the_other_language_and_says_so():
    commitment = Commitment(title="Intercept taxi boats", title_fr="")
    with translation.override("fr"):
        title = languages.translated(commitment, "title")
    assert (str(title), title.language, title.fallback) == ("Intercept taxi boats", "en", True)

    commitment.title_fr = "Intercepter les « taxi-boats »"
    with translation.override("fr"):
        title = languages.translated(commitment, "title")
    assert (str(title), title.language, title.fallback) == (commitment.title_fr, "fr", False)
    with translation.override("en-gb"):
        assert languages.translated(commitment, "title") == "Intercept taxi boats"

    # The other way: a French-only text on an English page.
    commitment.summary, commitment.summary_fr = "", "Résumé en français."
    with translation.override("en-gb"):
        summary = languages.translated(commitment, "summary")
    assert (summary.language, summary.fallback) == ("fr", True)
    assert languages.translated(Commitment(), "title") == ""


def test_the_marked_filter_escapes_and_marks_a_fallback():
    commitment = Commitment(title="<b>Boats</b>", title_fr="")
    template = Template('{% load tracker %}{{ c|tr_marked:"title" }}|{{ c|tr:"title" }}')
    with translation.override("fr"):
        html = template.render(Context({"c": commitment}))
    marked, plain = html.split("|")
    assert marked.startswith(
        '<span lang="en">&lt;b&gt;Boats&lt;/b&gt;</span> <small class="untranslated">'
    )
    assert plain == "&lt;b&gt;Boats&lt;/b&gt;"
    with translation.override("en-gb"):
        html = template.render(Context({"c": commitment}))
    assert html == "&lt;b&gt;Boats&lt;/b&gt;|&lt;b&gt;Boats&lt;/b&gt;"


def test_a_quote_keeps_its_words_and_shows_our_translation_as_ours():
    statement = Statement(
        text="We will <stop> them", language="en", translation_fr="Nous les arrêterons"
    )
    template = Template("{% load tracker %}{% quote s %}")
    with translation.override("fr"):
        html = template.render(Context({"s": statement}))
    assert '<q lang="en">We will &lt;stop&gt; them</q>' in html
    assert '<span class="our-translation" lang="fr">' in html and "Nous les arrêterons" in html
    with translation.override("en-gb"):
        html = template.render(Context({"s": statement}))
    assert html == '<q lang="en">We will &lt;stop&gt; them</q>'


def test_a_source_in_the_other_language_is_named_so():
    template = Template("{% load tracker %}{{ code|in_language }}")
    with translation.override("en-gb"):
        assert template.render(Context({"code": "fr"})) == "(in French)"
        assert template.render(Context({"code": "en"})) == ""
    with translation.override("fr"):
        assert template.render(Context({"code": "fr"})) == ""
        assert template.render(Context({"code": "en"})) != ""


@pytest.mark.django_db
def test_what_a_process_keeps_per_version_is_kept_per_language():
    Commitment.objects.all().update(title="x")  # a public write: the version row exists
    with translation.override("en-gb"):
        english = per_version("test-menu", lambda: translation.gettext("French"))
    with translation.override("fr"):
        french = per_version("test-menu", lambda: "computed in French")
    assert english == "French"
    assert french == "computed in French"


@pytest.mark.django_db
def test_a_language_code_is_checked(make_source):
    source = make_source()
    source.language = "French"
    with pytest.raises(Exception) as caught:
        source.full_clean()
    assert "language" in caught.value.message_dict


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_only_a_steps_french_may_change_after_it_is_recorded(
    make_commitment, make_source, log_update
):
    update = log_update(make_commitment(), sources=[make_source()], description="Boats stopped.")
    StatusUpdate.objects.filter(pk=update.pk).update(description_fr="Bateaux arrêtés.")
    assert StatusUpdate.objects.get(pk=update.pk).description_fr == "Bateaux arrêtés."
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StatusUpdate.objects.filter(pk=update.pk).update(description="Rewritten.")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StatusUpdate.objects.filter(pk=update.pk).update(
            description_fr="Autre.", effective_on=datetime.date(2025, 1, 1)
        )
    assert connection.vendor == "postgresql"


def test_only_words_said_as_they_were_said_get_quotation_marks():
    template = Template("{% load tracker %}{% quote s %}")
    paraphrase = Statement(
        text="Said talks were going well", kind=Statement.Kind.PARAPHRASE, language="en"
    )
    paraphrase.translation_fr = "A dit que les discussions avançaient"
    with translation.override("fr"):
        html = template.render(Context({"s": paraphrase}))
    assert "<q" not in html
    assert '<span lang="en">Said talks were going well</span>' in html
    assert "<span>A dit que les discussions avançaient</span>" in html
