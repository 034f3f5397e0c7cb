"""The seed data in French too (issue 13): every seeded record of a translated kind has its
French beside its English; quotes keep their words and language (English) with our French
translation; the loader fills French still blank on records that exist, never overwrites
French that has text, and refuses a bad language code or translated field by name."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from commitments.languages import TRANSLATED_FIELDS
from commitments.models import (
    Actor,
    Commitment,
    Indicator,
    Observation,
    Source,
    Statement,
    StatusUpdate,
    Topic,
)
from commitments.seeding import (
    SEEDS_DIR,
    SeedError,
    load_seed_file,
    load_seeds,
    read_seed_file,
    translation_fields,
)

pytestmark = pytest.mark.django_db

SEED_FILE = SEEDS_DIR / "channel_crossings.yaml"
#: Every seeded kind of record with translated fields.
SEEDED = [Topic, Actor, Commitment, StatusUpdate, Statement, Indicator, Observation]
#: Quoted words, their language and our translation: (model, words, language, ours).
QUOTES = [
    (Statement, "text", "language", "translation_fr"),
    (
        Commitment,
        "original_wording",
        "original_wording_language",
        "original_wording_translation_fr",
    ),
]
NBSP = "\u00a0"


def pairs(model) -> list[tuple[str, str]]:
    """(English field, French field) for every translated field of ``model``, quotes'
    translations included."""
    found = [(name, f"{name}_fr") for name in TRANSLATED_FIELDS[model.__name__]]
    for quoted_model, words, _language, ours in QUOTES:
        if quoted_model is model:
            found.append((words, ours))
    return found


def french_values(model) -> dict:
    return {
        (model.__name__, row["pk"]): row
        for row in model.objects.values("pk", *[fr for _en, fr in pairs(model)])
    }


def all_french() -> dict:
    values = {}
    for model in SEEDED:
        values.update(french_values(model))
    return values


def all_english() -> dict:
    values = {}
    for model in SEEDED:
        for row in model.objects.values("pk", *[en for en, _fr in pairs(model)]):
            values[(model.__name__, row["pk"])] = row
    return values


def history_counts() -> dict:
    return {
        model.__name__: model.history.count()
        for model in [*SEEDED, Source]
        if hasattr(model, "history")
    }


def missing_french() -> list[str]:
    """Every seeded field with English and no French, named."""
    missing = []
    for model in SEEDED:
        for obj in model.objects.all():
            for english, french in pairs(model):
                if str(getattr(obj, english) or "").strip() and not getattr(obj, french).strip():
                    missing.append(f"{model.__name__} {obj.pk} {french}")
    return missing


def english_only(data: dict) -> dict:
    """A seed file as it was before issue 13: every translated field and language left out."""
    data = copy.deepcopy(data)

    def strip(node):
        if isinstance(node, dict):
            for key in [k for k in node if re.search(r"(_fr|_en|language)$", str(k))]:
                del node[key]
            for value in node.values():
                strip(value)
        elif isinstance(node, list):
            for value in node:
                strip(value)

    strip(data)
    return data


def french_keys(node) -> int:
    """How many French values a seed file gives."""
    if isinstance(node, dict):
        return sum(str(k).endswith("_fr") for k in node) + sum(map(french_keys, node.values()))
    if isinstance(node, list):
        return sum(map(french_keys, node))
    return 0


def write(tmp_path, data: dict, name: str = "channel_crossings.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# --- The French is there ------------------------------------------------------------------


def test_every_seeded_record_has_its_french_wherever_it_has_english(seeded):
    assert not missing_french(), missing_french()
    # Not vacuous: every kind is seeded, with French written.
    for model in SEEDED:
        assert model.objects.exists(), model.__name__
    assert not Commitment.objects.filter(title_fr="").exists()
    assert not StatusUpdate.objects.filter(description_fr="").exists()
    assert not Indicator.objects.filter(unit_fr="").exists()
    assert (
        not Statement.objects.exclude(speaker_description="")
        .filter(speaker_description_fr="")
        .exists()
    )
    # A translation, not the English copied: every text longer than a name differs.
    for model in SEEDED:
        for obj in model.objects.all():
            for english, french in pairs(model):
                text = getattr(obj, english) or ""
                if len(text.split()) > 4:
                    assert getattr(obj, french) != text, f"{model.__name__} {obj.pk} {french}"


def test_quotes_stay_in_english_with_our_french_translation(seeded):
    assert Statement.objects.count() == 13
    for statement in Statement.objects.all():
        assert statement.language == "en", statement
        assert statement.translation_fr.strip(), statement
        # English words need no English translation.
        assert statement.translation_en == "", statement
    # The quotes kept verbatim (tests/test_seed_facts.py checks them against the articles).
    assert Statement.objects.filter(text="It's possible that might never happen.").exists()
    for commitment in Commitment.objects.all():
        assert commitment.original_wording_language == "en", commitment.slug
        assert commitment.original_wording_translation_fr.strip(), commitment.slug
    # Both articles are English-language reports.
    assert set(Source.objects.values_list("language", flat=True)) == {"en"}


def test_the_maritime_doctrine_says_prefecture_maritime_in_french(seeded):
    # Wherever the English says "maritime prefecture", the French says "préfecture
    # maritime" (the issue's search for "préfecture" and "prefecture").
    said = 0
    for model in SEEDED:
        for obj in model.objects.all():
            for english, french in pairs(model):
                if "maritime prefecture" in str(getattr(obj, english) or "").lower():
                    assert "préfecture maritime" in getattr(obj, french).lower(), (
                        f"{model.__name__} {obj.pk} {french}"
                    )
                    said += 1
    assert said >= 4
    doctrine = Commitment.objects.get(slug="french-maritime-doctrine-shallow-waters")
    assert any(
        "préfecture maritime" in update.description_fr for update in doctrine.status_updates.all()
    )
    prefecture = Actor.objects.get(slug="channel-maritime-prefecture")
    assert prefecture.name_fr == "Préfecture maritime de la Manche"
    assert doctrine.statements.filter(speaker=prefecture).exists()


def test_the_french_is_in_french_typography(seeded):
    # « » with no-break spaces, a no-break space before : ; ? !, no double quotes (they
    # would mark the articles' own English words), typographic apostrophes.
    for (kind, pk), row in all_french().items():
        for field, text in row.items():
            if field == "pk" or not text:
                continue
            where = f"{kind} {pk} {field}: {text[:60]!r}"
            assert not re.search(r"[\"\u201c\u201d']", text), where
            assert not re.search(r" [:;?!»]|« ", text), where
            assert text.count("«") == text.count("»"), where
            assert not re.search(r"«(?!\u00a0)|(?<!\u00a0)»", text), where
    arrivals = Observation.objects.get(value=36956)
    assert f"36{NBSP}816" in arrivals.note_fr


# --- The loader -----------------------------------------------------------------------------


def test_a_second_run_changes_nothing(capsys):
    call_command("load_seeds")
    french, english, history = all_french(), all_english(), history_counts()
    capsys.readouterr()
    call_command("load_seeds")
    assert "nothing new" in capsys.readouterr().out
    assert (all_french(), all_english(), history_counts()) == (french, english, history)


def test_a_database_seeded_in_english_gets_the_french_and_keeps_an_editors(tmp_path, capsys):
    # Seeded before issue 13: the same records, no French.
    old = tmp_path / "before"
    old.mkdir()
    write(old, english_only(read_seed_file(SEED_FILE)))
    load_seeds(old)
    assert Commitment.objects.count() == 4 and Statement.objects.count() == 13
    # Every French value the seed file gives is missing.
    assert len(missing_french()) == french_keys(read_seed_file(SEED_FILE)) > 70
    english = all_english()

    # An editor then writes some French of their own.
    doctrine = Commitment.objects.get(slug="french-maritime-doctrine-shallow-waters")
    doctrine.title_fr = "Doctrine maritime : le titre de la rédaction"
    doctrine.save()
    step = doctrine.status_updates.get()
    StatusUpdate.objects.filter(pk=step.pk).update(description_fr="Le pas, par la rédaction.")
    walsh = Statement.objects.get(speaker__slug="peter-walsh")
    walsh.translation_fr = "Cela pourrait ne jamais arriver (traduction de la rédaction)."
    walsh.save()
    hewitt = Actor.objects.get(slug="martin-hewitt")
    hewitt.role_fr = "Chef de la sécurité des frontières"
    hewitt.save()

    capsys.readouterr()
    call_command("load_seeds")
    assert "translations filled in" in capsys.readouterr().out

    # Everything blank is filled ...
    assert not missing_french(), missing_french()
    assert Topic.objects.get(slug="channel-crossings").name_fr == "Traversées de la Manche"
    assert "préfecture maritime" in (
        Commitment.objects.get(slug="intercept-taxi-boats").status_updates.latest().description_fr
    )
    # ... the editor's French is kept, field by field ...
    doctrine.refresh_from_db()
    assert doctrine.title_fr == "Doctrine maritime : le titre de la rédaction"
    assert doctrine.summary_fr.startswith("La France s’est engagée")  # blank, so filled
    assert StatusUpdate.objects.get(pk=step.pk).description_fr == "Le pas, par la rédaction."
    walsh.refresh_from_db()
    assert walsh.translation_fr.endswith("(traduction de la rédaction).")
    hewitt.refresh_from_db()
    assert hewitt.role_fr == "Chef de la sécurité des frontières"
    assert hewitt.description_fr.startswith("L’homme chargé")
    # ... the English is untouched, no record added, and the history says why.
    assert all_english() == english
    assert Commitment.objects.count() == 4 and Statement.objects.count() == 13
    assert doctrine.history.first().history_change_reason == "Seed data: translation filled in"

    # And once filled, nothing more to do.
    capsys.readouterr()
    call_command("load_seeds")
    assert "nothing new" in capsys.readouterr().out


def test_a_bad_language_code_is_refused_naming_record_and_field(tmp_path):
    data = read_seed_file(SEED_FILE)
    data["statements"][0]["language"] = "English"
    data["commitments"][1]["original_wording_language"] = "fr_FR"
    data["sources"][1]["language"] = "EN"
    del data["topics"][0]["basis"]  # listed with the rest, not instead
    path = write(tmp_path, data)
    with pytest.raises(SeedError) as refused:
        load_seed_file(path)
    message = str(refused.value)
    assert (
        "statement 1 (\"It's just a political stunt. It's much blah-blah\"): "
        "`language: 'English'` is not a language code" in message
    )
    assert (
        "commitment 'intercept-taxi-boats': `original_wording_language: 'fr_FR'` is not a "
        "language code" in message
    )
    assert "source 'gb-news': `language: 'EN'` is not a language code" in message
    assert "topic 'channel-crossings': has no basis" in message
    assert not Topic.objects.exists() and not Source.objects.exists()  # nothing stored

    with pytest.raises(CommandError, match=r"`language: 'English'` is not a language code"):
        call_command("load_seeds", "--directory", str(tmp_path))
    assert not Topic.objects.exists()


def test_a_bad_translated_field_is_refused_naming_record_and_field(tmp_path):
    data = read_seed_file(SEED_FILE)
    doctrine = data["commitments"][0]
    doctrine["titel_fr"] = doctrine.pop("title_fr")  # a typo would otherwise be lost
    data["topics"][0]["name_en"] = "Channel crossings"  # the English is in `name`
    data["actors"][0]["role_fr"] = "Gouvernement"  # French for an English it lacks
    data["actors"][1]["name_fr"] = "x" * 201  # longer than the column
    data["statements"][0]["translation_en"] = "It is a stunt."  # English into English
    data["indicators"][0]["unit_fr"] = ["personnes"]  # not text
    with pytest.raises(SeedError) as refused:
        load_seed_file(write(tmp_path, data))
    message = str(refused.value)
    for expected in [
        "commitment 'french-maritime-doctrine-shallow-waters': `titel_fr` is not a "
        "translated field of commitments (theirs are: title_fr, summary_fr, made_where_fr, "
        "original_wording_translation_en, original_wording_translation_fr)",
        "topic 'channel-crossings': `name_en` is not a translated field of topics",
        "actor 'uk-government': `role_fr` translates `role`, which it does not have",
        "actor 'french-government': `name_fr` is 201 characters long, at most 200",
        "statement 1 (\"It's just a political stunt. It's much blah-blah\"): `translation_en` "
        "translates the words into their own language (`language: en`)",
        "indicator 'small-boat-arrivals-2025': `unit_fr` is not text",
    ]:
        assert expected in message, expected
    assert not Topic.objects.exists()


def test_translation_fields_cover_every_translated_field():
    # The loader reads the one list in languages.py, plus the quotes' translations.
    assert set(translation_fields(Commitment)) == {
        "title_fr",
        "summary_fr",
        "made_where_fr",
        "original_wording_translation_en",
        "original_wording_translation_fr",
    }
    assert set(translation_fields(Statement)) == {
        "speaker_description_fr",
        "translation_en",
        "translation_fr",
    }
    assert set(translation_fields(StatusUpdate)) == {"description_fr", "correction_note_fr"}
    assert set(translation_fields(Source)) == set()


def test_a_seeded_steps_event_carries_its_french(db):
    from commitments.models import OutboxEvent

    load_seeds()
    events = OutboxEvent.objects.filter(type="status_update.created")
    assert events.exists()
    for event in events:
        french = event.payload["translations"]["fr"]["summary"]
        assert french and french != event.payload["summary"], event.key
