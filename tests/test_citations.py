"""Citations: every step of a timeline (status change, correction, statement, figure) has
one, in plain text and as a block to copy, naming the outlet, the commitment, the step's
date at its precision and what it says, its permalink and the day it was accessed; the
commitment's own citation names its last change."""

from __future__ import annotations

import datetime
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from commitments import citations, selectors
from commitments.dates import format_vague_date
from commitments.models import Indicator, Observation, Statement
from commitments.selectors import TIMELINE_PAGE_SIZE

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
HOSTILE = 'The "big" <b>promise</b> & more </textarea><script>alert(1)</script>'


class _Page(HTMLParser):
    """The page's textareas (id -> text) and its copy buttons (their ``data-copy``)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.textareas: dict[str, str] = {}
        self.buttons: list[str] = []
        self.citation_lines: list[str] = []
        self._in: str | None = None
        self._line: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "textarea":
            self._in = attrs["id"]
            self.textareas[self._in] = ""
        if tag == "button" and "data-copy" in attrs:
            self.buttons.append(attrs["data-copy"])
        if tag == "p" and attrs.get("class") == "event__citation":
            self._line = []

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._in = None
        if tag == "p" and self._line is not None:
            self.citation_lines.append("".join(self._line))
            self._line = None

    def handle_data(self, data):
        if self._in:
            self.textareas[self._in] += data
        if self._line is not None:
            self._line.append(data)


def today_words() -> str:
    return format_vague_date(timezone.localdate(), "day")


@pytest.fixture
def cited(make_commitment, make_source, make_actor, log_update):
    commitment = make_commitment(title=HOSTILE, made_on=datetime.date(2025, 1, 5))
    source = make_source()
    long_words = " ".join(f"word{i}" for i in range(60))
    update = log_update(
        commitment,
        sources=[source],
        status="stalled",
        effective_on=datetime.date(2025, 7, 1),
        effective_precision="month",
        description=f'Talks <em>stopped</em> & "nothing" moved.\n\n{long_words}',
    )
    correction = log_update(
        commitment,
        sources=[source],
        status="in_progress",
        effective_on=datetime.date(2025, 7, 1),
        effective_precision="month",
        corrects=update,
        correction_note="The month was wrong.",
        description="Talks resumed.",
    )
    speaker = make_actor(name="Emmanuel <Macron>", role="")
    statement = Statement.objects.create(
        text='We will "intercept" boats & <stop> them.',
        speaker=speaker,
        said_on=datetime.date(2025, 10, 24),
        source=source,
    )
    statement.commitments.add(commitment)
    indicator = Indicator.objects.create(name="Arrivals", slug="arrivals-cite", unit="people")
    indicator.commitments.add(commitment)
    observation = Observation.objects.create(
        indicator=indicator,
        observed_on=datetime.date(2025, 9, 30),
        value=36956,
        source=source,
    )
    return {
        "commitment": commitment,
        "update": update,
        "correction": correction,
        "statement": statement,
        "observation": observation,
    }


def test_each_step_has_its_citation_in_plain_text_and_in_a_block_to_copy(client, cited):
    commitment = cited["commitment"]
    response = client.get(commitment.get_absolute_url())
    html = response.content.decode()
    page = _Page(html)
    url = f"http://127.0.0.1:8000/commitments/{commitment.slug}/"
    accessed = f"(accessed {today_words()})"
    title = 'The "big" <b>promise</b> & more </textarea><script>alert(1)</script>'

    update = page.textareas[f"cite-update-{cited['update'].pk}"]
    assert update.startswith(
        f"Commitment Tracker, “{title}”, July 2025: Status changed to Stalled: "
    )
    assert 'Talks <em>stopped</em> & "nothing" moved. word0 word1' in update  # one line
    assert "word24… http" in update and "word25" not in update  # cut after 30 words
    assert update.endswith(f"… {url}#update-{cited['update'].pk} {accessed}")

    correction = page.textareas[f"cite-update-{cited['correction'].pk}"]
    assert correction.startswith(f"Commitment Tracker, “{title}”, July 2025: Correction (")
    assert "The month was wrong." in correction
    assert "Status changed to In progress: Talks resumed" in correction
    assert correction.endswith(f"{url}#update-{cited['correction'].pk} {accessed}")

    statement = page.textareas[f"cite-statement-{cited['statement'].pk}"]
    assert statement == (
        f"Commitment Tracker, “{title}”, 24 October 2025: Emmanuel <Macron>: "
        f'“We will "intercept" boats & <stop> them.” '
        f"{url}#statement-{cited['statement'].pk} {accessed}"
    )
    observation = page.textareas[f"cite-observation-{cited['observation'].pk}"]
    assert observation == (
        f"Commitment Tracker, “{title}”, 30 September 2025: Arrivals: 36,956 people. "
        f"{url}#observation-{cited['observation'].pk} {accessed}"
    )

    # The page and the tests share one writer of the text; the plain-text line says the same.
    for key in ("update", "correction", "statement", "observation"):
        expected = citations.step_citation(commitment, cited[key], timezone.localdate())
        anchor = cited[key].anchor
        assert page.textareas[f"cite-{anchor}"] == expected
        assert any(line.endswith(expected) for line in page.citation_lines), key
        assert f"#cite-{anchor}" in page.buttons
        # The permalink's anchor exists on the page.
        assert f'id="{anchor}"' in html

    # Editors' text is escaped: no live markup, no way out of the textarea.
    assert "<script>alert(1)</script>" not in html
    assert "<b>promise</b>" not in html and "<em>stopped</em>" not in html
    assert "&lt;/textarea&gt;&lt;script&gt;" in html
    assert "&lt;Macron&gt;" in html


def test_earlier_events_loaded_by_htmx_bring_their_citations_and_buttons(
    client, make_commitment, make_source, log_update
):
    commitment = make_commitment(made_on=datetime.date(2024, 1, 1))
    source = make_source()
    updates = [
        log_update(
            commitment,
            sources=[source],
            effective_on=datetime.date(2024, 2, 1) + datetime.timedelta(days=i),
        )
        for i in range(TIMELINE_PAGE_SIZE + 2)
    ]
    fragment = client.get(commitment.get_absolute_url() + "?page=2", **HTMX).content.decode()
    assert "<html" not in fragment
    page = _Page(fragment)
    oldest = updates[0]
    assert f"#cite-update-{oldest.pk}" in page.buttons
    assert page.textareas[f"cite-update-{oldest.pk}"] == citations.step_citation(
        commitment, oldest, timezone.localdate()
    )
    assert f"(accessed {today_words()})" in page.textareas[f"cite-update-{oldest.pk}"]


def test_the_commitment_citation_names_its_last_change_and_the_access_date(client, cited):
    commitment = cited["commitment"]
    page = _Page(client.get(commitment.get_absolute_url()).content.decode())
    # The correction recorded today is the latest change: later than the statement of
    # 24 October 2025, itself later than the status date (July 2025).
    assert page.textareas["cite-text"] == (
        f"{HOSTILE}. Status: In progress, as of July 2025. Commitment Tracker. "
        f"http://127.0.0.1:8000/commitments/{commitment.slug}/ "
        f"(last changed {today_words()}; accessed {today_words()})"
    )
    assert "#cite-text" in page.buttons


def test_last_change_is_the_latest_of_status_events_corrections_and_revisions(
    make_commitment, make_source, log_update
):
    commitment = make_commitment(made_on=datetime.date(2024, 1, 1))
    assert selectors.commitment_last_changed(commitment) is None
    source = make_source()
    log_update(
        commitment,
        sources=[source],
        effective_on=datetime.date(2025, 3, 1),
        effective_precision="month",
    )
    commitment.refresh_from_db()
    assert selectors.commitment_last_changed(commitment) == (datetime.date(2025, 3, 1), "month")

    indicator = Indicator.objects.create(name="Boats", slug="boats-last", unit="boats")
    indicator.commitments.add(commitment)
    Observation.objects.create(
        indicator=indicator, observed_on=datetime.date(2025, 3, 20), value=2, source=source
    )
    assert selectors.commitment_last_changed(commitment) == (datetime.date(2025, 3, 20), "day")

    # A correction recorded today is a change today, whatever date it gives the step.
    first = commitment.status_updates.get()
    log_update(
        commitment,
        sources=[source],
        effective_on=datetime.date(2025, 3, 1),
        corrects=first,
        correction_note="Wrong date.",
    )
    assert selectors.commitment_last_changed(commitment) == (timezone.localdate(), "day")

    # What another commitment, or a draft's statement, says does not count.
    other = make_commitment()
    log_update(other, sources=[source], effective_on=timezone.localdate())
    assert selectors.commitment_last_changed(other)[0] == timezone.localdate()
    assert selectors.commitment_last_changed(commitment) == (timezone.localdate(), "day")


def test_a_tie_prefers_the_finer_precision(make_commitment, make_source, log_update):
    commitment = make_commitment(made_on=datetime.date(2024, 1, 1))
    source = make_source()
    log_update(
        commitment,
        sources=[source],
        effective_on=datetime.date(2025, 3, 1),
        effective_precision="month",
    )
    Statement.objects.create(
        text="Said.",
        speaker_description="An aide",
        said_on=datetime.date(2025, 3, 1),
        source=source,
    ).commitments.add(commitment)
    commitment.refresh_from_db()
    assert selectors.commitment_last_changed(commitment) == (datetime.date(2025, 3, 1), "day")


def test_the_access_date_and_the_page_cache_roll_over_at_midnight(client, cited, monkeypatch):
    """A page cached or revalidated yesterday is not today's: the day is part of the ETag
    and of the server cache key, and Last-Modified is never before today's midnight."""
    url = cited["commitment"].get_absolute_url()
    first = client.get(url)
    assert client.get(url)["X-Cache"] == "hit"
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: tomorrow)
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert again["X-Cache"] == "miss"
    assert again["ETag"] != first["ETag"]
    page = _Page(again.content.decode())
    words = format_vague_date(tomorrow, "day")
    assert page.textareas["cite-text"].endswith(f"accessed {words})")
    step = cited["statement"]
    assert page.textareas[f"cite-statement-{step.pk}"].endswith(f"(accessed {words})")


def test_a_paraphrase_is_not_quoted_and_says_so(make_commitment, make_source):
    commitment = make_commitment()
    statement = Statement.objects.create(
        text="France is doing too little.",
        kind=Statement.Kind.PARAPHRASE,
        speaker_description="Sources close to the operation",
        said_on=datetime.date(2025, 10, 1),
        said_precision="month",
        source=make_source(),
    )
    statement.commitments.add(commitment)
    today = datetime.date(2026, 1, 2)
    assert citations.step_citation(commitment, statement, today) == (
        f"Commitment Tracker, “{commitment.title}”, October 2025: Sources close to the "
        "operation (paraphrased): France is doing too little. "
        f"http://127.0.0.1:8000/commitments/{commitment.slug}/#statement-{statement.pk} "
        "(accessed 2 January 2026)"
    )
