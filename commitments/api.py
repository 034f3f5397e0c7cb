"""The read-only JSON API, with its OpenAPI description at ``/api/openapi.json``.

django-ninja rather than Django REST framework: it is already a pinned dependency, the
API is read-only (no serializers for writes, no browsable forms needed), and ninja builds
the OpenAPI description from the same typed schemas that shape the responses, so the
description cannot drift from the output. Every read goes through ``selectors`` and
``filters``: the API sees exactly what the public pages see.
"""

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Field, NinjaAPI, Query, Schema
from ninja.pagination import PageNumberPagination, paginate

from . import selectors
from .context_processors import SITE_NAME
from .dates import iso_vague_date
from .filters import commitment_filter
from .models import Actor, Commitment, Revision, Source

api = NinjaAPI(
    title=f"{SITE_NAME} API",
    version="1",
    description=(
        "Read-only. Published commitments only. Dates are ISO 8601 at the precision they "
        "are known: 2025-10-24, 2025-10 (a month) or 2025 (a year)."
    ),
    urls_namespace="api",
)

#: The highest page number any list answers; beyond it is a 422, past the data a 404.
MAX_PAGE = 100_000


# --- Errors: always JSON, always described ----------------------------------------------


class ErrorOut(Schema):
    detail: str = Field(..., examples=["No published commitment here."])


class ValidationErrorOut(Schema):
    """What ninja answers for a parameter that does not fit: one entry per problem, each
    naming the parameter (``loc``) and the reason (``msg``)."""

    detail: list[dict]


def responses(ok, *, not_found: bool = True) -> dict:
    """Every status an operation can answer: its data, 400 (a NUL byte in the address,
    refused by ``commitments.middleware``), 404 where something is looked up, 422 for a
    parameter that does not fit."""
    out = {200: ok, 400: ErrorOut, 422: ValidationErrorOut}
    if not_found:
        out[404] = ErrorOut
    return out


@api.exception_handler(Http404)
def not_found(request, exc):
    message = str(exc) if exc.args else ""
    return api.create_response(request, {"detail": message or "Not found."}, status=404)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def database_unavailable(request, exc):
    """Not ninja's debug traceback: the database middleware answers 503 (issue 9)."""
    raise exc


class Pages(PageNumberPagination):
    """Page numbers from 1 to ``MAX_PAGE`` (422 outside); a page past the last is a 404."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=MAX_PAGE)

    def paginate_queryset(self, queryset, pagination, request, **params):
        out = super().paginate_queryset(queryset, pagination, request, **params)
        size = self._get_page_size(pagination.page_size)
        if pagination.page > 1 and (pagination.page - 1) * size >= out["count"]:
            last = max(1, -(-out["count"] // size))
            raise Http404(f"There is no page {pagination.page}: the last is page {last}.")
        return out


class ActorRef(Schema):
    slug: str
    name: str
    role: str


class TopicRef(Schema):
    slug: str
    name: str


class CommitmentOut(Schema):
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
    made_in_source_id: int | None
    deadline: str | None
    actors: list[ActorRef]
    topics: list[TopicRef]
    open_flags: list[str]

    @staticmethod
    def resolve_url(obj: Commitment) -> str:
        return _absolute(obj.get_absolute_url())

    @staticmethod
    def resolve_status_label(obj: Commitment) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_status_since(obj: Commitment) -> str | None:
        return iso_vague_date(obj.status_since, obj.status_since_precision) or None

    @staticmethod
    def resolve_made_on(obj: Commitment) -> str:
        return iso_vague_date(obj.made_on, obj.made_precision)

    @staticmethod
    def resolve_made_in_source_id(obj: Commitment) -> int | None:
        return obj.made_in_id

    @staticmethod
    def resolve_deadline(obj: Commitment) -> str | None:
        return iso_vague_date(obj.deadline, obj.deadline_precision) or None

    @staticmethod
    def resolve_actors(obj: Commitment) -> list[dict]:
        return [
            {"slug": role.actor.slug, "name": role.actor.name, "role": role.role}
            for role in obj.roles.all()
        ]

    @staticmethod
    def resolve_topics(obj: Commitment) -> list[dict]:
        return [{"slug": t.slug, "name": t.name} for t in obj.topics.all()]

    @staticmethod
    def resolve_open_flags(obj: Commitment) -> list[str]:
        return [flag.plain_words() for flag in obj.open_flags]


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


class TimelineOut(Schema):
    commitment: str
    page: int
    has_earlier: bool
    events: list[TimelineEventOut]


class ActorOut(Schema):
    slug: str
    name: str
    kind: str
    country: str
    role: str
    parent: str | None
    description: str
    url: str


class ObservationOut(Schema):
    date: str
    value: float
    source_id: int
    note: str


class IndicatorOut(Schema):
    slug: str
    name: str
    unit: str
    description: str
    comparison_label: str
    comparison_value: float | None
    observations: list[ObservationOut]


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
        return _absolute(obj.public_url(shown[0])) if shown else ""


class CommitmentFilters(Schema):
    q: str | None = None
    status: str | None = None
    actor: str | None = None
    topic: str | None = None
    flagged: str | None = None
    made_from: str | None = None
    made_to: str | None = None
    sort: str | None = None


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def _update_out(update, commitment: Commitment) -> dict:
    return {
        "id": update.pk,
        "url": _absolute(f"{commitment.get_absolute_url()}#update-{update.pk}"),
        "status": update.status,
        "status_label": str(update.get_status_display()),
        "date": iso_vague_date(update.effective_on, update.effective_precision),
        "description": update.description,
        "correction_note": update.correction_note,
        "sources": list(update.sources.all()),
    }


def timeline_event_out(event, commitment: Commitment) -> dict:
    obj = event.obj
    out = {
        "kind": event.kind,
        "id": obj.pk,
        "anchor": event.anchor,
        "url": _absolute(f"{commitment.get_absolute_url()}#{event.anchor}"),
        "date": event.date_iso,
        "status": None,
        "status_label": None,
        "text": "",
        "said_by": None,
        "indicator": None,
        "value": None,
        "sources": event.sources,
        "corrections": [],
    }
    if event.kind == "update":
        out.update(
            status=obj.status,
            status_label=str(obj.get_status_display()),
            text=obj.description,
            corrections=[_update_out(c, commitment) for c in obj.chain],
        )
    elif event.kind == "statement":
        out.update(text=obj.text, said_by=obj.attribution)
    else:
        out.update(text=obj.note, indicator=obj.indicator.slug, value=float(obj.value))
    return out


def actor_out(actor: Actor) -> dict:
    return {
        "slug": actor.slug,
        "name": actor.name,
        "kind": actor.kind,
        "country": actor.country,
        "role": actor.role,
        "parent": actor.parent.slug if actor.parent_id else None,
        "description": actor.description,
        "url": _absolute(actor.get_absolute_url()),
    }


@api.get("/commitments", response=responses(list[CommitmentOut]), tags=["commitments"])
@paginate(Pages, page_size=50)
def list_commitments(request, filters: Query[CommitmentFilters]):
    """Published commitments; the same filters as the list page. Unknown values are
    ignored, as on the page."""
    data = {key: value for key, value in filters.dict().items() if value not in (None, "")}
    return commitment_filter(data).qs


@api.get("/commitments/{slug}", response=responses(CommitmentOut), tags=["commitments"])
def get_commitment(request, slug: str):
    return selectors.public_commitment_or_404(slug)


@api.get("/commitments/{slug}/timeline", response=responses(TimelineOut), tags=["commitments"])
def get_timeline(request, slug: str, page: int = Query(1, ge=1, le=MAX_PAGE)):
    """Events newest first, a page at a time; each status update carries its corrections."""
    commitment = selectors.public_commitment_or_404(slug)
    timeline = selectors.commitment_timeline(commitment, page=page)
    if page > 1 and not timeline.events:
        raise Http404(f"This timeline has no page {page}.")
    return {
        "commitment": commitment.slug,
        "page": timeline.page,
        "has_earlier": timeline.has_earlier,
        "events": [timeline_event_out(e, commitment) for e in timeline.events],
    }


@api.get(
    "/commitments/{slug}/changes", response=responses(list[RevisionOut]), tags=["commitments"]
)
@paginate(Pages, page_size=50)
def list_commitment_changes(request, slug: str):
    """Every change to what the commitment's page shows since it was published, newest
    first. Corrections to its timeline are in the timeline, beside what they correct."""
    return selectors.public_revisions(commitment=selectors.public_commitment_or_404(slug))


@api.get("/revisions", response=responses(list[RevisionOut]), tags=["corrections"])
@paginate(Pages, page_size=50)
def list_revisions(request, kind: str | None = Query(None, pattern="^(correction|minor)$")):
    """Changes to published text across the site, newest first; ``kind=correction`` gives
    the corrections listed on /corrections/."""
    revisions = selectors.public_revisions()
    return revisions.filter(kind=kind) if kind else revisions


@api.get("/actors", response=responses(list[ActorOut], not_found=False), tags=["actors"])
def list_actors(request):
    """Public actors: a role on a published commitment, or a statement about one."""
    return [actor_out(a) for a in Actor.objects.public().order_by("name").select_related("parent")]


@api.get("/actors/{slug}", response=responses(ActorOut), tags=["actors"])
def get_actor(request, slug: str):
    return actor_out(get_object_or_404(Actor.objects.public().select_related("parent"), slug=slug))


@api.get("/sources", response=responses(list[SourceOut]), tags=["sources"])
@paginate(Pages, page_size=100)
def list_sources(request):
    """Sources cited by published commitments or by their indicators."""
    return Source.objects.public().order_by("pk")


@api.get("/sources/{source_id}", response=responses(SourceOut), tags=["sources"])
def get_source(request, source_id: int):
    return get_object_or_404(Source.objects.public(), pk=source_id)


@api.get(
    "/indicators", response=responses(list[IndicatorOut], not_found=False), tags=["indicators"]
)
def list_indicators(request):
    return [
        {
            "slug": indicator.slug,
            "name": indicator.name,
            "unit": indicator.unit,
            "description": indicator.description,
            "comparison_label": indicator.comparison_label,
            "comparison_value": float(indicator.comparison_value)
            if indicator.comparison_value is not None
            else None,
            "observations": [
                {
                    "date": iso_vague_date(o.observed_on, o.observed_precision),
                    "value": float(o.value),
                    "source_id": o.source_id,
                    "note": o.note,
                }
                for o in indicator.observations.all()
            ],
        }
        for indicator in selectors.indicators_with_observations()
    ]
