"""schema.org JSON-LD on the commitment page: the promise as a ``Claim`` with who made it,
when and where, reviewed in a ``ClaimReview`` whose rating is the current status, dated by
the last change; written so that no editor's text can end the script element."""

from __future__ import annotations

import datetime
import json
import re

import pytest

from commitments.models import Actor, CommitmentActor
from commitments.vocabulary import ActorRole

pytestmark = pytest.mark.django_db

HOSTILE = 'Stop the boats </script><script>alert("x")</script> & <!-- more'
JSON_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def json_ld(html: str) -> list[dict]:
    return [json.loads(block) for block in JSON_LD.findall(html)]


@pytest.fixture
def promise(make_commitment, make_actor, make_source, log_update):
    source = make_source(
        url="https://news.example.org/summit?a=1&b=2",
        title="Summit <report>",
        outlet="Example & News",
    )
    person = make_actor(name="Keir Starmer", role="Prime Minister")
    commitment = make_commitment(
        actor=person,
        title=HOSTILE,
        original_wording="We will <smash> the gangs.",
        made_on=datetime.date(2025, 7, 1),
        made_precision="month",
        made_in=source,
    )
    ministry = make_actor(name="Home Office", kind=Actor.Kind.MINISTRY)
    government = make_actor(name="French Government", kind=Actor.Kind.GOVERNMENT)
    CommitmentActor.objects.create(
        commitment=commitment, actor=ministry, role=ActorRole.RESPONSIBLE
    )
    CommitmentActor.objects.create(commitment=commitment, actor=government, role=ActorRole.MADE_BY)
    log_update(
        commitment, sources=[source], status="stalled", effective_on=datetime.date(2025, 10, 24)
    )
    commitment.refresh_from_db()
    return commitment


def test_the_page_describes_the_promise_and_its_verdict_as_a_claim_review(client, promise):
    response = client.get(promise.get_absolute_url())
    html = response.content.decode()
    [data] = json_ld(html)
    url = f"http://127.0.0.1:8000/commitments/{promise.slug}/"
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "ClaimReview"
    assert data["url"] == url
    assert data["claimReviewed"] == HOSTILE
    assert data["reviewRating"] == {"@type": "Rating", "alternateName": "Stalled"}
    assert data["dateModified"] == "2025-10-24"
    assert data["author"] == {
        "@type": "Organization",
        "name": "Commitment Tracker",
        "url": "http://127.0.0.1:8000",
    }
    claim = data["itemReviewed"]
    assert claim["@type"] == "Claim"
    assert claim["name"] == HOSTILE
    assert claim["text"] == "We will <smash> the gangs."
    assert claim["datePublished"] == claim["dateCreated"] == "2025-07"
    # The authors are those who made the promise, not those responsible for it.
    assert sorted((a["@type"], a["name"]) for a in claim["author"]) == [
        ("Organization", "French Government"),
        ("Person", "Keir Starmer"),
    ]
    person = next(a for a in claim["author"] if a["@type"] == "Person")
    assert person["jobTitle"] == "Prime Minister"
    assert person["url"].startswith("http://127.0.0.1:8000/actors/")
    assert claim["appearance"] == {
        "@type": "CreativeWork",
        "name": "Summit <report>",
        "url": "https://news.example.org/summit?a=1&b=2",
        "publisher": {"@type": "Organization", "name": "Example & News"},
    }


def test_editors_text_cannot_end_the_script(client, promise):
    html = client.get(promise.get_absolute_url()).content.decode()
    block = JSON_LD.search(html).group(1)
    assert "<" not in block and ">" not in block and "&" not in block
    assert "\\u003C/script\\u003E" in block
    assert 'alert("x")</script>' not in html
    # One data block, and it is the only script that is not a file from /static/.
    scripts = re.findall(r"<script\b[^>]*>", html)
    inline = [tag for tag in scripts if "src=" not in tag]
    assert inline == ['<script type="application/ld+json">']


def test_the_policy_needs_no_nonce_for_the_data_block(client, promise):
    response = client.get(promise.get_absolute_url())
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "nonce-" not in policy and "unsafe-inline" not in policy


def test_a_commitment_without_a_source_or_a_step_leaves_those_fields_out(client, make_commitment):
    commitment = make_commitment(original_wording="")
    [data] = json_ld(client.get(commitment.get_absolute_url()).content.decode())
    assert "appearance" not in data["itemReviewed"]
    assert "dateModified" not in data
    assert data["itemReviewed"]["text"] == commitment.summary
    assert data["reviewRating"]["alternateName"] == "Not started"


def test_every_seeded_commitment_page_has_its_json_ld(client, seeded):
    from commitments.models import Commitment

    for commitment in Commitment.objects.public():
        [data] = json_ld(client.get(commitment.get_absolute_url()).content.decode())
        assert data["claimReviewed"] == commitment.title
        assert data["reviewRating"]["alternateName"] == commitment.get_status_display()
        assert data["itemReviewed"]["author"], commitment.slug
