"""Reads that span models. Views, feeds, the API and the exports all read through here, so
what the public may see (published commitments only) is decided in one place."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from .models import (
    Actor,
    Commitment,
    CommitmentActor,
    Source,
    Statement,
    Status,
    StatusUpdate,
    Topic,
)


def public_commitments() -> QuerySet[Commitment]:
    return Commitment.objects.published()


def commitment_list_items(queryset: QuerySet[Commitment] | None = None) -> QuerySet[Commitment]:
    """Published commitments with what a list row shows, in a fixed number of queries."""
    queryset = public_commitments() if queryset is None else queryset
    return queryset.prefetch_related(
        Prefetch(
            "roles",
            queryset=CommitmentActor.objects.select_related("actor").order_by(
                "role", "actor__name"
            ),
        ),
        "topics",
    )


def public_commitment_or_404(slug: str) -> Commitment:
    return get_object_or_404(
        public_commitments()
        .select_related("made_in")
        .prefetch_related(
            Prefetch(
                "roles",
                queryset=CommitmentActor.objects.select_related("actor").order_by(
                    "role", "actor__name"
                ),
            ),
            "topics",
        ),
        slug=slug,
    )


def commitment_status_updates(commitment: Commitment) -> QuerySet[StatusUpdate]:
    return (
        commitment.status_updates.select_related("corrects")
        .prefetch_related(
            Prefetch("sources", queryset=Source.objects.order_by("published_on", "title")),
            Prefetch("corrections", queryset=StatusUpdate.objects.order_by("recorded_at")),
        )
        .order_by("effective_on", "recorded_at", "id")
    )


def commitment_statements(commitment: Commitment) -> QuerySet[Statement]:
    return commitment.statements.select_related("speaker", "source").order_by("said_on", "id")


def status_counts(queryset: QuerySet[Commitment] | None = None) -> list[dict]:
    """Every status in the vocabulary with its count, zero included, in vocabulary order."""
    queryset = public_commitments() if queryset is None else queryset
    counts = dict(queryset.order_by().values_list("status").annotate(n=Count("id")))
    return [
        {"value": value, "label": label, "count": counts.get(value, 0)}
        for value, label in Status.choices
    ]


def public_actor_or_404(slug: str) -> Actor:
    return get_object_or_404(Actor, slug=slug)


def public_topic_or_404(slug: str) -> Topic:
    return get_object_or_404(Topic, slug=slug)
