"""Actor and topic pages list their commitments 20 to a page, like the list: page links
that work with and without JavaScript, an HTMX fragment, and a query count that does not
grow with the number of commitments."""

from __future__ import annotations

import pytest

from commitments.models import ActorRole, CommitmentActor

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def rows(html: str) -> int:
    return html.count('class="commitment-row"')


@pytest.fixture
def owners(make_actor, make_topic):
    return make_actor(name="Busy minister", slug="busy-minister"), make_topic(slug="busy-topic")


def add(make_commitment, owners, n, *, start=0):
    actor, topic = owners
    for i in range(start, start + n):
        commitment = make_commitment(title=f"Numbered promise {i:03d}", actor=actor)
        # A second role for the same actor must not list the commitment twice.
        CommitmentActor.objects.create(
            commitment=commitment, actor=actor, role=ActorRole.RESPONSIBLE
        )
        commitment.topics.add(topic)


# An actor's page pages each role group on its own: tests/test_public_people_pages.py.
@pytest.mark.parametrize("url", ["/topics/busy-topic/"])
def test_topic_pages_paginate_like_the_list(client, make_commitment, owners, url):
    add(make_commitment, owners, 25)
    html = html_of(client.get(url))
    assert rows(html) == 20 and "Page 1 of 2" in html
    assert "25 published commitments" in html
    assert 'href="?page=2"' in html and 'data-hx-get="?page=2"' in html
    assert 'data-hx-target="#results"' in html

    page_two = html_of(client.get(url + "?page=2"))
    assert rows(page_two) == 5 and "Page 2 of 2" in page_two
    assert 'href="?page=1"' in page_two
    first = {line for line in html.splitlines() if "Numbered promise" in line}
    second = {line for line in page_two.splitlines() if "Numbered promise" in line}
    assert len(first | second) == 25 and not first & second

    fragment = client.get(url + "?page=2", **HTMX)
    body = html_of(fragment)
    assert "<html" not in body and rows(body) == 5 and "Page 2 of 2" in body
    assert "HX-Request" in fragment["Vary"]
    # A malformed page number is page 1, past the end the last page.
    assert rows(html_of(client.get(url + "?page=x"))) == 20
    assert "Page 2 of 2" in html_of(client.get(url + "?page=99"))


def test_owner_page_query_counts_do_not_grow_with_commitments(
    client, make_commitment, owners, django_assert_max_num_queries
):
    # An actor's page has up to three role groups and the actor's statements.
    urls = {"/actors/busy-minister/": ("made_page", 22), "/topics/busy-topic/": ("page", 12)}

    def counts():
        found = {}
        for url, (parameter, most) in urls.items():
            for suffix, headers in (("", {}), (f"?{parameter}=2", {}), (f"?{parameter}=2", HTMX)):
                with django_assert_max_num_queries(most) as captured:
                    assert client.get(url + suffix, **headers).status_code == 200
                found[(url, suffix, bool(headers))] = len(captured)
        return found

    add(make_commitment, owners, 1)
    small = counts()
    add(make_commitment, owners, 59, start=1)
    assert counts() == small
