"""Loads the seed data in ``seeds/``: creates what is missing, leaves what exists alone,
except for one thing: a French (or other translated) field still blank on a record that
exists is filled from the seed file.

Sources and status updates go through the services, so the seed data obeys the same
rules as an editor's work (normalised addresses, a source for every step, dates that
make sense, the current status in step).

Every record in a seed file carries a ``basis``: the source it rests on and the
article's sentence(s), copied verbatim, so a fact-checker can trace it. A file with a
record that has none is refused before anything is written. The basis is not stored
(no model field holds it); tests/test_seed_facts.py checks it against the articles.

Two languages (issue 13, ``languages.py``): a record of a translated kind carries its
French beside the English under the field's own name (``title_fr``, ``description_fr``,
``unit_fr``...), the editors' translation of their own words. A quote keeps the words and
the language it was said in (``language:`` on a statement, ``original_wording_language:``
on a commitment, ``language:`` on a source) and may carry our translation
(``translation_fr``, ``original_wording_translation_fr``). These are checked with the rest
before anything is written: a language that is not a code such as ``en`` or ``fr``, a
translated field the record's kind does not have, a translation longer than its column or
without the English it translates, is refused, naming the record and the field.

Filling in, never overwriting: on a record that already exists (matched as before: by
slug, or by its source and words for a statement, its date and words for a step), each
translated field that is blank in the database and given in the seed file is filled, so a
database seeded before issue 13 gets its French on the next ``make run``. A field that has
text, an editor's translation or anything else, is left alone; nothing else about an
existing record changes. The fill is saved field by field (``save(update_fields=...)``),
so django-simple-history records it, with the reason "Seed data: translation filled in";
a status update's French is the one thing its append-only trigger lets change (migration
0019). A second run finds nothing blank and changes nothing."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import services
from .languages import (
    BASE_LANGUAGE,
    CONTENT_LANGUAGES,
    EXTRA_LANGUAGES,
    TRANSLATED_FIELDS,
    field_name,
    language_code_validator,
)
from .models import (
    Actor,
    Commitment,
    CommitmentActor,
    Indicator,
    Observation,
    Source,
    Statement,
    StatusUpdate,
    Topic,
)

SEEDS_DIR = Path(settings.BASE_DIR) / "seeds"


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    #: Records that existed and had blank translated fields filled, by kind.
    filled: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, created: bool) -> None:
        self.created[kind] = self.created.get(kind, 0) + int(created)

    def add_filled(self, kind: str, filled: bool) -> None:
        self.filled[kind] = self.filled.get(kind, 0) + int(filled)

    @property
    def total(self) -> int:
        return sum(self.created.values()) + sum(self.filled.values())

    def __str__(self) -> str:
        parts = [f"{count} {kind}" for kind, count in self.created.items() if count]
        filled = [f"{count} {kind}" for kind, count in self.filled.items() if count]
        said = []
        if parts:
            said.append("created " + ", ".join(parts))
        if filled:
            said.append("translations filled in on " + ", ".join(filled))
        return "; ".join(said) if said else "nothing new: the seed data is loaded"


class SeedError(ValueError):
    """A seed file is refused: what is wrong, naming each record."""


def _basis_problems(basis, source_keys: set[str]) -> list[str]:
    if not basis:
        return ["has no basis"]
    if not isinstance(basis, list):
        return ["has a basis that is not a list of {source, text} entries"]
    problems = []
    for number, entry in enumerate(basis, 1):
        if not isinstance(entry, dict):
            problems.append(f"basis entry {number} is not a {{source, text}} mapping")
            continue
        key = entry.get("source")
        if key not in source_keys:
            problems.append(f"basis entry {number} names an unknown source {key!r}")
        text = entry.get("text")
        if not isinstance(text, str) or not text.strip():
            problems.append(f"basis entry {number} has no text (the article's sentence)")
    return problems


def _typed_records(data: dict):
    """Every record of a seed file: its model, a name a reader can find it by, the record."""
    for item in data.get("topics") or []:
        yield Topic, f"topic {item.get('slug')!r}", item
    for item in data.get("actors") or []:
        yield Actor, f"actor {item.get('slug')!r}", item
    for item in data.get("sources") or []:
        yield Source, f"source {item.get('key')!r}", item
    for item in data.get("commitments") or []:
        name = f"commitment {item.get('slug')!r}"
        yield Commitment, name, item
        for number, update in enumerate(item.get("updates") or [], 1):
            status, date = update.get("status"), update.get("effective_on")
            yield StatusUpdate, f"status update {number} ({status}, {date}) of {name}", update
    for number, item in enumerate(data.get("statements") or [], 1):
        text = " ".join(str(item.get("text", "")).split())
        yield Statement, f"statement {number} ({text[:60]!r})", item
    for item in data.get("indicators") or []:
        name = f"indicator {item.get('slug')!r}"
        yield Indicator, name, item
        for number, obs in enumerate(item.get("observations") or [], 1):
            yield Observation, f"observation {number} ({obs.get('observed_on')}) of {name}", obs


def _records(data: dict):
    """Every record of a seed file with a name a reader can find it by."""
    for _model, name, item in _typed_records(data):
        yield name, item


# --- Languages -------------------------------------------------------------------------

#: Where a record's quoted words keep their language, and the prefix of our translations
#: of them (``translation_fr``), per model.
QUOTED = {
    Statement: ("language", "translation", "text"),
    Commitment: ("original_wording_language", "original_wording_translation", "original_wording"),
}
#: Where a record keeps the language it is written in, without translations of it.
LANGUAGE_ONLY = {Source: "language"}


def translation_fields(model) -> dict[str, str]:
    """The translated fields a seed record of ``model`` may carry, each with the English
    field it translates: ``{"title_fr": "title", ...}``; for quoted words, our translation
    into every content language (``translation_en``, ``translation_fr``) with the quote."""
    fields = {
        field_name(name, code): name
        for name in TRANSLATED_FIELDS.get(model.__name__, ())
        for code in EXTRA_LANGUAGES
    }
    if model in QUOTED:
        _language, prefix, quoted = QUOTED[model]
        fields.update({f"{prefix}_{code}": quoted for code, _name in CONTENT_LANGUAGES})
    return fields


def _language_fields(model) -> tuple[str, ...]:
    if model in QUOTED:
        return (QUOTED[model][0],)
    if model in LANGUAGE_ONLY:
        return (LANGUAGE_ONLY[model],)
    return ()


def _language_problems(model, item: dict) -> list[str]:
    """What is wrong with a record's languages and translations, each naming the field."""
    problems = []
    for key in _language_fields(model):
        if key not in item:
            continue
        value = item[key]
        try:
            if not isinstance(value, str):
                raise ValidationError("not text")
            language_code_validator(value)
        except ValidationError:
            problems.append(
                f"`{key}: {value!r}` is not a language code: use a code such as en or fr"
            )
    allowed = translation_fields(model)
    codes = "|".join(code for code, _name in CONTENT_LANGUAGES)
    for key in item:
        if re.search(rf"_({codes})$", str(key)) and key not in allowed:
            problems.append(
                f"`{key}` is not a translated field of {model._meta.verbose_name_plural} "
                f"(theirs are: {', '.join(allowed) or 'none'})"
            )
    for key, english in allowed.items():
        value = item.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append(f"`{key}` is not text")
            continue
        if value.strip() and not str(item.get(english) or "").strip():
            problems.append(f"`{key}` translates `{english}`, which it does not have")
        limit = model._meta.get_field(key).max_length
        if limit and len(value.strip()) > limit:
            problems.append(f"`{key}` is {len(value.strip())} characters long, at most {limit}")
    if model in QUOTED:
        language_key, prefix, _quoted = QUOTED[model]
        own = str(item.get(language_key) or BASE_LANGUAGE).split("-")[0]
        if str(item.get(f"{prefix}_{own}") or "").strip():
            problems.append(
                f"`{prefix}_{own}` translates the words into their own language "
                f"(`{language_key}: {own}`)"
            )
    return problems


def _translations(model, item: dict) -> dict[str, str]:
    """The translated fields a seed record gives, stripped, to store on a new record."""
    return {
        key: str(item[key]).strip()
        for key in translation_fields(model)
        if item.get(key) is not None
    }


def _fill_translations(obj, item: dict) -> bool:
    """Fill the translated fields that are blank on an existing record from its seed
    record; never one that has text. True when something was filled (and saved)."""
    changed = [
        key
        for key, value in _translations(type(obj), item).items()
        if value and not str(getattr(obj, key) or "").strip()
    ]
    if not changed:
        return False
    for key in changed:
        setattr(obj, key, str(item[key]).strip())
    obj.clean_fields(exclude=[f.name for f in obj._meta.fields if f.name not in changed])
    obj._change_reason = "Seed data: translation filled in"
    obj.save(update_fields=changed)
    return True


def validate_seed_data(data: dict, path: Path | str = "seed file") -> None:
    """Refuse a seed file in which a record has no basis, or a basis that names no known
    source or gives no sentence; or a bad language code or translated field (see the
    module's docstring). Every problem is listed, each naming its record and field."""
    source_keys = {item.get("key") for item in data.get("sources") or []}
    sections = []
    problems = [
        f"{name}: {problem}"
        for name, item in _records(data)
        for problem in _basis_problems(item.get("basis"), source_keys)
    ]
    if problems:
        sections.append(
            "every seed record needs a basis (a list of entries, each with `source:` a "
            "source key and `text:` the article's sentence(s) it rests on, copied "
            "verbatim).\n  " + "\n  ".join(problems)
        )
    problems = [
        f"{name}: {problem}"
        for model, name, item in _typed_records(data)
        for problem in _language_problems(model, item)
    ]
    if problems:
        sections.append(
            "languages and translations (a French field is named like its English one, "
            "with _fr; a language is a code such as en or fr).\n  " + "\n  ".join(problems)
        )
    if sections:
        raise SeedError(f"{path}: " + f"\n{path}: ".join(sections))


def _date(value) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def _create_if_missing(model, lookup: dict, values: dict, item: dict, report: SeedReport):
    """The record ``lookup`` finds, its blank translations filled from ``item``; or a new
    one with ``values`` and the translations ``item`` gives. Returns (record, created)."""
    obj = model.objects.filter(**lookup).first()
    if obj:
        report.add_filled(str(model._meta.verbose_name_plural), _fill_translations(obj, item))
        return obj, False
    obj = model(**lookup, **values, **_translations(model, item))
    obj.full_clean()
    obj.save()
    return obj, True


@transaction.atomic
def load_seed_file(path: Path, report: SeedReport | None = None) -> SeedReport:
    report = report or SeedReport()
    data = read_seed_file(path)
    validate_seed_data(data, path)

    topics = {}
    for item in data.get("topics", []):
        topic, created = _create_if_missing(
            Topic,
            {"slug": item["slug"]},
            {"name": item["name"], "description": item.get("description", "")},
            item,
            report,
        )
        topics[topic.slug] = topic
        report.add("topics", created)

    actors = {}
    for item in data.get("actors", []):
        values = {
            "name": item["name"],
            "kind": item["kind"],
            "country": item.get("country", ""),
            "role": item.get("role", ""),
            "description": item.get("description", ""),
        }
        if item.get("parent"):
            values["parent"] = actors[item["parent"]]
        actor, created = _create_if_missing(Actor, {"slug": item["slug"]}, values, item, report)
        actors[actor.slug] = actor
        report.add("actors", created)

    sources = {}
    for item in data.get("sources", []):
        source, created = services.source_get_or_create(
            url=item.get("url"),
            title=item["title"],
            outlet=item["outlet"],
            author=item.get("author") or "",
            published_on=_date(item.get("published_on")),
            published_precision=item.get("published_precision", "day"),
            kind=item.get("kind", Source.Kind.NEWS_REPORT),
            language=item.get("language", "en"),
            notes=item.get("notes", ""),
        )
        sources[item["key"]] = source
        report.add("sources", created)

    commitments = {}
    for item in data.get("commitments", []):
        commitment, created = _create_if_missing(
            Commitment,
            {"slug": item["slug"]},
            {
                "title": item["title"],
                "summary": item["summary"],
                "original_wording": item.get("original_wording", ""),
                "original_wording_language": item.get("original_wording_language", "en"),
                "made_on": _date(item["made_on"]),
                "made_precision": item.get("made_precision", "day"),
                "made_in": sources.get(item.get("made_in")),
                "made_where": item.get("made_where", ""),
                "deadline": _date(item.get("deadline")),
                "deadline_precision": item.get("deadline_precision", "day"),
                "is_published": item.get("published", True),
                "published_at": timezone.now() if item.get("published", True) else None,
            },
            item,
            report,
        )
        commitments[commitment.slug] = commitment
        report.add("commitments", created)
        if created:
            commitment.topics.set([topics[slug] for slug in item.get("topics", [])])
            for role in item.get("roles", []):
                CommitmentActor.objects.create(
                    commitment=commitment, actor=actors[role["actor"]], role=role["role"]
                )
        for update in item.get("updates", []):
            effective_on = _date(update["effective_on"])
            existing = commitment.status_updates.filter(
                effective_on=effective_on,
                status=update["status"],
                description=update["description"].strip(),
            ).first()
            if existing:
                report.add_filled("status updates", _fill_translations(existing, update))
            else:
                created_update = services.status_update_create(
                    commitment=commitment,
                    status=update["status"],
                    effective_on=effective_on,
                    effective_precision=update.get("effective_precision", "day"),
                    description=update["description"],
                    description_fr=str(update.get("description_fr") or "").strip(),
                    sources=[sources[key] for key in update["sources"]],
                )
                # Both languages in the one INSERT, so the step's event carries its French;
                # anything else translated on it (none today) is filled as on an old step.
                _fill_translations(created_update, update)
            report.add("status updates", not existing)

    for item in data.get("statements", []):
        statement, created = _create_if_missing(
            Statement,
            {"source": sources[item["source"]], "text": item["text"].strip()},
            {
                "kind": item.get("kind", Statement.Kind.QUOTE),
                "language": item.get("language", "en"),
                "speaker": actors.get(item.get("speaker")),
                "speaker_description": item.get("speaker_description", ""),
                "said_on": _date(item["said_on"]),
                "said_precision": item.get("said_precision", "day"),
            },
            item,
            report,
        )
        if created:
            statement.commitments.set([commitments[slug] for slug in item["commitments"]])
        report.add("statements", created)

    for item in data.get("indicators", []):
        indicator, created = _create_if_missing(
            Indicator,
            {"slug": item["slug"]},
            {
                "name": item["name"],
                "unit": item["unit"],
                "description": item.get("description", ""),
                "comparison_label": item.get("comparison_label", ""),
                "comparison_value": item.get("comparison_value"),
                "comparison_source": sources.get(item.get("comparison_source")),
            },
            item,
            report,
        )
        if created:
            indicator.topics.set([topics[slug] for slug in item.get("topics", [])])
            indicator.commitments.set([commitments[slug] for slug in item.get("commitments", [])])
        report.add("indicators", created)
        for obs in item.get("observations", []):
            _obs, created = _create_if_missing(
                Observation,
                {
                    "indicator": indicator,
                    "observed_on": _date(obs["observed_on"]),
                    "source": sources[obs["source"]],
                },
                {
                    "observed_precision": obs.get("observed_precision", "day"),
                    "value": obs["value"],
                    "note": obs.get("note", "").strip(),
                },
                obs,
                report,
            )
            report.add("observations", created)
    return report


def read_seed_file(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def load_seeds(directory: Path = SEEDS_DIR) -> SeedReport:
    """Load every seed file, all or nothing: each is checked before any is written."""
    paths = sorted(directory.glob("*.yaml"))
    for path in paths:
        validate_seed_data(read_seed_file(path), path)
    report = SeedReport()
    with transaction.atomic():
        for path in paths:
            load_seed_file(path, report)
    return report
