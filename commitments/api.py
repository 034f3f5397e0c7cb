"""The read-only JSON API, with its OpenAPI description at ``/api/openapi.json``.

django-ninja rather than Django REST framework: it is already a pinned dependency, the
API is read-only (no serializers for writes, no browsable forms needed), and ninja builds
the OpenAPI description from the same typed schemas that shape the responses, so the
description cannot drift from the output. Every read goes through ``selectors`` and
``filters``: the API sees exactly what the public pages see.

Owns: the routes, their parameters, pagination and error answers. Must not define what a
record looks like as data (``schemas``, shared with the exports) or what is public
(``selectors``).
"""

from functools import cache

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, NinjaAPI, Query, Schema
from ninja.pagination import PageNumberPagination, paginate

from . import selectors
from .filters import commitment_filter
from .models import Actor, Source
from .schemas import (
    ActorOut,
    CommitmentOut,
    IndicatorOut,
    RevisionOut,
    SourceOut,
    TimelineOut,
    absolute_url,
    timeline_event_out,
)

api = NinjaAPI(
    title=f"{settings.SITE_NAME} API",
    version="1",
    description=(
        "Read-only. Published commitments only. Dates are ISO 8601 at the precision they "
        "are known: 2025-10-24, 2025-10 (a month) or 2025 (a year). Language-neutral: the "
        "same answer whatever the request's language; each translated text has its French "
        "beside it as <field>_fr (empty when not yet translated), and each label ours in "
        'every language as *_labels: {"en-gb": ..., "fr": ...}.'
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


class CommitmentFilters(Schema):
    q: str | None = None
    status: str | None = None
    actor: str | None = None
    topic: str | None = None
    flagged: str | None = None
    made_from: str | None = None
    made_to: str | None = None
    deadline_from: str | None = None
    deadline_to: str | None = None
    sort: str | None = None


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


@api.get("/commitments/{slug}/changes", response=responses(list[RevisionOut]), tags=["commitments"])
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
    return list(Actor.objects.public().order_by("name").select_related("parent"))


@api.get("/actors/{slug}", response=responses(ActorOut), tags=["actors"])
def get_actor(request, slug: str):
    return get_object_or_404(Actor.objects.public().select_related("parent"), slug=slug)


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
    return list(selectors.indicators_with_observations())


# --- The API's front door ----------------------------------------------------------------


class EndpointOut(Schema):
    path: str = Field(..., examples=["/api/commitments/{slug}"])
    url: str = Field(..., description="The path as a full address (parameters in braces).")
    summary: str
    description: str = ""


class ApiIndexOut(Schema):
    """Where to start: the interactive docs, the OpenAPI description, every endpoint."""

    title: str
    description: str
    docs: str = Field(..., description="The interactive documentation (Swagger UI).")
    openapi: str = Field(..., description="The OpenAPI 3 description, as JSON.")
    endpoints: list[EndpointOut]


@cache
def _endpoints() -> tuple[dict, ...]:
    """Every operation, read once from the OpenAPI description ninja builds from the routes
    (so the list cannot miss one), in the description's order."""
    paths = api.get_openapi_schema()["paths"]
    return tuple(
        {
            "path": path,
            "url": absolute_url(path),
            "summary": operation.get("summary", ""),
            "description": operation.get("description", ""),
        }
        for path, methods in paths.items()
        for operation in methods.values()
    )


@api.get(
    "/",
    response=responses(ApiIndexOut, not_found=False),
    tags=["about"],
    summary="Where to start",
    url_name="index",
)
def index(request):
    """Links to the interactive docs, the OpenAPI description and every endpoint."""
    return {
        "title": api.title,
        "description": api.description,
        "docs": absolute_url(reverse("api:openapi-view")),
        "openapi": absolute_url(reverse("api:openapi-json")),
        "endpoints": list(_endpoints()),
    }
