"""The editors' side in both languages (issue 13): the admin wholly in French under
/fr/admin/, the French of each translated field beside the English in the forms, the
French saved through the admin and revised like the English (with its public trace), a
step's French changed through a revision past the append-only trigger while its English
stays refused, and bad input refused naming the field with nothing half saved.

On PostgreSQL, through the admin's real addresses and the services; each test is judged
by the pages and the database state it leaves."""

from __future__ import annotations

import datetime
import os
import re

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction
from django.utils import translation
from django.utils.functional import Promise
from django.utils.text import capfirst

from commitments import models, services
from commitments.languages import TRANSLATED_FIELDS
from commitments.models import Commitment, OutboxEvent, Revision, Statement, StatusUpdate

from .test_editorial_roles import payload

pytestmark = pytest.mark.django_db

WHY = {"revision_kind": "minor", "revision_reason": "French added."}
LANG_FR = re.compile(r'<html[^>]*\blang="fr"')


def french(text) -> str:
    with translation.override("fr"):
        return str(text)


def has_french(text) -> bool:
    """Whether a lazy string's msgid has an entry in the French catalogues."""
    catalog = translation.trans_real.translation("fr")._catalog
    return text._args[0] in catalog


def english(text) -> str:
    with translation.override("en-gb"):
        return str(text)


@pytest.fixture
def publisher(role_client):
    return role_client("Publisher")


@pytest.fixture
def editor(role_client):
    return role_client("Editor")


@pytest.fixture
def world(seeded, make_commitment, make_source, log_update, publisher):
    """The seeds, plus one of everything the admin lists: a flag, a revision, a webhook
    endpoint, a subscriber, a draft."""
    source = make_source(title="Rapport de la préfecture", language="fr")
    draft = make_commitment(published=False, made_in=source, slug="brouillon", title="A draft")
    public = make_commitment(made_in=source, slug="public-one", title="Public promise")
    step = log_update(public, sources=[source], description="The deal was signed.")
    models.Flag.objects.create(
        commitment=public,
        reason=models.Flag._meta.get_field("reason").choices[0][0],
        raised_at=datetime.datetime(2025, 9, 1, tzinfo=datetime.UTC),
        since=datetime.date(2025, 9, 1),
    )
    services.revision_submit(
        obj=public, after={"summary": "Changed."}, kind="minor", reason="Why.", by=publisher.user
    )
    return {"source": source, "draft": draft, "public": public, "step": step}


def _admin_models():
    return [model for model in admin.site._registry if model._meta.app_label == "commitments"]


# --- /fr/admin/ is French ------------------------------------------------------------------


def test_the_french_admin_index_is_in_french(world, client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.org", "pw")
    client.force_login(user)
    page = client.get("/fr/admin/")
    assert page.status_code == 200
    html = page.content.decode()
    assert LANG_FR.search(html)
    assert french(admin.site.site_header) in html
    assert french(admin.site.site_header) != english(admin.site.site_header)
    assert capfirst(french(Commitment._meta.verbose_name_plural)) in html
    # Links stay in French.
    assert 'href="/fr/admin/commitments/commitment/"' in html


@pytest.mark.parametrize("model", _admin_models(), ids=lambda m: m._meta.model_name)
def test_each_changelist_and_change_form_is_french(world, client, django_user_model, model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.org", "pw")
    client.force_login(user)
    name = model._meta.model_name
    plural = model._meta.verbose_name_plural
    assert has_french(plural), f"{name}: its name has no French"
    page = client.get(f"/fr/admin/commitments/{name}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert LANG_FR.search(html)
    assert capfirst(french(plural)) in html
    obj = model.objects.order_by("pk").first()
    if obj is None:
        return
    page = client.get(f"/fr/admin/commitments/{name}/{obj.pk}/change/")
    assert page.status_code == 200, name
    html = page.content.decode()
    assert LANG_FR.search(html)
    # At least one of our field labels, in French.
    labels = [
        capfirst(french(f.verbose_name))
        for f in model._meta.fields
        if f.editable and not f.auto_created and french(f.verbose_name) != english(f.verbose_name)
    ]
    assert any(label in html for label in labels), name


def test_the_sign_in_and_two_factor_pages_are_french(client, editor):
    page = client.get("/fr/admin/login/")
    assert page.status_code == 200
    html = page.content.decode()
    assert LANG_FR.search(html)
    from commitments.sign_in import AdminLoginForm

    label = AdminLoginForm.base_fields["otp_token"].label
    assert french(label) != english(label) and french(label) in html

    page = editor.get("/fr/admin/two-factor/")
    assert page.status_code == 200
    html = page.content.decode()
    assert LANG_FR.search(html)
    assert french(label) in html
    assert "Connexion à deux facteurs" in html


def test_every_label_help_text_and_choice_of_our_models_has_french():
    """A field's name, help text or choice without a French entry fails here (they show
    in the admin and, for statuses and flag reasons, on the public pages)."""
    catalog = translation.trans_real.translation("fr")._catalog
    missing = []

    def check(text, where):
        if isinstance(text, Promise) and getattr(text, "_args", None):
            msgid = text._args[0]
            # Not Django's default plural of a model with no name of its own ("{}s").
            if isinstance(msgid, str) and msgid and msgid != "{}s" and msgid not in catalog:
                missing.append(f"{where}: {msgid}")

    for model in [m for m in models.__dict__.values() if isinstance(m, type)]:
        if not hasattr(model, "_meta") or model._meta.app_label != "commitments":
            continue
        if model.__name__.startswith("Historical"):
            continue
        check(model._meta.verbose_name, model.__name__)
        check(model._meta.verbose_name_plural, model.__name__)
        for field in model._meta.get_fields():
            if field.auto_created and not field.concrete:
                continue
            where = f"{model.__name__}.{field.name}"
            check(getattr(field, "verbose_name", None), where)
            check(getattr(field, "help_text", None), where)
            for _value, label in getattr(field, "flatchoices", None) or []:
                check(label, where)
    assert not missing, missing


# --- Side by side --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model", [m for m in _admin_models() if m.__name__ in TRANSLATED_FIELDS and m is not Revision]
)
def test_the_french_sits_beside_the_english(world, publisher, model):
    name = model._meta.model_name
    if model is StatusUpdate:
        url = f"/admin/commitments/statusupdate/add/?commitment={world['public'].pk}"
    else:
        url = f"/admin/commitments/{name}/{model.objects.order_by('pk').first().pk}/change/"
    html = publisher.get(url).content.decode()
    for field in TRANSLATED_FIELDS[model.__name__]:
        # One row holds both (the admin's "fields" tuple).
        assert f'class="form-row field-{field} field-{field}_fr"' in html, (name, field)
    assert "The French may be left blank" in html


def test_quotes_and_sources_ask_their_language_and_our_translations(world, publisher):
    statement = Statement.objects.order_by("pk").first()
    html = publisher.get(f"/admin/commitments/statement/{statement.pk}/change/").content.decode()
    assert 'name="language"' in html
    assert 'class="form-row field-translation_en field-translation_fr"' in html
    page = publisher.get(f"/admin/commitments/commitment/{world['draft'].pk}/change/")
    html = page.content.decode()
    assert 'name="original_wording_language"' in html
    assert "field-original_wording_translation_en field-original_wording_translation_fr" in html
    page = publisher.get(f"/admin/commitments/source/{world['source'].pk}/change/")
    assert 'name="language"' in page.content.decode()


# --- Saving French -------------------------------------------------------------------------


def test_french_typed_in_the_admin_is_stored(world, editor):
    draft = world["draft"]
    url = f"/fr/admin/commitments/commitment/{draft.pk}/change/"
    data = payload(editor.get(url))
    data.update(title_fr="Un brouillon", summary_fr="Ce qui a été promis.")
    response = editor.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    draft.refresh_from_db()
    assert (draft.title_fr, draft.summary_fr) == ("Un brouillon", "Ce qui a été promis.")
    assert draft.title == "A draft"


def test_a_step_and_a_correction_are_logged_with_their_french(world, editor):
    public, source = world["public"], world["source"]
    url = "/admin/commitments/statusupdate/add/"
    data = payload(editor.get(f"{url}?commitment={public.pk}"))
    data.update(
        commitment=str(public.pk),
        status="in_progress",
        effective_on="2025-09-02",
        effective_precision="day",
        description="Talks went on.",
        description_fr="Les discussions se sont poursuivies.",
        sources=[str(source.pk)],
    )
    assert editor.post(url, data).status_code == 302
    step = StatusUpdate.objects.get(description="Talks went on.")
    assert step.description_fr == "Les discussions se sont poursuivies."

    data = payload(editor.get(f"{url}?commitment={public.pk}&corrects={step.pk}"))
    data.update(
        commitment=str(public.pk),
        corrects=str(step.pk),
        sources=[str(source.pk)],
        description="Talks stopped.",
        correction_note="They had stopped.",
        correction_note_fr="Elles s'étaient arrêtées.",
    )
    assert editor.post(url, data).status_code == 302
    correction = StatusUpdate.objects.get(corrects=step)
    assert correction.correction_note_fr == "Elles s'étaient arrêtées."
    assert correction.description_fr == "Les discussions se sont poursuivies."


def test_a_revision_of_the_french_title_has_its_public_trace(world, publisher, client):
    public = world["public"]
    url = f"/fr/admin/commitments/commitment/{public.pk}/change/"
    data = payload(publisher.get(url))
    data.update(title_fr="Promesse publique", **WHY)
    assert publisher.post(url, data).status_code == 302
    public.refresh_from_db()
    assert public.title_fr == "Promesse publique"
    revision = Revision.objects.filter(changes__0__field="title_fr").get()
    assert revision.state == Revision.State.APPLIED
    assert revision.changes[0]["label"] == "Title (French)"  # the site's language, stored
    assert services.revisions.change_label(Commitment, "title_fr") == "Title (French)"
    with translation.override("fr"):
        assert services.revisions.change_label(Commitment, "title_fr") != "Title (French)"
    history = client.get(f"/commitments/{public.slug}/changes/")
    assert history.status_code == 200
    assert "Promesse publique" in history.content.decode()
    assert "<th scope=\"row\">Title (French)</th>" in history.content.decode()
    french = client.get(f"/fr/commitments/{public.slug}/changes/")
    assert french.status_code == 200
    # Labelled in the reader's language, though stored in the site's.
    assert "<th scope=\"row\">Titre (en français)</th>" in french.content.decode()
    assert "Title (French)" not in french.content.decode()
    # The followers are told, as for the English.
    assert OutboxEvent.objects.filter(
        type=models.EventType.REVISION, key=f"revision:{revision.pk}:{public.pk}"
    ).exists()


def test_a_steps_french_changes_only_through_a_revision(world, editor, publisher, client):
    step, public = world["step"], world["public"]
    url = f"/fr/admin/commitments/statusupdate/{step.pk}/french/"
    page = editor.get(f"/fr/admin/commitments/statusupdate/{step.pk}/change/")
    assert url in page.content.decode()
    form = editor.get(url)
    assert form.status_code == 200 and LANG_FR.search(form.content.decode())
    response = editor.post(url, {"description_fr": "L'accord a été signé.", **WHY})
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.description_fr == ""  # an editor proposes; a publisher applies
    revision = Revision.objects.get(state=Revision.State.PROPOSED, object_id=step.pk)
    assert revision.content_type.model_class() is StatusUpdate
    assert list(revision.commitments.all()) == [public]

    services.revision_apply(revision=revision, by=publisher.user)  # past the trigger
    step.refresh_from_db()
    assert step.description_fr == "L'accord a été signé."
    assert step.description == "The deal was signed."
    assert OutboxEvent.objects.filter(
        type=models.EventType.REVISION, key=f"revision:{revision.pk}:{public.pk}"
    ).exists()

    # On the public change history, as any revision; and in French on the publishers' queue.
    history = client.get(f"/commitments/{public.slug}/changes/").content.decode()
    assert "accord a été signé" in history
    queue = publisher.get(f"/fr/admin/commitments/revision/{revision.pk}/change/")
    label = french(StatusUpdate._meta.get_field("description_fr").verbose_name)
    assert capfirst(label) in queue.content.decode()

    # The English is evidence: the database still refuses to change it.
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE commitments_statusupdate SET description = 'Rewritten' WHERE id = %s",
                [step.pk],
            )
    # And a revision does not reach it: only the French of a step is revised.
    assert (
        services.revision_submit(
            obj=step,
            after={"description": "Rewritten"},
            kind="minor",
            reason="x",
            by=publisher.user,
        )
        is None
    )
    step.refresh_from_db()
    assert step.description == "The deal was signed."


def test_the_french_of_a_saved_step_needs_a_reason(world, editor):
    step = world["step"]
    url = f"/admin/commitments/statusupdate/{step.pk}/french/"
    response = editor.post(url, {"description_fr": "L'accord a été signé."})
    assert response.status_code == 200
    assert not Revision.objects.filter(object_id=step.pk, content_type__model="statusupdate")
    step.refresh_from_db()
    assert step.description_fr == ""


# --- Bad input -----------------------------------------------------------------------------


def test_a_bad_language_code_is_refused_naming_the_field(world, editor, publisher):
    draft = world["draft"]
    url = f"/admin/commitments/commitment/{draft.pk}/change/"
    data = payload(editor.get(url))
    data.update(original_wording_language="French", title_fr="Un brouillon")
    response = editor.post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Language of the original wording: Use a language code such as en or fr." in html
    draft.refresh_from_db()
    assert (draft.original_wording_language, draft.title_fr) == ("en", "")

    # Through the service, on a public quote: refused before anything is written.
    statement = Statement.objects.filter(commitments__is_published=True).first()
    before = statement.translation_fr
    with pytest.raises(services.revisions.ValidationError) as caught:
        services.revision_submit(
            obj=statement,
            after={"language": "FR", "translation_fr": "Traduit."},
            kind="minor",
            reason="Language.",
            by=publisher.user,
        )
    assert "Language: Use a language code such as en or fr." in caught.value.messages
    statement.refresh_from_db()
    assert statement.translation_fr == before != "Traduit."
    assert not Revision.objects.filter(object_id=statement.pk, content_type__model="statement")


def test_french_over_its_length_is_refused_naming_the_field(world, editor, publisher):
    draft = world["draft"]
    url = f"/fr/admin/commitments/commitment/{draft.pk}/change/"
    data = payload(editor.get(url))
    data.update(title_fr="x" * 301, summary_fr="Résumé.")
    response = editor.post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    label = capfirst(french(Commitment._meta.get_field("title_fr").verbose_name))
    assert f"{label}\u00a0: Assurez-vous" in html, label  # Django's French for the length
    draft.refresh_from_db()
    assert (draft.title_fr, draft.summary_fr) == ("", "")

    public = world["public"]
    with pytest.raises(services.revisions.ValidationError) as caught:
        services.revision_submit(
            obj=public,
            after={"title_fr": "x" * 301},
            kind="minor",
            reason="Long.",
            by=publisher.user,
        )
    assert caught.value.message_dict["title_fr"][0].startswith("Title (French): ")
    public.refresh_from_db()
    assert public.title_fr == ""


# --- The editors' digest -------------------------------------------------------------------


def test_the_editors_digest_can_be_sent_in_french(make_commitment, django_user_model, settings):
    from django.contrib.auth.models import Group
    from django.core import mail
    from django.core.management import CommandError, call_command

    settings.SITE_URL = "https://tracker.example"
    user = django_user_model.objects.create_user("alice", "alice@newsroom.example", "pw")
    user.groups.add(Group.objects.get_or_create(name="Publisher")[0])
    quiet = make_commitment(title="Build the new patrol boats", made_on=datetime.date(2025, 1, 1))
    services.flags_refresh(today=datetime.date(2025, 7, 1))

    with pytest.raises(CommandError, match="--language"):
        call_command("send_digest", language="de")
    assert mail.outbox == []
    call_command("send_digest", language="fr")
    email = mail.outbox[0]
    assert email.subject.startswith("Récapitulatif du suivi")
    assert "Build the new patrol boats: Aucun progrès enregistré depuis" in email.body
    assert "premier récapitulatif" in email.body
    # Its links lead to the French pages.
    assert f"https://tracker.example/fr/commitments/{quiet.slug}/" in email.body


def test_two_factor_sends_a_french_publisher_to_the_french_page(publisher, settings):
    settings.REQUIRE_2FA = True
    response = publisher.get("/fr/admin/commitments/commitment/")
    assert response.status_code == 302
    assert response["Location"].startswith("/fr/admin/two-factor/?next=")
    page = publisher.get(response["Location"])
    assert page.status_code == 200 and LANG_FR.search(page.content.decode())
    # The English address keeps its English page.
    assert publisher.get("/admin/")["Location"].startswith("/admin/two-factor/")


def test_the_scheduled_digest_follows_editors_digest_language(
    make_commitment, django_user_model, settings
):
    from django.contrib.auth.models import Group
    from django.core import mail

    from commitments import tasks

    settings.EDITORS_DIGEST_LANGUAGE = "fr"
    user = django_user_model.objects.create_user("bea", "bea@newsroom.example", "pw")
    user.groups.add(Group.objects.get_or_create(name="Publisher")[0])
    make_commitment(title="Build the new patrol boats", made_on=datetime.date(2025, 1, 1))
    services.flags_refresh(today=datetime.date(2025, 7, 1))
    tasks.send_editors_digest()  # what beat runs, with no language of its own
    assert mail.outbox[0].subject.startswith("Récapitulatif du suivi")


def test_an_unknown_digest_language_refuses_to_start():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "accountability.settings",
             "EDITORS_DIGEST_LANGUAGE": "de"},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "EDITORS_DIGEST_LANGUAGE must be one of en-gb, fr (not 'de')" in result.stderr
