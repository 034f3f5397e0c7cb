"""Reads that span models. Views, feeds, the API and the exports all read through here, and
here every read of public material goes through the models' ``public()`` QuerySet methods
(``querysets.py``), where what the public may see is defined once.

Reads only: it must not write, and it must not decide what is public itself (that is
``public()``'s job). Reads of one model alone belong on its QuerySet.
"""

from __future__ import annotations

import dataclasses
import datetime
import operator
from collections import defaultdict
from collections.abc import Iterator
from functools import reduce
from types import SimpleNamespace
from typing import Any

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, TruncDate
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import pgettext_lazy

from .dates import DatePrecision, iso_vague_date
from .models import (
    Actor,
    ActorRole,
    Commitment,
    CommitmentActor,
    CommitmentRelation,
    Flag,
    Indicator,
    Observation,
    Revision,
    Source,
    Statement,
    Status,
    StatusUpdate,
    Topic,
)
from .querysets import published_through
from .roles import VIEW_DRAFTS_PERMISSION
from .safety import HIGHLIGHT_START, HIGHLIGHT_STOP

#: Longest search text taken from a query string; the rest is ignored.
SEARCH_MAX_LENGTH = 200
#: Timeline events per page ("Load earlier events" fetches the next page).
TIMELINE_PAGE_SIZE = 20

# The full-text documents: PostgreSQL keeps each row's English words in ``search_document``
# (``english_unaccent``) and its French words in ``search_document_fr``
# (``french_unaccent``), each with a GIN index, both kept by a trigger (migrations 0014,
# 0017 and 0020): a commitment's title, summary and original wording, a statement's text,
# an actor's name and role, a source's outlet, title and author. Words said or written in
# one language (an original wording, a statement's text, a source) go in that language's
# document only, our translations of them in theirs. Both configurations unaccent words
# before stemming them, so "Gerald" finds "Gérald" and "prefecture" finds "préfecture".
# A search matches a row when either document matches the query parsed by its own
# configuration. Elsewhere (SQLite) the search falls back to containment in every field.
#: The English document's configuration (``search_document``).
SEARCH_CONFIG = "english_unaccent"
#: Each content language's configuration and the column holding its document.
SEARCH_CONFIGS = {"en": SEARCH_CONFIG, "fr": "french_unaccent"}
SEARCH_DOCUMENTS = {"en": "search_document", "fr": "search_document_fr"}
#: What each language's document of a model holds, in order, for a record whose own words
#: are in that language; ``SEARCH_ORIGINAL_FIELDS`` are those own words, which go in the
#: document of the record's language only (the second item names the field saying which).
SEARCH_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "Commitment": {
        "en": ("title", "summary", "original_wording", "original_wording_translation_en"),
        "fr": ("title_fr", "summary_fr", "original_wording", "original_wording_translation_fr"),
    },
    "Statement": {"en": ("text", "translation_en"), "fr": ("text", "translation_fr")},
    "Actor": {"en": ("name", "role"), "fr": ("name_fr", "role_fr")},
    "Source": {"en": ("outlet", "title", "author"), "fr": ("outlet", "title", "author")},
}
SEARCH_ORIGINAL_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "Commitment": (("original_wording",), "original_wording_language"),
    "Statement": (("text",), "language"),
    "Source": (("outlet", "title", "author"), "language"),
}


def search_fields(model: str, language: str, record_language: str = "en") -> tuple[str, ...]:
    """The fields of ``language``'s search document of a ``model`` record whose own words
    are in ``record_language``, in the trigger's order (migration 0020)."""
    own, _language_field = SEARCH_ORIGINAL_FIELDS.get(model, ((), ""))
    same = search_document_language(record_language) == language
    return tuple(f for f in SEARCH_FIELDS[model][language] if same or f not in own)


def search_document_language(code: str | None) -> str:
    """The document a record's own words in language ``code`` go in: French ones in the
    French document, every other language's in the English one (migration 0020 says why)."""
    return "fr" if (code or "").lower().split("-")[0] == "fr" else "en"


def _all_search_fields(model: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f for fields in SEARCH_FIELDS[model].values() for f in fields))


#: Every field a model's search reads, in either language (the SQLite fallback's).
COMMITMENT_SEARCH_FIELDS = _all_search_fields("Commitment")
STATEMENT_SEARCH_FIELDS = _all_search_fields("Statement")
ACTOR_SEARCH_FIELDS = _all_search_fields("Actor")
SOURCE_SEARCH_FIELDS = _all_search_fields("Source")


def clean_search_text(value: str | None) -> str:
    """Search text as it is used: NULs dropped (PostgreSQL refuses them), spaces squeezed,
    cut to ``SEARCH_MAX_LENGTH``."""
    text = " ".join((value or "").replace("\x00", " ").split())
    return text[:SEARCH_MAX_LENGTH]


def _search_query(text: str, language: str = "en"):
    """``text`` parsed (``websearch_to_tsquery``) by ``language``'s configuration."""
    from django.contrib.postgres.search import SearchQuery

    return SearchQuery(text, config=SEARCH_CONFIGS[language], search_type="websearch")


def _document_matches(text: str, prefix: str = "", languages=None) -> Q:
    """Rows (through ``prefix``, a relation such as ``"speaker__"``) whose document in any
    of ``languages`` (all by default) matches ``text`` parsed by that language's own
    configuration: an ``OR`` of one ``@@`` per GIN-indexed column."""
    return reduce(
        operator.or_,
        (
            Q(**{f"{prefix}{SEARCH_DOCUMENTS[language]}": _search_query(text, language)})
            for language in (languages or SEARCH_CONFIGS)
        ),
    )


def _matching_commitment_ids(text: str) -> QuerySet:
    """The ids of commitments ``text`` matches, in either language, through any of the
    documents: their own, a statement about them (its text, its speaker or its source), an
    actor with a role on them, the source where they were made, a source one of their steps
    cites. One ``UNION ALL`` of id sets, each found through the GIN indexes of its table's
    two documents (a ``BitmapOr``; an OR of ``IN`` subqueries would be checked row by row
    in a sequential scan); ids may repeat, ``IN`` ignores it."""
    statements = Statement.objects.filter(commitments__isnull=False).order_by()
    arms = [
        Commitment.objects.filter(_document_matches(text)).order_by().values("pk"),
        statements.filter(_document_matches(text)).values("commitments"),
        statements.filter(_document_matches(text, "speaker__")).values("commitments"),
        statements.filter(_document_matches(text, "source__")).values("commitments"),
        CommitmentActor.objects.filter(_document_matches(text, "actor__"))
        .order_by()
        .values("commitment_id"),
        Commitment.objects.filter(_document_matches(text, "made_in__")).order_by().values("pk"),
        StatusUpdate.sources.through.objects.filter(_document_matches(text, "source__"))
        .order_by()
        .values("statusupdate__commitment_id"),
    ]
    return arms[0].union(*arms[1:], all=True)


def search_commitments(queryset: QuerySet[Commitment], text: str) -> QuerySet[Commitment]:
    """Commitments whose title, summary, original wording or statements match ``text``, or
    whose actors (name, role) or sources (outlet, title, author) do, in English or French.

    PostgreSQL: full-text search (``websearch_to_tsquery``, so quotes and ``-word`` work
    and odd input is never a syntax error) on the GIN-indexed documents of both languages,
    each parsed by its own configuration, accents ignored.
    Elsewhere (SQLite, the embedded default): case-insensitive containment of the words in
    the fields of both languages.
    """
    text = clean_search_text(text)
    if not text:
        return queryset
    if connection.vendor == "postgresql":
        return queryset.filter(pk__in=_matching_commitment_ids(text))
    words = [word.strip('"') for word in text.split()]
    for word in [word for word in words if word][:10]:
        word_matches = Q()
        for field in COMMITMENT_SEARCH_FIELDS:
            word_matches |= Q(**{f"{field}__icontains": word})

        def any_of(prefix: str, fields, word=word) -> Q:
            return reduce(
                operator.or_, (Q(**{f"{prefix}{field}__icontains": word}) for field in fields)
            )

        word_matches |= any_of("made_in__", SOURCE_SEARCH_FIELDS)
        statements = Statement.objects.filter(
            any_of("", STATEMENT_SEARCH_FIELDS)
            | any_of("speaker__", ACTOR_SEARCH_FIELDS)
            | any_of("source__", SOURCE_SEARCH_FIELDS),
            commitments=OuterRef("pk"),
        )
        actors = CommitmentActor.objects.filter(
            any_of("actor__", ACTOR_SEARCH_FIELDS), commitment=OuterRef("pk")
        )
        cited = StatusUpdate.sources.through.objects.filter(
            any_of("source__", SOURCE_SEARCH_FIELDS), statusupdate__commitment=OuterRef("pk")
        )
        queryset = queryset.filter(
            word_matches | Exists(statements) | Exists(actors) | Exists(cited)
        )
    return queryset


@dataclasses.dataclass(frozen=True)
class SearchMatch:
    """Where a search matched one commitment, as ``ts_headline`` marks it (plain text with
    ``HIGHLIGHT_START``/``HIGHLIGHT_STOP`` around the words; escape it, then mark):
    ``text`` in its own words (title, summary, original wording), ``said`` a statement
    about it, ``actor`` an actor's name (and role), ``source`` a source's outlet and
    title. Empty when the match is not there. Each is in the language its match is in,
    the page's language first when both match."""

    text: str = ""
    said: str = ""
    actor: str = ""
    source: str = ""


def _in_language(field: str, language: str) -> Q:
    """Rows whose ``field`` (a language code) puts their own words in ``language``'s
    document (``search_document_language``), as the trigger decides."""
    french = Q(**{f"{field}__iexact": "fr"}) | Q(**{f"{field}__istartswith": "fr-"})
    return french if language == "fr" else ~french


class _JoinWords(Func):
    """SQL ``CONCAT_WS``: the non-NULL texts after the first argument, joined by it."""

    function = "CONCAT_WS"
    output_field = CharField()


def _words(*fields, separator: str = " "):
    """The non-empty ones of ``fields`` (names or expressions) joined by ``separator``;
    NULL when all are empty."""
    from django.db.models.functions import NullIf

    return NullIf(
        _JoinWords(Value(separator), *(NullIf(field, Value("")) for field in fields)),
        Value(""),
    )


def _said_in(language: str, original_field: str, language_field: str):
    """A record's own words (``original_field``) when they are in ``language``, else NULL."""
    return Case(
        When(_in_language(language_field, language), then=original_field),
        default=Value(None),
        output_field=CharField(),
    )


def _own_words(language: str):
    """A commitment's words in ``language``'s document: "title — summary original wording
    translation", the original wording only when it was said in ``language``."""
    from .languages import field_name

    return _words(
        field_name("title", language),
        _words(
            field_name("summary", language),
            _said_in(language, "original_wording", "original_wording_language"),
            f"original_wording_translation_{language}",
        ),
        separator=" — ",
    )


def _statement_words(language: str):
    """A statement's words in ``language``'s document: its text when said in ``language``,
    and our translation into it."""
    return _words(_said_in(language, "text", "language"), f"translation_{language}")


def _actor_words(language: str):
    """ "Name, role" in ``language``: the French name falls back to the name (most names
    are the same in both), the role is the language's own."""
    from django.db.models.functions import NullIf

    from .languages import field_name

    role = field_name("role", language)
    return Concat(
        Coalesce(NullIf(field_name("name", language), Value("")), "name"),
        Case(When(**{role: ""}, then=Value("")), default=Concat(Value(", "), role)),
        output_field=CharField(),
    )


def _source_words(language: str):
    return Concat("outlet", Value(" - "), "title", output_field=CharField())


def search_matches(commitments, text: str) -> dict[int, SearchMatch]:
    """Where ``text`` matched each of ``commitments`` (a page of results), by id: one query
    for the whole page, whatever its size, and ``ts_headline`` computed only for these
    rows (it reads the text again, so never for every match). Each highlight is in the
    language of the document that matched, with that language's configuration and words
    (the French title, our French translation of a quote), the page's language
    (``translation.get_language()``) first when both did. PostgreSQL only: elsewhere
    (SQLite) nothing is highlighted."""
    from django.contrib.postgres.search import SearchHeadline

    from .languages import content_language

    text = clean_search_text(text)
    ids = [commitment.pk for commitment in commitments]
    if not text or not ids or connection.vendor != "postgresql":
        return {}
    page_language = content_language()
    if page_language not in SEARCH_CONFIGS:
        page_language = "en"
    languages = [page_language] + [code for code in SEARCH_CONFIGS if code != page_language]

    def matches(language: str) -> Q:
        return _document_matches(text, languages=[language])

    def headline(words, **options):
        """The headline of ``words(language)`` in the first of ``languages`` whose document
        matches (the page's first); empty when neither does."""
        highlight_all = options.pop("highlight_all", False)
        return Case(
            *(
                When(
                    matches(language),
                    then=SearchHeadline(
                        words(language),
                        _search_query(text, language),
                        config=SEARCH_CONFIGS[language],
                        start_sel=HIGHLIGHT_START,
                        stop_sel=HIGHLIGHT_STOP,
                        highlight_all=highlight_all,
                        **options,
                    ),
                )
                for language in languages
            ),
            default=Value(""),
            output_field=CharField(),
        )

    def first(queryset: QuerySet, words, **options):
        """The headline of ``queryset``'s first matching row, those matching in the page's
        language first, then by id; a whole name or title unless ``options`` ask for
        fragments."""
        options.setdefault("highlight_all", True)
        return Subquery(
            queryset.filter(_document_matches(text))
            .annotate(
                match=headline(words, **options),
                elsewhere=Case(
                    When(matches(page_language), then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                ),
            )
            .order_by("elsewhere", "pk")
            .values("match")[:1],
            output_field=CharField(),
        )

    statement = first(
        Statement.objects.filter(commitments=OuterRef("pk")),
        _statement_words,
        highlight_all=False,
        max_words=35,
        min_words=15,
    )
    actor = first(
        Actor.objects.filter(
            Exists(
                CommitmentActor.objects.filter(
                    actor=OuterRef("pk"), commitment=OuterRef(OuterRef("pk"))
                )
            )
            | Exists(
                Statement.objects.filter(
                    speaker=OuterRef("pk"), commitments=OuterRef(OuterRef("pk"))
                )
            )
        ),
        _actor_words,
    )
    source = first(
        Source.objects.filter(
            Q(commitments_made=OuterRef("pk"))
            | Exists(
                StatusUpdate.sources.through.objects.filter(
                    source=OuterRef("pk"), statusupdate__commitment=OuterRef(OuterRef("pk"))
                )
            )
            | Exists(
                Statement.objects.filter(
                    source=OuterRef("pk"), commitments=OuterRef(OuterRef("pk"))
                )
            )
        ),
        _source_words,
    )
    rows = (
        Commitment.objects.filter(pk__in=ids)
        .annotate(
            own=headline(_own_words, max_words=35, min_words=15, max_fragments=2),
            statement=statement,
            actor=actor,
            source=source,
        )
        .values_list("pk", "own", "statement", "actor", "source")
    )
    return {
        pk: SearchMatch(
            text=own or "", said="" if own else said or "", actor=actor or "", source=source or ""
        )
        for pk, own, said, actor, source in rows
    }


def public_commitments() -> QuerySet[Commitment]:
    return Commitment.objects.public()


def _roles_prefetch() -> Prefetch:
    return Prefetch(
        "roles",
        queryset=CommitmentActor.objects.select_related("actor"),
    )


def _open_flags_prefetch() -> Prefetch:
    return Prefetch(
        "flags", queryset=Flag.objects.open().public().oldest_first(), to_attr="open_flags"
    )


def commitment_list_items(queryset: QuerySet[Commitment] | None = None) -> QuerySet[Commitment]:
    """Published commitments with what a list row shows, in a fixed number of queries."""
    queryset = public_commitments() if queryset is None else queryset
    return queryset.prefetch_related(
        _roles_prefetch(), "topics", _open_flags_prefetch()
    ).with_last_checked()


#: Rows fetched per round trip by the exports and snapshots; their memory is bounded by it.
EXPORT_CHUNK_SIZE = 2000


def commitment_export_rows(
    queryset: QuerySet[Commitment], *, chunk_size: int = EXPORT_CHUNK_SIZE
) -> Iterator[SimpleNamespace]:
    """The exports' records for ``queryset`` (already public, filtered and ordered), one at
    a time, in constant memory: the commitments' own values (by field name) come from a
    server-side cursor (``iterator``) and each chunk's actor names by role, topic names and
    open flags from three queries keyed by the chunk's ids. No model instance per
    commitment; ``schemas.CommitmentRow`` turns a record into the exports' row."""
    from itertools import islice

    if "last_checked" not in queryset.query.annotations:
        queryset = queryset.with_last_checked()
    rows = (
        queryset.prefetch_related(None)
        .values(
            "pk",
            "slug",
            "title",
            "summary",
            "title_fr",
            "summary_fr",
            "status",
            "status_since",
            "status_since_precision",
            "made_on",
            "made_precision",
            "deadline",
            "deadline_precision",
            "last_checked",
        )
        .iterator(chunk_size=chunk_size)
    )
    while chunk := list(islice(rows, chunk_size)):
        ids = [row["pk"] for row in chunk]
        made_by, responsible, topics, open_flags = (
            defaultdict(list),
            defaultdict(list),
            defaultdict(list),
            defaultdict(list),
        )
        by_role = {ActorRole.MADE_BY: made_by, ActorRole.RESPONSIBLE: responsible}
        # The French names in the same order as the English, each the English where it has
        # none yet, so the two lists stay aligned.
        french = defaultdict(list)
        for commitment_id, role, name, name_fr in (
            CommitmentActor.objects.filter(commitment_id__in=ids, role__in=list(by_role))
            .order_by("actor__name", "pk")
            .values_list("commitment_id", "role", "actor__name", _french_or_english("actor"))
        ):
            by_role[role][commitment_id].append(name)
            french[role, commitment_id].append(name_fr)
        for commitment_id, name, name_fr in (
            Commitment.topics.through.objects.filter(commitment_id__in=ids)
            .order_by("topic__name", "pk")
            .values_list("commitment_id", "topic__name", _french_or_english("topic"))
        ):
            topics[commitment_id].append(name)
            french["topics", commitment_id].append(name_fr)
        for flag in (
            Flag.objects.open()
            .filter(commitment_id__in=ids)
            .only("commitment_id", "reason", "since", "since_precision")
            .oldest_first()
        ):
            open_flags[flag.commitment_id].append(flag)
        for row in chunk:
            pk = row["pk"]
            yield SimpleNamespace(
                **row,
                made_by=made_by.get(pk, []),
                responsible=responsible.get(pk, []),
                topics=topics.get(pk, []),
                open_flags=open_flags.get(pk, []),
                made_by_fr=french.get((ActorRole.MADE_BY, pk), []),
                responsible_fr=french.get((ActorRole.RESPONSIBLE, pk), []),
                topics_fr=french.get(("topics", pk), []),
            )


def _french_or_english(relation: str):
    """``<relation>__name_fr``, or its English name while it has no French."""
    from django.db.models.functions import Coalesce, NullIf

    return Coalesce(NullIf(f"{relation}__name_fr", Value("")), f"{relation}__name")


def public_commitment_or_404(slug: str) -> Commitment:
    return get_object_or_404(
        public_commitments()
        .select_related("made_in")
        .prefetch_related(_roles_prefetch(), "topics", _open_flags_prefetch())
        .with_last_checked(),
        slug=slug,
    )


# --- Timeline -----------------------------------------------------------------------------


@dataclasses.dataclass
class TimelineEvent:
    kind: str  # "update", "statement" or "observation"
    obj: Any

    @property
    def anchor(self) -> str:
        return self.obj.anchor

    @property
    def date_field(self) -> str:
        return dict(EVENT_KINDS)[self.kind]

    @property
    def date_iso(self) -> str:
        """The event's date in ISO 8601 at its precision (2025-10 for "October 2025")."""
        date_field, precision_field = self.obj.vague_dates[0]
        return iso_vague_date(getattr(self.obj, date_field), getattr(self.obj, precision_field))

    @property
    def sources(self) -> list[Source]:
        if self.kind == "update":
            return list(self.obj.sources.all())
        return [self.obj.source]


@dataclasses.dataclass
class TimelinePage:
    events: list[TimelineEvent]
    page: int
    has_earlier: bool


def _sources_prefetch(lookup: str = "sources") -> Prefetch:
    """The sources of public steps, statements or figures: public by definition (a source
    is public through what cites it), so no ``public()`` filter here; it would cost a scan
    of every source's citations per page."""
    return Prefetch(lookup, queryset=Source.objects.by_date_published())


#: Each kind of timeline event, in its order on a shared date: its name and the field
#: holding its date.
EVENT_KINDS = [
    ("update", "effective_on"),
    ("statement", "said_on"),
    ("observation", "observed_on"),
]


def _event_keys(queryset, rank: int):
    """One kind's part of the timeline's UNION: (kind, pk, date, rank) rows."""
    kind, date_field = EVENT_KINDS[rank]
    return (
        queryset.annotate(
            event_kind=Value(kind, output_field=CharField()),
            event_rank=Value(rank, output_field=IntegerField()),
            event_at=F(date_field),
        )
        .values_list("event_kind", "pk", "event_at", "event_rank")
        .order_by()
    )


def commitment_timeline(commitment: Commitment, *, page: int = 1, cumulative: bool = False):
    """Status updates, statements and indicator observations, newest first, one page at a
    time. Corrections are not events of their own: each is attached (``.chain``) to the
    entry it corrects. A fixed number of queries whatever the timeline's length: one
    UNION for the page's keys, then one query per kind (and one per prefetch).

    ``cumulative`` returns every event up to and including ``page`` (the page without
    JavaScript); otherwise only that page's events (the HTMX fragment).
    """
    page = max(1, page)
    # The kinds in their order on a shared date: updates, then statements, then figures.
    kinds = [
        StatusUpdate.objects.public().filter(commitment=commitment, corrects__isnull=True),
        Statement.objects.public().filter(commitments=commitment),
        Observation.objects.public().filter(indicator__commitments=commitment),
    ]
    first, *others = [_event_keys(queryset, rank) for rank, queryset in enumerate(kinds)]
    keys = first.union(*others, all=True).order_by("-event_at", "event_rank", "-pk")
    start = 0 if cumulative else (page - 1) * TIMELINE_PAGE_SIZE
    end = page * TIMELINE_PAGE_SIZE
    rows = list(keys[start : end + 1])
    has_earlier = len(rows) > end - start
    rows = rows[: end - start]

    ids = defaultdict(list)
    for kind, pk, _at, _rank in rows:
        ids[kind].append(pk)
    objects = {}
    corrections_by_target = defaultdict(list)
    if ids["update"]:
        # The page's updates and every correction of this commitment, in one query with
        # one query for their sources; chains resolve in Python, so a correction of a
        # correction still sits beside the original entry.
        for update in (
            StatusUpdate.objects.public()
            .filter(Q(pk__in=ids["update"]) | Q(commitment=commitment, corrects__isnull=False))
            .prefetch_related(_sources_prefetch())
            .recorded_oldest_first()
        ):
            if update.corrects_id is None:
                objects[("update", update.pk)] = update
            else:
                corrections_by_target[update.corrects_id].append(update)
    if ids["statement"]:
        for statement in Statement.objects.filter(pk__in=ids["statement"]).select_related(
            "speaker", "source"
        ):
            objects[("statement", statement.pk)] = statement
    if ids["observation"]:
        for observation in Observation.objects.filter(pk__in=ids["observation"]).select_related(
            "indicator", "source"
        ):
            objects[("observation", observation.pk)] = observation

    events = []
    for kind, pk, _at, _rank in rows:
        obj = objects[(kind, pk)]
        if kind == "update":
            chain, queue = [], list(corrections_by_target.get(pk, []))
            while queue:
                correction = queue.pop(0)
                chain.append(correction)
                queue.extend(corrections_by_target.get(correction.pk, []))
            obj.chain = chain
        events.append(TimelineEvent(kind=kind, obj=obj))
    return TimelinePage(events=events, page=page, has_earlier=has_earlier)


def related_commitments(commitment: Commitment) -> list[dict]:
    """Public commitments related to this one, each with the relation in words."""
    inverse = {
        CommitmentRelation.Kind.PART_OF: pgettext_lazy("relation", "includes"),
        CommitmentRelation.Kind.DEPENDS_ON: pgettext_lazy("relation", "is needed by"),
        CommitmentRelation.Kind.SUPERSEDES: pgettext_lazy("relation", "is superseded by"),
    }
    relations = (
        CommitmentRelation.objects.filter(
            Q(from_commitment=commitment, to_commitment__in=public_commitments())
            | Q(to_commitment=commitment, from_commitment__in=public_commitments())
        )
        .select_related("from_commitment", "to_commitment")
        .order_by("kind", "pk")
    )
    related = []
    for relation in relations:
        if relation.from_commitment_id == commitment.pk:
            related.append(
                {"words": relation.get_kind_display(), "commitment": relation.to_commitment}
            )
        else:
            related.append(
                {"words": inverse[relation.kind], "commitment": relation.from_commitment}
            )
    return related


def indicators_with_observations(queryset: QuerySet[Indicator] | None = None):
    """Public indicators (of ``queryset``, if given), each with its observations oldest
    first and ``latest`` set."""
    queryset = Indicator.objects.all() if queryset is None else queryset
    indicators = list(
        queryset.public()
        .select_related("comparison_source")
        .prefetch_related(
            Prefetch(
                "observations",
                queryset=Observation.objects.public()
                .select_related("source")
                .order_by("observed_on"),
            )
        )
    )
    for indicator in indicators:
        observations = list(indicator.observations.all())
        indicator.latest = observations[-1] if observations else None
    return indicators


# --- Overview, lists and counts -------------------------------------------------------------


def status_counts(queryset: QuerySet[Commitment] | None = None) -> list[dict]:
    """Every status in the vocabulary with its count, zero included, in vocabulary order."""
    queryset = public_commitments() if queryset is None else queryset
    counts = dict(queryset.order_by().values_list("status").annotate(n=Count("*")))
    return [
        {"value": value, "label": label, "count": counts.get(value, 0)}
        for value, label in Status.choices
    ]


def recently_changed(limit: int = 10) -> QuerySet[Commitment]:
    return commitment_list_items(
        public_commitments().exclude(status_since=None).order_by("-status_since", "-updated_at")
    )[:limit]


def open_flags(limit: int | None = None) -> QuerySet[Flag]:
    """Open flags on published commitments, newest first."""
    flags = Flag.objects.open().public().select_related("commitment")
    return flags[:limit] if limit else flags


def recent_status_changes(
    limit: int = 50, *, commitment=None, actor=None, topic=None
) -> QuerySet[StatusUpdate]:
    """The latest steps recorded on published commitments (or one of them, or those of an
    actor or a topic), for feeds."""
    updates = StatusUpdate.objects.public()
    if commitment is not None:
        updates = updates.filter(commitment=commitment)
    owned = _owned_commitments(actor=actor, topic=topic)
    if owned is not None:
        updates = updates.filter(commitment__in=owned.values("pk"))
    return (
        updates.select_related("commitment", "corrects")
        .prefetch_related(_sources_prefetch())
        .recorded_newest_first()[:limit]
    )


def _owned_commitments(*, actor=None, topic=None) -> QuerySet[Commitment] | None:
    """The published commitments of ``actor`` or of ``topic`` (None when neither is given)."""
    if actor is not None:
        return actor_commitments(actor)
    if topic is not None:
        return topic_commitments(topic)
    return None


def actor_commitments(actor: Actor, *, role: str | None = None) -> QuerySet[Commitment]:
    """Published commitments in which ``actor`` has a role (``role``, if given; once each:
    ``Exists``, no DISTINCT, so the page's ORDER BY and LIMIT can use an index)."""
    roles = CommitmentActor.objects.filter(commitment=OuterRef("pk"), actor=actor)
    if role is not None:
        roles = roles.filter(role=role)
    return public_commitments().filter(Exists(roles))


def topic_commitments(topic: Topic) -> QuerySet[Commitment]:
    """Published commitments on ``topic``."""
    return public_commitments().filter(
        Exists(Commitment.topics.through.objects.filter(commitment=OuterRef("pk"), topic=topic))
    )


def actor_role_counts(actor: Actor) -> dict[str, int]:
    """How many published commitments ``actor`` has each role on, every role of the
    vocabulary included (zero too), in one query."""
    counts = dict(
        CommitmentActor.objects.filter(published_through("commitment"), actor=actor)
        .order_by()
        .values_list("role")
        .annotate(n=Count("*"))
    )
    return {role: counts.get(role, 0) for role in ActorRole.values}


#: Statements an actor's page shows, newest first; the page says how many there are in all.
ACTOR_STATEMENTS_SHOWN = 20


def actor_statements(actor: Actor) -> QuerySet[Statement]:
    """What ``actor`` said, in public statements, newest first, each with its source and
    the published commitments it is about (a fixed number of queries for any number)."""
    return (
        Statement.objects.public()
        .filter(speaker=actor)
        .select_related("source", "speaker")
        .prefetch_related(
            Prefetch(
                "commitments",
                queryset=public_commitments()
                .only("slug", "title", "title_fr")
                .order_by("title", "pk"),
                to_attr="public_commitments",
            )
        )
        .order_by("-said_on", "-pk")
    )


def _count_of(queryset: QuerySet, column: str, counted: str = "pk") -> Coalesce:
    """A correlated COUNT of the distinct ``counted`` of ``queryset``'s rows (an
    ``OuterRef`` filter on ``column`` already in it), 0 when there are none: one subquery
    per row of the outer query, with no join that would multiply its rows."""
    count = queryset.order_by().values(column).annotate(n=Count(counted, distinct=True)).values("n")
    return Coalesce(Subquery(count, output_field=IntegerField()), 0)


def actor_index() -> QuerySet[Actor]:
    """Every public actor, by kind (in the vocabulary's order) then name, each with
    ``commitment_count`` (published commitments they have a role on) and
    ``statement_count`` (their public statements): one query."""
    kind_order = Case(
        *[When(kind=kind, then=Value(rank)) for rank, kind in enumerate(Actor.Kind.values)],
        default=Value(len(Actor.Kind.values)),
        output_field=IntegerField(),
    )
    return (
        Actor.objects.public()
        .annotate(
            kind_rank=kind_order,
            commitment_count=_count_of(
                CommitmentActor.objects.filter(
                    published_through("commitment"), actor=OuterRef("pk")
                ),
                "actor",
                "commitment",
            ),
            statement_count=_count_of(
                Statement.objects.public().filter(speaker=OuterRef("pk")), "speaker"
            ),
        )
        .order_by("kind_rank", "name", "pk")
    )


def topic_index() -> QuerySet[Topic]:
    """Every public topic by name, each with ``commitment_count`` (its published
    commitments): one query."""
    return (
        Topic.objects.public()
        .annotate(
            commitment_count=_count_of(
                Commitment.topics.through.objects.filter(
                    published_through("commitment"), topic=OuterRef("pk")
                ),
                "topic",
            )
        )
        .order_by("name", "pk")
    )


def public_actor_or_404(slug: str) -> Actor:
    return get_object_or_404(Actor.objects.public(), slug=slug)


def public_topic_or_404(slug: str) -> Topic:
    return get_object_or_404(Topic.objects.public(), slug=slug)


# --- Change history: revisions of public material, and timeline corrections --------------


def commitment_preview_or_404(slug: str, user) -> Commitment:
    """A draft at its future address, for staff who may see drafts in the admin."""
    may_preview = user.is_authenticated and user.is_staff
    if not (may_preview and user.has_perm(VIEW_DRAFTS_PERMISSION)):
        raise Http404
    return get_object_or_404(
        Commitment.objects.select_related("made_in")
        .prefetch_related(_roles_prefetch(), "topics", _open_flags_prefetch())
        .with_last_checked(),
        slug=slug,
    )


def public_revisions(
    *, commitment: Commitment | None = None, actor=None, topic=None
) -> QuerySet[Revision]:
    """Applied revisions of public material (shown on ``commitment``, or on a commitment of
    ``actor`` or ``topic``), newest first, each with the published commitments that show
    it (prefetched: a fixed number of queries for any number)."""
    revisions = Revision.objects.public()
    if commitment is not None:
        revisions = revisions.filter(commitments=commitment)
    owned = _owned_commitments(actor=actor, topic=topic)
    if owned is not None:
        revisions = revisions.filter(
            Exists(
                Revision.commitments.through.objects.filter(
                    revision=OuterRef("pk"), commitment__in=owned.values("pk")
                )
            )
        )
    return revisions.prefetch_related(
        Prefetch(
            "commitments",
            queryset=Commitment.objects.public()
            .only("pk", "slug", "title", "title_fr")
            .order_by("title"),
        )
    ).order_by("-decided_at", "-pk")


def feed_entries(
    limit: int = 50,
    *,
    commitment: Commitment | None = None,
    actor: Actor | None = None,
    topic: Topic | None = None,
) -> list:
    """The feeds' entries, newest first: status updates and corrections of published text
    (minor edits stay on the change history), of every published commitment or only of
    ``commitment``, or of those of ``actor`` or of ``topic``."""
    scope = {"commitment": commitment, "actor": actor, "topic": topic}
    updates = list(recent_status_changes(limit, **scope))
    revisions = list(public_revisions(**scope).corrections()[:limit])
    entries = [(u.recorded_at, u) for u in updates] + [(r.decided_at, r) for r in revisions]
    entries.sort(key=lambda pair: pair[0], reverse=True)
    return [entry for _at, entry in entries[:limit]]


def _change_log(*, commitment: Commitment | None, corrections_only: bool):
    """Timeline corrections and applied revisions in one list, newest first, as
    ``(kind, pk, at)`` rows: one query to page through, whatever their number."""
    updates = StatusUpdate.objects.public().corrections()
    revisions = Revision.objects.public()
    if commitment is not None:
        updates = updates.filter(commitment=commitment)
        revisions = revisions.filter(commitments=commitment)
    if corrections_only:
        revisions = revisions.corrections()
    return (
        updates.order_by()
        .annotate(entry=Value("update"), at=F("recorded_at"))
        .values_list("entry", "pk", "at")
        .union(
            revisions.order_by()
            .annotate(entry=Value("revision"), at=F("decided_at"))
            .values_list("entry", "pk", "at"),
            all=True,
        )
        .order_by("-at", "-pk")
    )


def change_log_page(
    *, page: int, per_page: int, commitment: Commitment | None = None, corrections_only: bool
):
    """One page of the change log with its entries fetched in two more queries: a list of
    ``{"kind": "update" | "revision", "obj": ..., "at": ...}``."""
    paged = Paginator(
        _change_log(commitment=commitment, corrections_only=corrections_only), per_page
    ).get_page(page)
    rows = list(paged.object_list)
    update_ids = [pk for kind, pk, _at in rows if kind == "update"]
    revision_ids = [pk for kind, pk, _at in rows if kind == "revision"]
    updates = (
        StatusUpdate.objects.select_related("commitment", "corrects").in_bulk(update_ids)
        if update_ids
        else {}
    )
    revisions = public_revisions().in_bulk(revision_ids) if revision_ids else {}
    paged.object_list = [
        {
            "kind": kind,
            "obj": updates[pk] if kind == "update" else revisions[pk],
            "at": at,
        }
        for kind, pk, at in rows
    ]
    return paged


# --- Citations (issue 11) ---------------------------------------------------------------


def commitment_last_changed(commitment: Commitment) -> tuple[datetime.date, str] | None:
    """When a published commitment last changed, as ``(date, precision)``: the latest of
    its status date, its timeline's events (steps, statements, figures, at their own
    precision), the day a correction was recorded and the day a revision of its page was
    applied. One query (a UNION), whatever the timeline's length; None when nothing is
    dated. On a tie the finer precision wins ("24 October 2025" over "October 2025")."""

    def dated(queryset, at, precision):
        return (
            queryset.order_by()
            .annotate(changed_at=at, changed_precision=precision)
            .values_list("changed_at", "changed_precision")
        )

    day = Value(DatePrecision.DAY.value, output_field=CharField())
    parts = [
        dated(
            StatusUpdate.objects.public().filter(commitment=commitment),
            F("effective_on"),
            F("effective_precision"),
        ),
        dated(
            StatusUpdate.objects.public().filter(commitment=commitment, corrects__isnull=False),
            TruncDate("recorded_at"),
            day,
        ),
        dated(
            Statement.objects.public().filter(commitments=commitment),
            F("said_on"),
            F("said_precision"),
        ),
        dated(
            Observation.objects.public().filter(indicator__commitments=commitment),
            F("observed_on"),
            F("observed_precision"),
        ),
        dated(
            Revision.objects.public().filter(commitments=commitment),
            TruncDate("decided_at"),
            day,
        ),
    ]
    first, *others = parts
    latest = first.union(*others, all=True).order_by("-changed_at", "changed_precision").first()
    candidates = [latest] if latest is not None and latest[0] is not None else []
    if commitment.status_since is not None:
        candidates.append((commitment.status_since, commitment.status_since_precision))
    if not candidates:
        return None
    precision_rank = {DatePrecision.DAY: 0, DatePrecision.MONTH: 1, DatePrecision.YEAR: 2}
    return max(candidates, key=lambda pair: (pair[0], -precision_rank.get(pair[1], 0)))


# --- Following by email (issue 12) ---------------------------------------------------------

#: What the subscribe form's hidden ``subject`` field may name, and where to find it.
FOLLOWABLE = {"commitment": Commitment, "actor": Actor, "topic": Topic}


def followable_subject(value: str | None) -> dict[str, Any] | None:
    """The public thing the subscribe form names (``"commitment:<slug>"``, ``"actor:<slug>"``,
    ``"topic:<slug>"``; empty for everything) as the keyword arguments of
    ``services.subscription_request``, or None when it names nothing public."""
    value = (value or "").strip()
    if not value:
        return {}
    kind, _, slug = value.partition(":")
    model = FOLLOWABLE.get(kind)
    if model is None or not slug:
        return None
    found = model.objects.public().filter(slug=slug).first()
    return {kind: found} if found is not None else None
