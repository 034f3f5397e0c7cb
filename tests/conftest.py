"""Shared fixtures. Factories are plain functions behind fixtures; they write through the
services where a service owns the rule."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.utils import timezone

from commitments import services
from commitments.models import Actor, Commitment, CommitmentActor, Topic

_counter = itertools.count(1)


@pytest.fixture
def make_actor(db):
    def make(**kwargs):
        n = next(_counter)
        values = {
            "name": f"Actor {n}",
            "slug": f"actor-{n}",
            "kind": Actor.Kind.PERSON,
            "country": "GB",
        }
        values.update(kwargs)
        return Actor.objects.create(**values)

    return make


@pytest.fixture
def make_topic(db):
    def make(**kwargs):
        n = next(_counter)
        values = {"name": f"Topic {n}", "slug": f"topic-{n}"}
        values.update(kwargs)
        return Topic.objects.create(**values)

    return make


@pytest.fixture
def make_source(db):
    def make(**kwargs):
        n = next(_counter)
        values = {
            "url": f"https://news.example.org/story-{n}",
            "title": f"Story {n}",
            "outlet": "Example News",
            "published_on": datetime.date(2025, 7, 1),
        }
        values.update(kwargs)
        source, _created = services.source_get_or_create(**values)
        return source

    return make


@pytest.fixture
def make_commitment(db, make_actor):
    def make(*, actor=None, published=True, **kwargs):
        n = next(_counter)
        values = {
            "title": f"Commitment {n}",
            "slug": f"commitment-{n}",
            "summary": f"What was promised, number {n}.",
            "made_on": datetime.date(2025, 7, 10),
            "is_published": published,
            "published_at": timezone.now() if published else None,
        }
        values.update(kwargs)
        commitment = Commitment.objects.create(**values)
        CommitmentActor.objects.create(
            commitment=commitment, actor=actor or make_actor(), role=CommitmentActor.Role.MADE_BY
        )
        return commitment

    return make


@pytest.fixture
def log_update(db):
    """Log a status update through the service, with sensible defaults."""

    def log(commitment, *, sources, status="in_progress", effective_on=None, **kwargs):
        return services.status_update_create(
            commitment=commitment,
            status=status,
            effective_on=effective_on or datetime.date(2025, 8, 1),
            description=kwargs.pop("description", "Something happened."),
            sources=sources,
            **kwargs,
        )

    return log


@pytest.fixture
def seeded(db):
    from commitments.seeding import load_seeds

    return load_seeds()


@pytest.fixture
def editor_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(
        "editor", "editor@example.org", "pw-for-tests"
    )
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def role_client(db):
    """``role_client("Editor")``: a test client logged in as a new user with that role
    (made through ``roles.user_create``, as the ``create_user`` command does)."""
    from django.test import Client

    from commitments.roles import user_create

    def make(role):
        user = user_create(
            username=f"{role.lower()}-{next(_counter)}",
            role=role,
            password="a long pass phrase for tests",
        )
        client = Client()
        client.force_login(user)
        client.user = user
        return client

    return make
