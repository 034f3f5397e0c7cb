import pytest
from django.core.management import call_command

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

pytestmark = pytest.mark.django_db

MODELS = [Actor, Topic, Source, Commitment, StatusUpdate, Statement, Indicator, Observation]


def snapshot():
    rows = {model.__name__: sorted(model.objects.values_list("pk", flat=True)) for model in MODELS}
    rows["history"] = [
        Source.history.count(),
        Commitment.history.count(),
        Statement.history.count(),
    ]
    rows["statuses"] = sorted(Commitment.objects.values_list("slug", "status", "status_since"))
    return rows


def test_load_seeds_is_idempotent(capsys):
    call_command("load_seeds")
    first = snapshot()
    call_command("load_seeds")
    assert snapshot() == first
    assert "nothing new" in capsys.readouterr().out


def test_seed_data_holds_the_facts_of_the_articles(seeded):
    assert Commitment.objects.published().count() >= 3
    for slug in [
        "french-maritime-doctrine-shallow-waters",
        "intercept-taxi-boats",
        "one-in-one-out-returns-deal",
    ]:
        commitment = Commitment.objects.get(slug=slug)
        assert commitment.status_updates.exists()
        # Every step is sourced, and the current status follows the latest step.
        assert not commitment.status_updates.filter(sources__isnull=True).exists()
        latest = commitment.status_updates.latest()
        assert (commitment.status, commitment.status_since) == (latest.status, latest.effective_on)

    # Both articles are sources; their web addresses are not known, so they have none.
    bbc = Source.objects.get(outlet="BBC News")
    assert bbc.author == "Andrew Harding"
    assert bbc.url is None
    assert bbc.vague("published_on") == "October 2025"
    assert Source.objects.filter(outlet="GB News", url__isnull=True).exists()

    arrivals = Indicator.objects.get(slug="small-boat-arrivals-2025")
    assert arrivals.comparison_value == 36816
    assert arrivals.observations.get().value == 36956
    assert Indicator.objects.get(slug="one-in-one-out-returns").observations.get().value == 42

    blah = Statement.objects.get(text__contains="blah-blah")
    assert blah.speaker is None
    assert "French maritime security" in blah.speaker_description
    assert Statement.objects.filter(speaker__slug="peter-walsh").exists()

    for slug in [
        "keir-starmer",
        "emmanuel-macron",
        "bruno-retailleau",
        "home-office",
        "martin-hewitt",
        "channel-maritime-prefecture",
        "uk-government",
        "french-government",
    ]:
        assert Actor.objects.filter(slug=slug).exists(), slug
    assert Actor.objects.get(slug="bruno-retailleau").role.startswith("Former")


def test_seed_dates_are_never_more_precise_than_the_articles(seeded):
    # The articles give no day for any of these events.
    assert not StatusUpdate.objects.filter(effective_precision="day").exists()
    assert not Statement.objects.filter(said_precision="day").exists()
    assert not Observation.objects.filter(observed_precision="day").exists()
