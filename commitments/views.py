"""Public pages: read-only, small, one template per page."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import render
from django.views.decorators.http import require_safe

from . import selectors


@require_safe
def home(request: HttpRequest):
    commitments = selectors.public_commitments()
    return render(
        request,
        "commitments/home.html",
        {
            "counts": selectors.status_counts(commitments),
            "recent": selectors.commitment_list_items(
                commitments.exclude(status_since=None).order_by("-status_since", "title")[:10]
            ),
        },
    )


@require_safe
def commitment_list(request: HttpRequest):
    return render(
        request,
        "commitments/list.html",
        {"commitments": selectors.commitment_list_items().order_by("-made_on", "title")},
    )


@require_safe
def commitment_detail(request: HttpRequest, slug: str):
    commitment = selectors.public_commitment_or_404(slug)
    return render(
        request,
        "commitments/detail.html",
        {
            "commitment": commitment,
            "updates": selectors.commitment_status_updates(commitment),
            "statements": selectors.commitment_statements(commitment),
        },
    )


@require_safe
def actor_detail(request: HttpRequest, slug: str):
    actor = selectors.public_actor_or_404(slug)
    commitments = selectors.public_commitments().filter(roles__actor=actor).distinct()
    return render(
        request,
        "commitments/actor.html",
        {
            "actor": actor,
            "commitments": selectors.commitment_list_items(commitments),
            "counts": selectors.status_counts(commitments),
        },
    )


@require_safe
def topic_detail(request: HttpRequest, slug: str):
    topic = selectors.public_topic_or_404(slug)
    commitments = selectors.public_commitments().filter(topics=topic)
    return render(
        request,
        "commitments/topic.html",
        {
            "topic": topic,
            "commitments": selectors.commitment_list_items(commitments),
            "counts": selectors.status_counts(commitments),
        },
    )
