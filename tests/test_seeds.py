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


SLUGS = [
    "french-maritime-doctrine-shallow-waters",
    "intercept-taxi-boats",
    "one-in-one-out-returns-deal",
    "smash-the-gangs",
]


def test_seed_counts(seeded):
    counts = {model.__name__: model.objects.count() for model in MODELS}
    assert counts == {
        "Actor": 11,
        "Topic": 3,
        "Source": 2,
        "Commitment": 4,
        "StatusUpdate": 5,
        "Statement": 13,
        "Indicator": 3,
        "Observation": 3,
    }
    assert sorted(Commitment.objects.public().values_list("slug", flat=True)) == sorted(SLUGS)


def test_seed_data_holds_the_facts_of_the_articles(seeded):
    for slug in SLUGS:
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


def test_seed_data_says_what_the_articles_say_and_no_more(seeded):
    gb_news = Source.objects.get(outlet="GB News")
    # The doctrine's wording is the Home Office's description of France's review, as
    # GB News reports it, and cited to GB News.
    doctrine = Commitment.objects.get(slug="french-maritime-doctrine-shallow-waters")
    assert doctrine.made_in == gb_news
    assert "Home Office" in doctrine.original_wording and "GB News" in doctrine.original_wording
    assert "intervene in shallow waters" in doctrine.original_wording
    assert doctrine.vague("made_on") == "October 2025" and "reported" in doctrine.made_where

    # One in, one out: only what GB News reports; no terms or summit from elsewhere, and
    # Keir Starmer, not Emmanuel Macron, is the one who made the claim.
    deal = Commitment.objects.get(slug="one-in-one-out-returns-deal")
    text = " ".join(
        [deal.summary, deal.original_wording, deal.made_where]
        + list(deal.status_updates.values_list("description", flat=True))
    )
    for outside in ("equal number", "legal route", "summit", "agreed"):
        assert outside not in text, outside
    makers = set(deal.roles.filter(role="made_by").values_list("actor__slug", flat=True))
    assert makers == {"keir-starmer"}

    # "Political stunt" was one figure, not "sources".
    assert not StatusUpdate.objects.filter(description__icontains="stunt").exists()
    stunt = Statement.objects.get(text__contains="political stunt")
    assert stunt.speaker_description == "One figure closely linked to French maritime security"

    # Said "previously" or "repeatedly": dated to the month reported, and saying so.
    for slug in ("martin-hewitt", "keir-starmer"):
        said = Statement.objects.get(speaker__slug=slug)
        assert said.kind == "paraphrase" and said.vague("said_on") == "October 2025", slug
        assert "reported in October 2025" in said.text, slug

    # The facts that were missing.
    gangs = Commitment.objects.get(slug="smash-the-gangs")
    assert gangs.roles.get(role="made_by").actor.slug == "keir-starmer"
    assert gangs.status == "unclear" and gangs.made_in == gb_news
    day = Indicator.objects.get(slug="small-boat-arrivals-in-a-day").observations.get()
    assert (day.value, day.source, day.vague("observed_on")) == (220, gb_news, "October 2025")
    whatever = Statement.objects.get(text__contains="whatever it takes")
    assert (whatever.kind, whatever.speaker.slug, whatever.source) == (
        "quote",
        "home-office",
        gb_news,
    )
    navy = Statement.objects.get(text__startswith="The French navy is against this.")
    assert navy.kind == "quote" and navy.source == gb_news and navy.speaker is None
    assert "told the BBC" in navy.speaker_description
