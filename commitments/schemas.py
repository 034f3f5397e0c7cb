"""What the public records look like as data: the one definition of each field's name, type
and value, for the JSON API (``api``) and, for a commitment, the CSV and JSON exports and
the nightly snapshots (``exports``, ``services/snapshots``).

A commitment is serialised here once. ``CommitmentOut`` is the API's; ``CommitmentRow`` is
the same commitment flattened for a spreadsheet (actor and topic names, no null), and its
fields, in their order, are the CSV's columns and the JSON export's keys. The values both
share (address, status label, dates, open flags) come from the resolvers of one base class.

django-ninja builds ``/api/openapi.json`` from these classes, so the description cannot
drift from the output.

Two languages (issue 13), one shape everywhere: the API is language-neutral (codes, ISO
dates), whatever the request's address or ``Accept-Language``. Each translated text keeps
its field, in English, and its French sits beside it as ``<field>_fr`` ("" when not yet
translated: the caller chooses its fallback); a label we write (a status, a kind) keeps its
English ``*_label`` and has ``*_labels``: ``{"en-gb": ..., "fr": ...}``; a quote says its
``language`` and has our ``translations`` (``{"en": ..., "fr": ...}``, "" where there is
none). The exports add ``title_fr``, ``summary_fr``, ``status_label_fr``, ``url_fr`` and
the actors' and topics' French names (``made_by_fr``, ``responsible_fr``, ``topics_fr``) at
the end of a row.

Owns: field names, order, types and how each value is worked out from a commitment (or
source, actor, revision ...) already read. Must not query the database (callers hand in
records with their relations fetched: ``selectors``), know about requests, or decide what
is public (the ``public()`` QuerySet methods do).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from ninja import Field, Schema

from .dates import iso_vague_date
from .languages import CONTENT_LANGUAGES
from .models import (
    Actor,
    Commitment,
    FlagReason,
    Indicator,
    Observation,
    Revision,
    Source,
    Status,
)


def absolute_url(path: str) -> str:
    """A path on this site as the full address readers use (``settings.SITE_URL``)."""
    return settings.SITE_URL + path


#: The interface languages, by code (``en-gb``, ``fr``): the keys of every ``*_labels``.
def _interface_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def labels(label) -> dict[str, str]:
    """A label we write (a lazy translation) in every language: ``{"en-gb": .., "fr": ..}``."""
    out = {}
    for code in _interface_languages():
        with translation.override(code):
            out[code] = str(label)
    return out


def in_english(build):
    """``build()`` in the site's language: a label the API returns as ``*_label`` is the
    site's, whatever language the request was in."""
    with translation.override(settings.LANGUAGE_CODE):
        return build()


def french_url(path_of) -> str:
    """The absolute address of a page in French: ``path_of()`` with French active."""
    with translation.override("fr"):
        return absolute_url(path_of())


#: The labels' schema, described once for the OpenAPI description.
LABELS = Field(
    ...,
    description='The same label in each language: {"en-gb": "Stalled", "fr": "Au point mort"}.',
)
FRENCH = "The French version; empty when not yet translated (then use the English)."


def commitment_path_prefix() -> str:
    """A commitment page's path up to its slug ("/commitments/"), from its URL pattern:
    outputs that list thousands of commitments add the slug and "/" instead of calling
    ``reverse()`` for each."""
    path = reverse("commitments:commitment_detail", kwargs={"slug": "slug"})
    return path[: -len("slug/")]


@dataclasses.dataclass(frozen=True)
class _PerOutput:
    """What is the same for every commitment of one output and costs a look-up in the
    active language or URLconf (tens of microseconds each): worked out once per output,
    not once per commitment."""

    url_prefix: str
    url_prefix_fr: str
    status_labels: dict[str, str]
    #: By status: its label in each language.
    status_labels_all: dict[str, dict[str, str]]

    @classmethod
    def now(cls) -> _PerOutput:
        return cls(
            url_prefix=absolute_url(in_english(commitment_path_prefix)),
            url_prefix_fr=french_url(commitment_path_prefix),
            status_labels=in_english(
                lambda: {value: str(label) for value, label in Status.choices}
            ),
            status_labels_all={value: labels(label) for value, label in Status.choices},
        )


def _per_output(context: dict | None) -> _PerOutput:
    """This output's ``_PerOutput``, kept in ``context``: ninja's validation context for
    one API answer, or the dict ``CommitmentRow.rows`` keeps for one export."""
    if context is None:
        return _PerOutput.now()
    if "commitment_per_output" not in context:
        context["commitment_per_output"] = _PerOutput.now()
    return context["commitment_per_output"]


# --- A commitment ----------------------------------------------------------------------------


class ActorRef(Schema):
    slug: str
    name: str
    name_fr: str = Field(..., description=FRENCH)
    role: str


class TopicRef(Schema):
    slug: str
    name: str
    name_fr: str = Field(..., description=FRENCH)


class _CommitmentValues(Schema):
    """The values every output of a commitment shares, one rule each. ``obj`` is a
    ``Commitment``, or an export record with the same field names (``selectors.
    commitment_export_rows``); ``obj.open_flags`` is its open flags, already read."""

    @staticmethod
    def resolve_url(obj, context=None) -> str:
        return f"{_per_output(context).url_prefix}{obj.slug}/"

    @staticmethod
    def resolve_url_fr(obj, context=None) -> str:
        return f"{_per_output(context).url_prefix_fr}{obj.slug}/"

    @staticmethod
    def resolve_status_label(obj, context=None) -> str:
        """The label readers see; a value no longer in the vocabulary as it is."""
        return _per_output(context).status_labels.get(obj.status, obj.status)

    @staticmethod
    def resolve_status_labels(obj, context=None) -> dict[str, str]:
        known = _per_output(context).status_labels_all.get(obj.status)
        return known or {code: obj.status for code in _interface_languages()}

    @staticmethod
    def resolve_status_label_fr(obj, context=None) -> str:
        return _CommitmentValues.resolve_status_labels(obj, context).get("fr", obj.status)

    @staticmethod
    def resolve_status_since(obj) -> str | None:
        return iso_vague_date(obj.status_since, obj.status_since_precision) or None

    @staticmethod
    def resolve_made_on(obj) -> str:
        return iso_vague_date(obj.made_on, obj.made_precision)

    @staticmethod
    def resolve_deadline(obj) -> str | None:
        return iso_vague_date(obj.deadline, obj.deadline_precision) or None

    @staticmethod
    def resolve_open_flags(obj) -> list[str]:
        return [flag.plain_words() for flag in obj.open_flags]


# A class's docstring is its description in /api/openapi.json: these notes for readers of
# the code are comments, so the published description stays as it is.


class CommitmentOut(_CommitmentValues):
    # A commitment in the API, from a ``Commitment`` read by ``selectors`` (its roles with
    # their actors, its topics and ``open_flags`` prefetched).

    slug: str
    title: str
    url: str
    summary: str
    original_wording: str
    status: str
    status_label: str
    status_since: str | None
    made_on: str
    made_where: str
    made_where_fr: str = Field(..., description=FRENCH)
    made_in_source_id: int | None
    deadline: str | None
    actors: list[ActorRef]
    topics: list[TopicRef]
    open_flags: list[str]
    last_checked: str | None
    # Issue 13: the French beside the English, our labels in both languages, the original
    # wording's language and our translations of it.
    title_fr: str = Field(..., description=FRENCH)
    summary_fr: str = Field(..., description=FRENCH)
    url_fr: str = Field(..., description="The commitment's page in French.")
    status_labels: dict[str, str] = LABELS
    open_flag_labels: list[dict[str, str]] = Field(
        ...,
        description="Each open flag's reason, as a label in each language, in the order "
        'of open_flags: [{"en-gb": "No recent progress", "fr": "..."}].',
    )
    original_wording_language: str = Field(..., description="A code such as en or fr.")
    original_wording_translations: dict[str, str] = Field(
        ..., description='Our translations of the original wording: {"en": "", "fr": "..."}.'
    )

    @staticmethod
    def resolve_open_flag_labels(obj: Commitment) -> list[dict[str, str]]:
        reasons = dict(FlagReason.choices)
        return [
            labels(reasons[flag.reason])
            if flag.reason in reasons
            else {code: flag.reason for code in _interface_languages()}
            for flag in obj.open_flags
        ]

    @staticmethod
    def resolve_original_wording_translations(obj: Commitment) -> dict[str, str]:
        return {
            code: getattr(obj, f"original_wording_translation_{code}", "") or ""
            for code, _name in CONTENT_LANGUAGES
        }

    @staticmethod
    def resolve_made_in_source_id(obj: Commitment) -> int | None:
        return obj.made_in_id

    @staticmethod
    def resolve_last_checked(obj: Commitment) -> str | None:
        # The editors' newest "checked, nothing new" (``with_last_checked()``), ISO date.
        checked = getattr(obj, "last_checked", None)
        return checked.isoformat() if checked else None

    @staticmethod
    def resolve_actors(obj: Commitment) -> list[dict]:
        return [
            {
                "slug": role.actor.slug,
                "name": role.actor.name,
                "name_fr": role.actor.name_fr,
                "role": role.role,
            }
            for role in obj.roles.all()
        ]

    @staticmethod
    def resolve_topics(obj: Commitment) -> list[dict]:
        return [{"slug": t.slug, "name": t.name, "name_fr": t.name_fr} for t in obj.topics.all()]


class CommitmentRow(_CommitmentValues):
    """A commitment in the CSV and JSON exports and the snapshots: ``CommitmentOut``'s
    values flattened for a spreadsheet. These fields, in this order, are the CSV's columns
    and the JSON export's keys; downstream users depend on both (add at the end, never
    rename). Built by ``rows`` from export records (``selectors.commitment_export_rows``):
    ``made_by``, ``responsible`` and ``topics`` there are already names."""

    title: str
    url: str
    status: str
    status_label: str
    status_since: str
    made_on: str
    made_by: list[str]
    responsible: list[str]
    topics: list[str]
    deadline: str
    open_flags: list[str]
    summary: str
    last_checked: str
    # Issue 13, at the end: the French beside the English.
    title_fr: str
    summary_fr: str
    status_label_fr: str
    url_fr: str
    # The actors' and topics' French names, in the same order as the English ones (an
    # English name where there is no French yet).
    made_by_fr: list[str]
    responsible_fr: list[str]
    topics_fr: list[str]

    # A spreadsheet has no null: a date not known is "" here (null in the API).
    @staticmethod
    def resolve_status_since(obj) -> str:
        return _CommitmentValues.resolve_status_since(obj) or ""

    @staticmethod
    def resolve_deadline(obj) -> str:
        return _CommitmentValues.resolve_deadline(obj) or ""

    @staticmethod
    def resolve_last_checked(obj) -> str:
        return obj.last_checked.isoformat() if obj.last_checked else ""

    @classmethod
    def rows(cls, records: Iterable) -> Iterator[dict[str, Any]]:
        """One row per export record, each a plain dict in field order: the values ninja's
        validation would give, without validating every row (it would double an export's
        time)."""
        values = _values_of(cls, context={})
        for record in records:
            yield {name: value(record) for name, value in values}


def _values_of(schema: type[Schema], context: dict) -> list[tuple[str, Callable[[Any], Any]]]:
    """Each field of ``schema`` with what gives its value from a record: the field's
    resolver (given ``context`` if it takes one), else the record's attribute of that name
    (as ninja does)."""
    values = []
    for name in schema.model_fields:
        resolver = getattr(schema, f"resolve_{name}", None)
        if resolver is None:
            resolver = attrgetter(name)
        elif "context" in inspect.signature(resolver).parameters:
            resolver = functools.partial(resolver, context=context)
        values.append((name, resolver))
    return values


# --- Sources, timelines, actors, indicators, revisions ---------------------------------------


class SourceOut(Schema):
    id: int
    url: str | None
    title: str
    outlet: str
    author: str
    published_on: str | None
    kind: str
    language: str
    archive_url: str
    link_status: str

    @staticmethod
    def resolve_published_on(obj: Source) -> str | None:
        return iso_vague_date(obj.published_on, obj.published_precision) or None


class CorrectionOut(Schema):
    id: int
    url: str
    status: str
    status_label: str
    date: str
    description: str
    correction_note: str
    sources: list[SourceOut]
    description_fr: str = Field(..., description=FRENCH)
    correction_note_fr: str = Field(..., description=FRENCH)
    status_labels: dict[str, str] = LABELS


class TimelineEventOut(Schema):
    kind: str
    id: int
    anchor: str
    url: str
    date: str
    status: str | None
    status_label: str | None
    text: str
    said_by: str | None
    indicator: str | None
    value: float | None
    sources: list[SourceOut]
    corrections: list[CorrectionOut]
    text_fr: str = Field(
        ...,
        description="A step's or an observation's words in French (empty when not yet "
        "translated); for a statement, always empty: see language and translations.",
    )
    status_labels: dict[str, str] | None = Field(
        ..., description='A step\'s status label in each language: {"en-gb": .., "fr": ..}.'
    )
    language: str | None = Field(
        ..., description="A statement's language, a code such as en or fr (null otherwise)."
    )
    translations: dict[str, str] | None = Field(
        ...,
        description='A statement\'s translations, ours: {"en": "", "fr": "..."} (null '
        "for other events).",
    )


class TimelineOut(Schema):
    commitment: str
    page: int
    has_earlier: bool
    events: list[TimelineEventOut]


class ActorOut(Schema):
    # An actor, from an ``Actor`` read with its parent (``select_related``).

    slug: str
    name: str
    kind: str
    country: str
    role: str
    parent: str | None
    description: str
    url: str
    name_fr: str = Field(..., description=FRENCH)
    role_fr: str = Field(..., description=FRENCH)
    description_fr: str = Field(..., description=FRENCH)
    url_fr: str = Field(..., description="The actor's page in French.")
    kind_labels: dict[str, str] = LABELS

    @staticmethod
    def resolve_url_fr(obj: Actor) -> str:
        return french_url(obj.get_absolute_url)

    @staticmethod
    def resolve_kind_labels(obj: Actor) -> dict[str, str]:
        label = dict(Actor.Kind.choices).get(obj.kind)
        return labels(label) if label else {code: obj.kind for code in _interface_languages()}

    @staticmethod
    def resolve_parent(obj: Actor) -> str | None:
        return obj.parent.slug if obj.parent_id else None

    @staticmethod
    def resolve_url(obj: Actor) -> str:
        return absolute_url(obj.get_absolute_url())


class ObservationOut(Schema):
    date: str
    value: float
    source_id: int
    note: str
    note_fr: str = Field(..., description=FRENCH)

    @staticmethod
    def resolve_date(obj: Observation) -> str:
        return iso_vague_date(obj.observed_on, obj.observed_precision)

    @staticmethod
    def resolve_value(obj: Observation) -> float:
        return float(obj.value)


class IndicatorOut(Schema):
    # An indicator, from an ``Indicator`` read with its observations
    # (``selectors.indicators_with_observations``).

    slug: str
    name: str
    unit: str
    description: str
    comparison_label: str
    comparison_value: float | None
    observations: list[ObservationOut]
    name_fr: str = Field(..., description=FRENCH)
    unit_fr: str = Field(..., description=FRENCH)
    description_fr: str = Field(..., description=FRENCH)
    comparison_label_fr: str = Field(..., description=FRENCH)

    @staticmethod
    def resolve_comparison_value(obj: Indicator) -> float | None:
        return None if obj.comparison_value is None else float(obj.comparison_value)

    @staticmethod
    def resolve_observations(obj: Indicator) -> list[Observation]:
        return list(obj.observations.all())


class ChangeOut(Schema):
    field: str
    label: str
    before: str = Field(..., description="What it said before, as the page showed it.")
    after: str = Field(..., description="What it says now.")


class RevisionOut(Schema):
    """A change to published text (not a status update): what it said before, what it says
    now, why, and the roles that proposed and applied it."""

    id: int
    kind: str = Field(..., description="correction, or minor (spelling, formatting)")
    kind_label: str
    record: str = Field(..., description="What was changed, e.g. a quote or a source.")
    record_type: str
    reason: str
    changes: list[ChangeOut]
    proposed_by_role: str
    applied_by_role: str
    applied_at: str
    commitments: list[str] = Field(..., description="Slugs of the commitments that show it.")
    url: str
    reason_fr: str = Field(..., description=FRENCH)
    kind_labels: dict[str, str] = LABELS

    @staticmethod
    def resolve_kind_labels(obj: Revision) -> dict[str, str]:
        return labels(obj.public_kind_label)

    @staticmethod
    def resolve_kind_label(obj: Revision) -> str:
        return str(obj.public_kind_label)

    @staticmethod
    def resolve_record(obj: Revision) -> str:
        return obj.object_label

    @staticmethod
    def resolve_record_type(obj: Revision) -> str:
        return obj.object_label.split(":")[0].split(" by ")[0]

    @staticmethod
    def resolve_changes(obj: Revision) -> list[dict]:
        return [
            {
                "field": c["field"],
                "label": c["label"],
                "before": c["before_text"],
                "after": c["after_text"],
            }
            for c in obj.changes
        ]

    @staticmethod
    def resolve_proposed_by_role(obj: Revision) -> str:
        return obj.proposed_role

    @staticmethod
    def resolve_applied_by_role(obj: Revision) -> str:
        return obj.decided_role

    @staticmethod
    def resolve_applied_at(obj: Revision) -> str:
        return obj.decided_at.isoformat()

    @staticmethod
    def resolve_commitments(obj: Revision) -> list[str]:
        return [c.slug for c in obj.commitments.all()]

    @staticmethod
    def resolve_url(obj: Revision) -> str:
        shown = list(obj.commitments.all())
        return absolute_url(obj.public_url(shown[0])) if shown else ""


# A timeline event mixes three models (a status update and its corrections, a statement,
# an observation): built as a dict of ``TimelineEventOut``'s fields.


def status_labels(status: str) -> dict[str, str]:
    label = dict(Status.choices).get(status)
    return labels(label) if label else {code: status for code in _interface_languages()}


def _update_out(update, commitment: Commitment) -> dict:
    return {
        "id": update.pk,
        "url": absolute_url(f"{commitment.get_absolute_url()}#{update.anchor}"),
        "status": update.status,
        "status_label": str(update.get_status_display()),
        "date": iso_vague_date(update.effective_on, update.effective_precision),
        "description": update.description,
        "correction_note": update.correction_note,
        "sources": list(update.sources.all()),
        "description_fr": update.description_fr,
        "correction_note_fr": update.correction_note_fr,
        "status_labels": status_labels(update.status),
    }


def timeline_event_out(event, commitment: Commitment) -> dict:
    obj = event.obj
    out = {
        "kind": event.kind,
        "id": obj.pk,
        "anchor": event.anchor,
        "url": absolute_url(f"{commitment.get_absolute_url()}#{event.anchor}"),
        "date": event.date_iso,
        "status": None,
        "status_label": None,
        "text": "",
        "said_by": None,
        "indicator": None,
        "value": None,
        "sources": event.sources,
        "corrections": [],
        "text_fr": "",
        "status_labels": None,
        "language": None,
        "translations": None,
    }
    if event.kind == "update":
        out.update(
            status=obj.status,
            status_label=str(obj.get_status_display()),
            text=obj.description,
            text_fr=obj.description_fr,
            status_labels=status_labels(obj.status),
            corrections=[_update_out(c, commitment) for c in obj.chain],
        )
    elif event.kind == "statement":
        out.update(
            text=obj.text,
            said_by=obj.attribution,
            language=obj.language,
            translations={
                code: getattr(obj, f"translation_{code}", "") or ""
                for code, _name in CONTENT_LANGUAGES
            },
        )
    else:
        out.update(
            text=obj.note,
            text_fr=obj.note_fr,
            indicator=obj.indicator.slug,
            value=float(obj.value),
        )
    return out
