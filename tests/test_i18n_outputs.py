"""Issue 13, the outputs in both languages: the feeds under /fr/feeds/ in French, the
sitemap listing every page in both with alternates, the API's and the exports' French
beside the English (and the API deaf to Accept-Language), event payloads carrying both
languages, and email alerts in the subscriber's language with links to pages in it.

Mail goes to Django's in-memory outbox (locmem); the database is PostgreSQL."""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest
from django.core import mail
from django.utils import timezone, translation

from commitments import alert_links, events, services
from commitments.models import Alert, OutboxEvent, StatusUpdate, Subscriber, Subscription, Topic
from commitments.services import alerts, outbox
from commitments.vocabulary import Status

pytestmark = pytest.mark.django_db

SITE = "https://tracker.example.org"
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
NB = "\u00a0"


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # The subscription limits count in a cache: this process's own, not the shared Redis.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def boats(make_commitment, make_source, log_update):
    """A commitment translated into French, with two steps: one translated, one not."""
    commitment = make_commitment(
        title="Stop the <boats>",
        title_fr="Arrêter les <bateaux>",
        summary="Cut small-boat crossings.",
        summary_fr="Réduire les traversées en petites embarcations.",
        slug="stop-the-boats",
    )
    source = make_source(title="Communiqué", outlet="Préfecture maritime", language="fr")
    translated = log_update(
        commitment,
        sources=[source],
        status="in_progress",
        description="The patrols began.",
        effective_on=datetime.date(2025, 7, 10),
    )
    # Our translation, added after the step (the append-only trigger lets the French change).
    StatusUpdate.objects.filter(pk=translated.pk).update(
        description_fr="Les patrouilles ont commencé."
    )
    translated.refresh_from_db()
    untranslated = log_update(
        commitment,
        sources=[source],
        status="stalled",
        description="The budget line was frozen.",
        effective_on=datetime.date(2025, 10, 1),
    )
    commitment.refresh_from_db()
    return commitment, translated, untranslated


# --- Feeds ------------------------------------------------------------------------------------


def test_the_french_atom_feed_is_in_french_links_to_french_pages_and_marks_the_english(
    client, boats
):
    commitment, translated, untranslated = boats
    response = client.get(f"/fr/feeds/commitments/{commitment.slug}/")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    assert (
        root.findtext(f"{ATOM}title")
        == f"Arrêter les <bateaux>{NB}: changements de statut et corrections"
    )
    assert root.findtext(f"{ATOM}subtitle") == "Réduire les traversées en petites embarcations."
    entries = {e.findtext(f"{ATOM}id"): e for e in root.findall(f"{ATOM}entry")}
    links = [e.find(f"{ATOM}link").get("href") for e in entries.values()]
    assert links and all("/fr/commitments/stop-the-boats/#update-" in link for link in links)

    summaries = {
        e.find(f"{ATOM}link").get("href"): e.findtext(f"{ATOM}summary")
        for e in root.findall(f"{ATOM}entry")
    }
    ours = next(s for href, s in summaries.items() if href.endswith(translated.anchor))
    theirs = next(s for href, s in summaries.items() if href.endswith(untranslated.anchor))
    assert "Les patrouilles ont commencé." in ours and "pas encore traduit" not in ours
    assert "The budget line was frozen." in theirs
    assert '<div lang="en">' in theirs and "(en anglais, pas encore traduit)" in theirs
    assert "pas encore traduit" not in ours
    assert f"Préfecture maritime{NB}: Communiqué" in ours  # French typography

    english = ET.fromstring(client.get(f"/feeds/commitments/{commitment.slug}/").content)
    assert english.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-gb"
    assert english.findtext(f"{ATOM}title") == "Stop the <boats>: status changes and corrections"
    summary = english.find(f"{ATOM}entry").findtext(f"{ATOM}summary")
    assert "(in French)" in summary and "not yet translated" not in summary


def test_the_french_json_feed_says_fr_and_links_to_french_pages(client, boats):
    data = json.loads(client.get("/fr/feeds/changes/json/").content)
    assert data["language"] == "fr"
    assert data["title"].endswith(f"{NB}: derniers changements de statut et corrections")
    assert data["home_page_url"].endswith("/fr/commitments/")
    assert data["items"] and all("/fr/commitments/" in item["url"] for item in data["items"])
    assert any(item["title"].startswith("Arrêter les <bateaux>") for item in data["items"])
    assert json.loads(client.get("/feeds/changes/json/").content)["language"] == "en-gb"


def test_a_feed_falls_back_to_english_titles_when_nothing_is_translated(
    client, make_commitment, make_source, log_update
):
    commitment = make_commitment(title="Only in English", slug="only-english")
    log_update(commitment, sources=[make_source()], description="Words.")
    root = ET.fromstring(client.get("/fr/feeds/commitments/only-english/").content)
    assert (
        root.findtext(f"{ATOM}title")
        == f"Only in English{NB}: changements de statut et corrections"
    )
    summary = root.find(f"{ATOM}entry").findtext(f"{ATOM}summary")
    assert "Words." in summary and "pas encore traduit" in summary


# --- Sitemap ----------------------------------------------------------------------------------


def test_the_sitemap_lists_every_page_in_both_languages_with_alternates(client, boats):
    commitment = boats[0]
    root = ET.fromstring(client.get("/sitemap-commitments.xml").content)
    urls = {u.findtext(f"{SITEMAP}loc"): u for u in root.findall(f"{SITEMAP}url")}
    english = f"http://testserver/commitments/{commitment.slug}/"
    french = f"http://testserver/fr/commitments/{commitment.slug}/"
    assert set(urls) == {english, french}
    for url in urls.values():
        alternates = {
            link.get("hreflang"): link.get("href") for link in url.findall(f"{XHTML}link")
        }
        assert alternates == {"en-gb": english, "fr": french, "x-default": english}
    pages = ET.fromstring(client.get("/sitemap-pages.xml").content)
    locations = {u.findtext(f"{SITEMAP}loc") for u in pages.findall(f"{SITEMAP}url")}
    assert {"http://testserver/", "http://testserver/fr/"} <= locations
    assert {"http://testserver/methodology/", "http://testserver/fr/methodology/"} <= locations


# --- API and exports ----------------------------------------------------------------------------


def french(label) -> str:
    with translation.override("fr"):
        return str(label)


def test_the_api_gives_the_french_beside_the_english_and_labels_in_both(client, boats):
    commitment = boats[0]
    data = client.get(f"/api/commitments/{commitment.slug}").json()
    assert (data["title"], data["title_fr"]) == ("Stop the <boats>", "Arrêter les <bateaux>")
    assert data["summary_fr"] == "Réduire les traversées en petites embarcations."
    assert data["url_fr"] == f"{SITE}/fr/commitments/stop-the-boats/"
    assert data["status_label"] == "Stalled"
    assert data["status_labels"] == {"en-gb": "Stalled", "fr": french(Status.STALLED.label)}
    assert data["original_wording_language"] == "en"
    assert set(data["original_wording_translations"]) == {"en", "fr"}

    events_out = client.get(f"/api/commitments/{commitment.slug}/timeline").json()["events"]
    steps = {e["text"]: e for e in events_out if e["kind"] == "update"}
    assert steps["The patrols began."]["text_fr"] == "Les patrouilles ont commencé."
    assert steps["The budget line was frozen."]["text_fr"] == ""
    assert steps["The patrols began."]["sources"][0]["language"] == "fr"
    assert set(steps["The patrols began."]["status_labels"]) == {"en-gb", "fr"}


def test_a_statement_in_the_api_says_its_language_and_our_translations(client, boats, make_actor):
    from commitments.models import Statement

    commitment = boats[0]
    source = commitment.status_updates.first().sources.first()
    statement = Statement.objects.create(
        text="Nous allons renforcer les patrouilles.",
        language="fr",
        translation_en="We will strengthen the patrols.",
        speaker=make_actor(name="Préfet"),
        said_on=datetime.date(2025, 7, 1),
        source=source,
    )
    statement.commitments.add(commitment)
    events_out = client.get(f"/api/commitments/{commitment.slug}/timeline").json()["events"]
    (statement,) = [e for e in events_out if e["kind"] == "statement"]
    assert statement["language"] == "fr"
    assert statement["translations"] == {"en": "We will strengthen the patrols.", "fr": ""}


def test_the_api_is_the_same_whatever_accept_language(client, boats):
    commitment = boats[0]
    for path in (
        f"/api/commitments/{commitment.slug}",
        f"/api/commitments/{commitment.slug}/timeline",
        "/api/actors",
        "/api/commitments",
    ):
        plain = client.get(path)
        asked = client.get(path, HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
        assert plain.status_code == asked.status_code == 200
        assert plain.json() == asked.json(), path
    assert (
        client.get("/api/commitments", HTTP_ACCEPT_LANGUAGE="fr").json()["items"][0]["status_label"]
        == "Stalled"
    )


def test_the_openapi_description_documents_the_french_fields(client):
    schema = client.get("/api/openapi.json").json()["components"]["schemas"]
    properties = schema["CommitmentOut"]["properties"]
    assert {"title_fr", "summary_fr", "url_fr", "status_labels"} <= set(properties)
    assert "not yet translated" in properties["title_fr"]["description"]


def test_the_exports_have_the_french_columns_beside_the_english(client, boats):
    table = list(csv.DictReader(io.StringIO(client.get("/commitments.csv").getvalue().decode())))
    (row,) = table
    assert row["title"] == "Stop the <boats>" and row["title_fr"] == "Arrêter les <bateaux>"
    assert row["summary_fr"] == "Réduire les traversées en petites embarcations."
    assert row["status_label_fr"] == french(Status.STALLED.label)
    assert row["url_fr"] == f"{SITE}/fr/commitments/stop-the-boats/"
    (item,) = json.loads(client.get("/commitments.json").getvalue())["commitments"]
    assert item["title_fr"] == "Arrêter les <bateaux>"
    # The actors' and topics' French names, aligned with the English; English where none.
    commitment = boats[0]
    made_by = commitment.roles.get().actor
    made_by.name_fr = "Ministre <français>"
    made_by.save()
    commitment.topics.add(
        Topic.objects.create(name="Crossings", name_fr="Traversées", slug="crossings-x"),
        Topic.objects.create(name="Asylum", slug="asylum-x"),
    )
    (item,) = json.loads(client.get("/commitments.json").getvalue())["commitments"]
    assert (item["made_by"], item["made_by_fr"]) == ([made_by.name], ["Ministre <français>"])
    assert (item["topics"], item["topics_fr"]) == (
        ["Asylum", "Crossings"],
        ["Asylum", "Traversées"],
    )
    assert item["responsible"] == item["responsible_fr"] == []
    (row,) = csv.DictReader(io.StringIO(client.get("/commitments.csv").getvalue().decode()))
    assert "Ministre <français>" in row["made_by_fr"] and "Traversées" in row["topics_fr"]
    # The French export is the same file: the data are language-neutral.
    assert (
        json.loads(client.get("/fr/commitments.json").getvalue())["commitments"][0]["title_fr"]
        == "Arrêter les <bateaux>"
    )


# --- Event payloads ------------------------------------------------------------------------


def test_a_status_update_payload_carries_both_languages(boats):
    commitment, translated, untranslated = boats
    event = OutboxEvent.objects.get(key=f"status_update:{untranslated.pk}")
    payload = event.payload
    assert payload["headline"] == "Status changed to Stalled"
    fr = payload["translations"]["fr"]
    assert fr["headline"] == f"Nouveau statut{NB}: {french(Status.STALLED.label)}"
    assert fr["summary"] == ""  # not translated: the reader's fallback, marked there
    assert fr["url"] == f"{SITE}/fr/commitments/stop-the-boats/#{untranslated.anchor}"
    assert fr["occurred_label"] == "1er octobre 2025"  # as the pages write it
    assert fr["commitment"]["title"] == "Arrêter les <bateaux>"
    assert fr["commitment"]["url"] == f"{SITE}/fr/commitments/stop-the-boats/"

    french_payload = events.localized(payload, "fr")
    assert french_payload["summary"] == "The budget line was frozen."
    assert french_payload["summary_fallback"] is True
    assert french_payload["commitment"]["title"] == "Arrêter les <bateaux>"
    assert events.localized(payload, "en-gb") == payload

    done = events.status_update_payload(translated, sources=list(translated.sources.all()))
    assert done["translations"]["fr"]["summary"] == "Les patrouilles ont commencé."
    assert events.localized(done, "fr")["summary"] == "Les patrouilles ont commencé."
    assert "summary_fallback" not in events.localized(done, "fr")


# --- Email alerts --------------------------------------------------------------------------


def _links(message) -> list[str]:
    return re.findall(r"https?://\S+", message.body)


def test_subscribing_from_a_french_page_gives_a_french_confirmation_with_french_links(
    client, boats, django_capture_on_commit_callbacks
):
    commitment = boats[0]
    page = client.get(f"/fr/commitments/{commitment.slug}/")
    assert 'action="/fr/alerts/subscribe/"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/fr/alerts/subscribe/",
            {
                "email": "lecteur@redaction.test",
                "frequency": "each",
                "subject": f"commitment:{commitment.slug}",
            },
        )
    assert response.status_code == 200
    assert "Consultez votre messagerie" in response.content.decode()
    assert Subscriber.objects.get(email="lecteur@redaction.test").language == "fr"
    services.subscription_confirmation_send(
        subscriber_id=Subscriber.objects.get(email="lecteur@redaction.test").pk
    )
    (message,) = [m for m in mail.outbox if m.to == ["lecteur@redaction.test"]]
    assert message.subject == f"Confirmation{NB}: suivre Arrêter les <bateaux>"
    assert "Quelqu’un (vous, nous l’espérons)" in message.body
    assert f"{SITE}/fr/commitments/stop-the-boats/" in message.body
    links = _links(message)
    assert any(link.startswith(f"{SITE}/fr/alerts/confirm/") for link in links)
    assert any(link.startswith(f"{SITE}/fr/alerts/manage/") for link in links)
    html = message.alternatives[0][0]
    assert '<html lang="fr">' in html and "Confirmez votre abonnement" in html
    assert message.extra_headers["Content-Language"] == "fr"

    confirm = next(link for link in links if "/alerts/confirm/" in link).removeprefix(SITE)
    page = client.get(confirm)
    assert page.status_code == 200 and 'lang="fr"' in page.content.decode()
    assert "Confirmez votre abonnement" in page.content.decode()


def test_subscribing_from_an_english_page_gives_an_english_confirmation(
    client, boats, django_capture_on_commit_callbacks
):
    commitment = boats[0]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/alerts/subscribe/",
            {
                "email": "reader@newsroom.test",
                "frequency": "each",
                "subject": f"commitment:{commitment.slug}",
            },
        )
    subscriber = Subscriber.objects.get(email="reader@newsroom.test")
    assert subscriber.language == "en-gb"
    services.subscription_confirmation_send(subscriber_id=subscriber.pk)
    (message,) = [m for m in mail.outbox if m.to == ["reader@newsroom.test"]]
    assert message.subject == "Confirm: follow Stop the <boats>"
    assert "/fr/" not in message.body
    assert any(link.startswith(f"{SITE}/alerts/confirm/") for link in _links(message))


def test_a_confirmed_address_keeps_its_language_whatever_page_a_stranger_uses(
    client, boats, make_commitment, django_capture_on_commit_callbacks
):
    commitment = boats[0]
    subscriber = Subscriber.objects.create(email="reader@newsroom.test", key="k" * 20)
    Subscription.objects.create(
        subscriber=subscriber, commitment=commitment, confirmed_at=timezone.now()
    )
    other = make_commitment(slug="other")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/fr/alerts/subscribe/",
            {
                "email": "reader@newsroom.test",
                "frequency": "each",
                "subject": f"commitment:{other.slug}",
            },
        )
    subscriber.refresh_from_db()
    assert subscriber.language == "en-gb"


def _follower(email, language, commitment):
    subscriber = Subscriber.objects.create(
        email=email, key=email.split("@")[0] * 4, language=language
    )
    Subscription.objects.create(
        subscriber=subscriber, commitment=commitment, confirmed_at=timezone.now()
    )
    return subscriber


def test_each_alert_is_in_its_readers_language_with_links_to_pages_in_it(boats, log_update):
    commitment, _translated, _untranslated = boats
    Alert.objects.all().delete()
    OutboxEvent.objects.all().delete()
    lecteur = _follower("lecteur@redaction.test", "fr", commitment)
    reader = _follower("reader@newsroom.test", "en-gb", commitment)
    source = commitment.status_updates.first().sources.first()
    log_update(
        commitment,
        sources=[source],
        status="broken",
        description="The plan was dropped.",
        effective_on=datetime.date(2025, 11, 3),
    )
    event = OutboxEvent.objects.get()
    outbox.event_fan_out(event_id=event.pk)
    mail.outbox.clear()
    report = alerts.alerts_send_due()
    assert report.sent == 2

    by_address = {m.to[0]: m for m in mail.outbox}
    fr, en = by_address[lecteur.email], by_address[reader.email]
    broken_fr = french(Status.BROKEN.label)
    assert fr.subject == f"Arrêter les <bateaux>{NB}: Nouveau statut{NB}: {broken_fr}"
    assert "Engagement\u00a0: Arrêter les <bateaux>" in fr.body
    assert "3 novembre 2025" in fr.body
    assert "The plan was dropped." in fr.body and "(en anglais, pas encore traduit)" in fr.body
    assert "Lire sur le suivi" in fr.body and "(en français)" not in fr.body
    links = _links(fr)
    assert f"{SITE}/fr/commitments/stop-the-boats/#" in fr.body
    assert any(link.startswith(f"{SITE}/fr/alerts/manage/") for link in links)
    assert fr.extra_headers["List-Unsubscribe"].startswith(f"<{SITE}/fr/alerts/unsubscribe/")
    assert fr.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (fr.extra_headers["Content-Language"], en.extra_headers["Content-Language"]) == (
        "fr",
        "en-gb",
    )
    html = fr.alternatives[0][0]
    assert '<html lang="fr">' in html and "Gérer vos abonnements" in html

    assert en.subject == "Stop the <boats>: Status changed to Broken"
    assert "Commitment: Stop the <boats>" in en.body and "/fr/" not in en.body
    assert "(in French)" in en.body  # the source is French
    assert en.extra_headers["List-Unsubscribe"].startswith(f"<{SITE}/alerts/unsubscribe/")


def test_the_french_one_click_unsubscribe_still_works(client, boats):
    lecteur = _follower("lecteur@redaction.test", "fr", boats[0])
    with translation.override("fr"):
        url = alert_links.unsubscribe_url(lecteur)
    assert url.startswith(f"{SITE}/fr/alerts/unsubscribe/")
    response = client.post(url.removeprefix(SITE), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "Désabonnement effectué" in response.content.decode()
    assert not Subscriber.objects.filter(pk=lecteur.pk).exists()


def test_the_digest_is_in_its_readers_language(boats):
    commitment = boats[0]
    lecteur = _follower("lecteur@redaction.test", "fr", commitment)
    events_ = list(OutboxEvent.objects.order_by("pk"))
    alerts_ = [Alert(event=event, subscriber=lecteur) for event in events_]
    rendered = alerts.digest_render(lecteur, alerts_, datetime.date(2025, 10, 2))
    assert "2 changements dans ce que vous suivez" in rendered.subject
    assert rendered.subject.endswith(", 2 octobre 2025")
    assert "== Arrêter les <bateaux> ==" in rendered.text
    assert f"Nouveau statut{NB}: " in rendered.text
    assert "(en anglais, pas encore traduit)" in rendered.text
    assert f"{SITE}/fr/commitments/stop-the-boats/" in rendered.text
    assert "Gérer vos abonnements" in rendered.html


def test_the_manage_page_is_french_under_fr_and_changes_the_emails_language(client, boats):
    reader = _follower("reader@newsroom.test", "en-gb", boats[0])
    with translation.override("fr"):
        path = alert_links.manage_url(reader).removeprefix(SITE)
    page = client.get(path)
    body = page.content.decode()
    assert page.status_code == 200 and '<html lang="fr"' in body
    assert "Vos abonnements" in body and "Arrêter les &lt;bateaux&gt;" in body
    response = client.post(path, {"action": "language", "language": "fr"})
    assert response.status_code == 303
    reader.refresh_from_db()
    assert reader.language == "fr"
    refused = client.post(path, {"action": "language", "language": "de"})
    assert (
        refused.status_code == 400
        and "Choisissez l’anglais ou le français." in refused.content.decode()
    )


def test_a_damaged_link_is_explained_in_french_under_fr(client):
    response = client.get("/fr/alerts/manage/not-a-token/")
    body = response.content.decode()
    assert response.status_code == 400
    assert "Ce lien ne fonctionne pas" in body and "Ce lien est abîmé" in body


def test_a_webhook_test_event_carries_its_words_in_both_languages():
    from commitments.models import WebhookEndpoint
    from commitments.services import webhooks

    endpoint = WebhookEndpoint.objects.create(url="https://hooks.newsroom.test/in", secret="s")
    with translation.override("fr"):  # sent from the French admin: the payload is the same
        event = webhooks.webhook_test_event_send(endpoint=endpoint)
    assert event.payload["headline"] == "Test event"
    assert event.payload["translations"]["fr"]["headline"] == "Événement de test"
    assert event.payload["translations"]["fr"]["url"] == f"{SITE}/fr/"
    with translation.override("fr"):
        assert webhooks.url_errors("ftp://x") == "L’adresse doit commencer par https://."


def test_a_revision_payload_names_the_changed_fields_in_french(
    make_topic, make_commitment, role_client
):
    from commitments.models import Topic

    topic = make_topic(name="Returns", name_fr="Retours", slug="returns")
    make_commitment().topics.add(topic)
    publisher = role_client("Publisher").user
    services.revision_submit(
        obj=topic,
        after={"name": "Returns to France"},
        kind="minor",
        reason="Clearer.",
        by=publisher,
    )
    payload = OutboxEvent.objects.get(key__startswith="revision:").payload
    fr = payload["translations"]["fr"]
    assert payload["changes"][0]["field"] == "Name"
    assert fr["changes"] == [
        {"field": french(Topic._meta.get_field("name").verbose_name).capitalize()}
    ]
    assert fr["topic"] == {"name": "Retours", "url": f"{SITE}/fr/topics/returns/"}
    assert events.localized(payload, "fr")["changes"][0]["before"] == "Returns"


def test_the_french_alert_pages_and_mails_are_valid_html(client, boats, tmp_path):
    """The pages of following by email under /fr/ and the French mails, through the Nu HTML
    Checker as ``test_valid_html`` runs it: a translation with markup must not break them."""
    from tests.test_valid_html import alert_pages, nu_errors

    html = alert_pages(client, boats[0], "/fr")
    assert all('<html lang="fr"' in page for page in html.values())
    event = OutboxEvent.objects.order_by("pk").last()
    reader = Subscriber(email="html@redaction.test", language="fr")
    html["alert mail"] = alerts.event_render(event, "fr").html
    html["digest mail"] = alerts.digest_render(
        reader, [Alert(event=event, subscriber=reader)], datetime.date(2025, 10, 2)
    ).html
    errors = nu_errors(html, tmp_path)
    assert not errors, errors
