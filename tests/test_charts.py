"""Indicators drawn as values over time (issue 11): the chart geometry in pure Python (a
scale per unit, never shared across units, no chart for a single observation), then the
pages: the chart, its "as of" and its source, and the status counts shown once."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest

from commitments.models import Commitment, Indicator, Observation
from commitments.templatetags.charts import (
    HEIGHT,
    LEFT,
    PLOT_WIDTH,
    TOP,
    indicator_charts,
    nice_ceiling,
    series_chart,
    unit_key,
    unit_scales,
)
from commitments.vocabulary import Status

D = datetime.date


# --- Geometry, in pure Python ---------------------------------------------------------------


class Prefetched:
    """What a prefetched ``indicator.observations`` answers: ``all()``, no query."""

    def __init__(self, items):
        self.items = items

    def all(self):
        return self.items


JANUARY_2025 = D(2025, 1, 1)


def fake_indicator(slug, unit, values, *, comparison=None, start=JANUARY_2025):
    observations = [
        SimpleNamespace(
            observed_on=start.replace(month=start.month + i),
            observed_precision="month",
            value=Decimal(value),
            source=None,
        )
        for i, value in enumerate(values)
    ]
    return SimpleNamespace(
        name=slug.title(),
        slug=slug,
        unit=unit,
        comparison_value=None if comparison is None else Decimal(comparison),
        comparison_label="Whole of 2024" if comparison is not None else "",
        observations=Prefetched(observations),
        latest=observations[-1] if observations else None,
    )


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(36956, 50000), (42, 50), (50, 50), (51, 100), (1, 1), (19, 20), (22, 25), ("0.3", "0.5")],
)
def test_nice_ceiling_is_a_round_top_at_or_above_the_value(value, ceiling):
    assert nice_ceiling(Decimal(value)) == Decimal(ceiling)


def test_units_are_compared_without_case_or_stray_spaces():
    assert unit_key(" People ") == unit_key("people") == unit_key("PEOPLE")
    assert unit_key("people") != unit_key("boats")


def test_charts_of_one_unit_share_one_scale():
    arrivals = fake_indicator("arrivals", "people", [20000, 36956])
    returned = fake_indicator("returned", "People", [10, 42])
    scales = unit_scales([arrivals, returned])
    assert list(scales) == ["people"]
    assert scales["people"].low == 0 and scales["people"].high == 50000
    # 42 people is drawn small beside 36,956 people: not as tall.
    big = series_chart(arrivals, scales["people"])
    small = series_chart(returned, scales["people"])
    assert big["points"][-1]["y"] < TOP + 60
    assert small["points"][-1]["y"] > HEIGHT - 60
    assert small["ticks"] == big["ticks"]


def test_two_indicators_with_different_units_never_share_a_max():
    arrivals = fake_indicator("arrivals", "people", [20000, 36956])
    boats = fake_indicator("boats", "boats", [1, 2])
    scales = unit_scales([arrivals, boats])
    assert scales["people"].high == 50000
    assert scales["boats"].high == 2
    charts = {item["indicator"].slug: item["chart"] for item in indicator_charts([arrivals, boats])}
    # Each chart reaches the top of its own axis: 2 boats is not drawn against 36,956.
    assert charts["boats"]["points"][-1]["y"] == TOP
    assert [tick["text"] for tick in charts["boats"]["ticks"]] == ["0", "1", "2"]
    assert [tick["text"] for tick in charts["arrivals"]["ticks"]] == ["0", "25,000", "50,000"]
    assert charts["boats"]["unit"] == "boats" and charts["arrivals"]["unit"] == "people"


def test_a_comparison_value_fits_on_its_units_scale():
    arrivals = fake_indicator("arrivals", "people", [20000, 30000], comparison=60000)
    scale = unit_scales([arrivals])["people"]
    assert scale.high == 100000
    chart = series_chart(arrivals, scale)
    assert chart["comparison"]["text"] == "Whole of 2024: 60,000"
    assert TOP < chart["comparison"]["y"] < chart["points"][-1]["y"]


def test_a_single_observation_renders_no_chart_and_takes_no_part_in_the_scale():
    single = fake_indicator("returned", "people", [42])
    none = fake_indicator("nothing", "people", [])
    series = fake_indicator("arrivals", "people", [5, 8])
    assert unit_scales([single, none]) == {}
    assert unit_scales([single, series])["people"].high == 10
    charts = indicator_charts([single, none, series])
    assert charts[0]["chart"] is None and charts[0]["latest"].value == 42
    assert charts[1]["chart"] is None and charts[1]["latest"] is None
    assert charts[2]["chart"] is not None


def test_points_sit_at_their_dates_with_every_value_printed():
    indicator = fake_indicator("arrivals", "people", [100, 300, 200])
    chart = series_chart(indicator, unit_scales([indicator])["people"])
    xs = [point["x"] for point in chart["points"]]
    assert xs[0] == LEFT and xs[-1] == LEFT + PLOT_WIDTH and xs[0] < xs[1] < xs[2]
    assert [point["text"] for point in chart["points"]] == ["100", "300", "200"]
    assert all(point["labelled"] for point in chart["points"])
    assert chart["line"] == " ".join(f"{p['x']},{p['y']}" for p in chart["points"])
    assert chart["first_date"] == "January 2025" and chart["last_date"] == "March 2025"
    assert "January 2025: 100; February 2025: 300; March 2025: 200" in chart["title"]


def test_negative_values_get_an_axis_below_zero():
    indicator = fake_indicator("balance", "people", [-30, 40])
    scale = unit_scales([indicator])["people"]
    assert scale.low == -50 and scale.high == 50
    chart = series_chart(indicator, scale)
    assert chart["points"][0]["y"] > chart["zero_y"] > chart["points"][1]["y"]


# --- Pages ----------------------------------------------------------------------------------


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def charted(make_commitment, make_source):
    commitment = make_commitment(title="Return people under the deal")
    early = make_source(title="First count", outlet="Harbour News", url="https://example.org/1")
    late = make_source(title="Second count", outlet="Tide Times", url="https://example.org/2")
    returned = Indicator.objects.create(name="People returned", slug="returned", unit="people")
    boats = Indicator.objects.create(name="Boats seized", slug="seized", unit="boats")
    single = Indicator.objects.create(
        name="Officers deployed",
        slug="officers",
        unit="officers",
        comparison_label="Promised",
        comparison_value=800,
        comparison_source=early,
    )
    for indicator in (returned, boats, single):
        indicator.commitments.add(commitment)
    for indicator, values in ((returned, [12, 42]), (boats, [3, 7]), (single, [640])):
        for i, value in enumerate(values):
            Observation.objects.create(
                indicator=indicator,
                observed_on=D(2025, 8 + i, 1),
                observed_precision="month",
                value=value,
                source=[early, late][i],
            )
    return commitment


@pytest.mark.django_db
def test_commitment_page_draws_series_with_as_of_source_and_data_table(client, charted):
    html = html_of(client.get(charted.get_absolute_url()))
    section = html[html.index('id="indicators-heading"') : html.index('id="timeline-heading"')]
    # Two charts (two observations each), each its own unit on its axis.
    assert section.count('<svg role="img"') == 2
    assert 'aria-labelledby="indicator-returned-title"' in section
    assert ">people</text>" in section and ">boats</text>" in section
    assert re.search(r'class="chart__value">42</text>', section)
    # "As of" the latest observation at its precision, its source linked.
    assert (
        'in people, as of <time datetime="2025-09">September 2025</time>: '
        "<strong>42 people</strong>. Source: "
        '<a href="https://example.org/2">Tide Times: Second count</a>.' in section
    )
    # Every figure in a table a screen reader can read.
    table = re.search(
        r'<table class="visually-hidden">.*?People returned.*?</table>', section, re.S
    )
    assert table and "August 2025" in table.group(0) and ">12<" in table.group(0)
    assert '<a href="https://example.org/1">Harbour News: First count</a>' in table.group(0)
    # One observation: a number with its "as of" and source, not a chart.
    assert 'aria-labelledby="indicator-officers-title"' not in section
    assert (
        '<strong class="indicator__value">640 officers</strong>, as of '
        '<time datetime="2025-08">August 2025</time>. Source: '
        '<a href="https://example.org/1">Harbour News: First count</a>.' in section
    )
    assert "Promised: 800 officers" in section


@pytest.mark.django_db
def test_home_page_shows_the_seed_indicators_as_numbers_with_as_of_and_source(client, seeded):
    html = html_of(client.get("/"))
    section = html[html.index('id="indicators-heading"') :]
    # Each seed indicator has one observation: no one-bar charts.
    assert "<svg" not in section
    assert '<strong class="indicator__value">42 people</strong>' in section
    assert '<strong class="indicator__value">36,956 people</strong>' in section
    assert section.count('as of <time datetime="2025-10">October 2025</time>') == 3
    assert section.count("Source: GB News") + section.count(">GB News: ") >= 3
    assert "Whole of 2024: 36,816 people" in section


@pytest.mark.django_db
def test_indicator_text_is_escaped(client, make_commitment, make_source):
    commitment = make_commitment()
    source = make_source(outlet="<b>Outlet</b>", title='"Quoted" & <i>title</i>')
    indicator = Indicator.objects.create(
        name="<script>alert(1)</script>", slug="escaped", unit="<u>units</u>"
    )
    indicator.commitments.add(commitment)
    for i, value in enumerate([1, 2]):
        Observation.objects.create(
            indicator=indicator, observed_on=D(2025, 1 + i, 1), value=value, source=source
        )
    html = html_of(client.get(commitment.get_absolute_url()))
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)" in html
    assert "<u>units</u>" not in html and "<b>Outlet</b>" not in html
    assert "&lt;i&gt;title&lt;/i&gt;" in html


@pytest.mark.django_db
def test_home_page_shows_each_status_count_once_linked_to_the_list(client, seeded):
    html = html_of(client.get("/"))
    counts = {
        status: Commitment.objects.public().filter(status=status).count()
        for status in Status.values
    }
    for status in Status.values:
        link = f'href="/commitments/?status={status}"'
        assert html.count(link) == 1, status
        # The count appears once, beside its linked badge.
        beside = rf"{re.escape(link)}>(?:(?!</a>).)*</a>\s*<strong>{counts[status]}</strong>"
        assert re.search(beside, html, re.S), status
    # No second copy of the counts as a chart.
    assert "Published commitments by status" not in html
    assert html.count("<svg") == 0


@pytest.mark.django_db
def test_indicator_charts_keep_the_pages_query_counts_constant(
    client, charted, make_source, django_assert_max_num_queries
):
    from tests.test_public_pages import count_queries

    urls = ["/", charted.get_absolute_url()]
    few = {url: count_queries(client, django_assert_max_num_queries, url, 16) for url in urls}
    for n in range(6):
        indicator = Indicator.objects.create(name=f"Series {n}", slug=f"series-{n}", unit="ships")
        indicator.commitments.add(charted)
        for month in range(1, 13):
            Observation.objects.create(
                indicator=indicator,
                observed_on=D(2024, month, 1),
                observed_precision="month",
                value=month * (n + 1),
                source=make_source(),
            )
    html = html_of(client.get(charted.get_absolute_url()))
    assert html.count('<svg role="img"') == 2 + 6
    many = {url: count_queries(client, django_assert_max_num_queries, url, 16) for url in urls}
    assert few == many
