"""Loads the seed data in ``seeds/``: creates what is missing, leaves what exists alone.

Sources and status updates go through the services, so the seed data obeys the same
rules as an editor's work (normalised addresses, a source for every step, dates that
make sense, the current status in step).

Every record in a seed file carries a ``basis``: the source it rests on and the
article's sentence(s), copied verbatim, so a fact-checker can trace it. A file with a
record that has none is refused before anything is written. The basis is not stored
(no model field holds it); tests/test_seed_facts.py checks it against the articles."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import services
from .models import (
    Actor,
    Commitment,
    CommitmentActor,
    Indicator,
    Observation,
    Source,
    Statement,
    Topic,
)

SEEDS_DIR = Path(settings.BASE_DIR) / "seeds"


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, created: bool) -> None:
        self.created[kind] = self.created.get(kind, 0) + int(created)

    @property
    def total(self) -> int:
        return sum(self.created.values())

    def __str__(self) -> str:
        parts = [f"{count} {kind}" for kind, count in self.created.items() if count]
        return "created " + ", ".join(parts) if parts else "nothing new: the seed data is loaded"


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


def _records(data: dict):
    """Every record of a seed file with a name a reader can find it by."""
    for item in data.get("topics") or []:
        yield f"topic {item.get('slug')!r}", item
    for item in data.get("actors") or []:
        yield f"actor {item.get('slug')!r}", item
    for item in data.get("sources") or []:
        yield f"source {item.get('key')!r}", item
    for item in data.get("commitments") or []:
        name = f"commitment {item.get('slug')!r}"
        yield name, item
        for number, update in enumerate(item.get("updates") or [], 1):
            status, date = update.get("status"), update.get("effective_on")
            yield f"status update {number} ({status}, {date}) of {name}", update
    for number, item in enumerate(data.get("statements") or [], 1):
        text = " ".join(str(item.get("text", "")).split())
        yield f"statement {number} ({text[:60]!r})", item
    for item in data.get("indicators") or []:
        name = f"indicator {item.get('slug')!r}"
        yield name, item
        for number, obs in enumerate(item.get("observations") or [], 1):
            yield f"observation {number} ({obs.get('observed_on')}) of {name}", obs


def validate_seed_data(data: dict, path: Path | str = "seed file") -> None:
    """Refuse a seed file in which a record has no basis, or a basis that names no known
    source or gives no sentence. Every problem is listed, each naming its record."""
    source_keys = {item.get("key") for item in data.get("sources") or []}
    problems = [
        f"{name}: {problem}"
        for name, item in _records(data)
        for problem in _basis_problems(item.get("basis"), source_keys)
    ]
    if problems:
        raise SeedError(
            f"{path}: every seed record needs a basis (a list of entries, each with "
            "`source:` a source key and `text:` the article's sentence(s) it rests on, "
            "copied verbatim).\n  " + "\n  ".join(problems)
        )


def _date(value) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def _create_if_missing(model, lookup: dict, values: dict):
    obj = model.objects.filter(**lookup).first()
    if obj:
        return obj, False
    obj = model(**lookup, **values)
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
        actor, created = _create_if_missing(Actor, {"slug": item["slug"]}, values)
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
                "made_on": _date(item["made_on"]),
                "made_precision": item.get("made_precision", "day"),
                "made_in": sources.get(item.get("made_in")),
                "made_where": item.get("made_where", ""),
                "deadline": _date(item.get("deadline")),
                "deadline_precision": item.get("deadline_precision", "day"),
                "is_published": item.get("published", True),
                "published_at": timezone.now() if item.get("published", True) else None,
            },
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
            exists = commitment.status_updates.filter(
                effective_on=effective_on,
                status=update["status"],
                description=update["description"].strip(),
            ).exists()
            if not exists:
                services.status_update_create(
                    commitment=commitment,
                    status=update["status"],
                    effective_on=effective_on,
                    effective_precision=update.get("effective_precision", "day"),
                    description=update["description"],
                    sources=[sources[key] for key in update["sources"]],
                )
            report.add("status updates", not exists)

    for item in data.get("statements", []):
        statement, created = _create_if_missing(
            Statement,
            {"source": sources[item["source"]], "text": item["text"].strip()},
            {
                "kind": item.get("kind", Statement.Kind.QUOTE),
                "speaker": actors.get(item.get("speaker")),
                "speaker_description": item.get("speaker_description", ""),
                "said_on": _date(item["said_on"]),
                "said_precision": item.get("said_precision", "day"),
            },
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
