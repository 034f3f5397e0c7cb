import datetime

import pytest
from django.urls import reverse
from django.utils.html import escape

from commitments.models import Commitment

pytestmark = pytest.mark.django_db


def test_list_shows_the_published_seed_commitments_with_their_status(client, seeded):
    response = client.get("/commitments/")
    assert response.status_code == 200
    html = response.content.decode()
    for commitment in Commitment.objects.published():
        assert escape(commitment.title) in html
        assert commitment.get_absolute_url() in html
    assert "Stalled" in html and "In progress" in html and "Unclear" in html


def test_drafts_stay_off_the_public_pages(client, make_commitment):
    draft = make_commitment(published=False, title="A secret draft")
    assert "A secret draft" not in client.get("/commitments/").content.decode()
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_commitment_page_shows_its_timeline_with_sources(client, seeded):
    commitment = Commitment.objects.get(slug="intercept-taxi-boats")
    response = client.get(commitment.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>" in html and "taxi boats" in html
    for update in commitment.status_updates.all():
        assert f'id="update-{update.pk}"' in html
    assert "France backing away from pledge to intercept migrant boats, sources tell BBC" in html
    assert "July 2025" in html and "October 2025" in html
    assert "The doctrine on taxi boats is still under study." in html


def test_unknown_slug_is_a_404(client, seeded):
    assert client.get("/commitments/no-such-promise/").status_code == 404
    assert client.get("/actors/nobody/").status_code == 404


@pytest.mark.parametrize("url", ["/", "/commitments/", "/commitments/intercept-taxi-boats/"])
def test_public_pages_answer_only_get_and_head(client, seeded, url):
    assert client.head(url).status_code == 200
    assert client.post(url).status_code == 405
    assert client.delete(url).status_code == 405


def test_actor_and_topic_pages_list_their_commitments(client, seeded):
    html = client.get(reverse("commitments:actor_detail", args=["keir-starmer"])).content.decode()
    assert "one in, one out" in html
    html = client.get(
        reverse("commitments:topic_detail", args=["returns-agreements"])
    ).content.decode()
    assert "one in, one out" in html
    assert "taxi boats" not in html


def _page_queries(client, django_assert_max_num_queries, url, limit):
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_commitment_page_query_count_does_not_grow_with_its_timeline(
    client, make_commitment, make_source, log_update, django_assert_max_num_queries
):
    small = make_commitment()
    large = make_commitment()
    sources = [make_source(), make_source()]
    log_update(small, sources=sources)
    for day in range(100):
        log_update(
            large,
            sources=sources,
            effective_on=datetime.date(2025, 8, 1) + datetime.timedelta(days=day),
        )
    assert large.status_updates.count() == 100
    few = _page_queries(client, django_assert_max_num_queries, small.get_absolute_url(), 12)
    many = _page_queries(client, django_assert_max_num_queries, large.get_absolute_url(), 12)
    assert few == many


def test_list_query_count_does_not_grow_with_commitments(
    client, make_commitment, django_assert_max_num_queries
):
    make_commitment()
    one = _page_queries(client, django_assert_max_num_queries, "/commitments/", 8)
    for _ in range(99):
        make_commitment()
    hundred = _page_queries(client, django_assert_max_num_queries, "/commitments/", 8)
    assert one == hundred
