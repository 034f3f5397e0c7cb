"""``{% load charts %}``: indicators drawn as values over time (``_indicators.html``).

Owns the SVG geometry of an indicator's chart: where each observation, axis label and
value sits. Honest by construction:

- an indicator is drawn as its values over time (one point per observation, joined in
  date order), on a value axis that starts at zero and is labelled with its unit;
- charts share a scale only when their units match: the charts of one page are grouped by
  unit (``unit_key``) and every chart of a group has the group's axis (``unit_scales``),
  so "42 people returned" is drawn small beside 36,956 arrivals, and a chart in boats
  never takes its height from one in people;
- an indicator with one observation is not a chart (a single point or bar says nothing):
  it is shown as a number, with its "as of" and its source.

Every value is printed as text, the chart has a text alternative and a data table, so no
meaning rests on the drawing alone. Must not query: it charts what the view fetched
(``selectors.indicators_with_observations``: observations prefetched, oldest first).
Dates and numbers are formatted by ``dates`` and ``tracker``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .. import languages
from ..dates import format_vague_date
from .tracker import number

register = template.Library()

#: The chart's box (SVG user units) and its margins: the value axis's labels on the left,
#: the date labels below, room above for the highest value's label.
WIDTH = 480
HEIGHT = 220
LEFT = 64
RIGHT = 24
TOP = 28
BOTTOM = 40
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
#: Past this many observations only the first, the last and the highest are labelled on
#: the drawing (every value stays in the data table).
LABEL_EVERY_POINT_UP_TO = 8


def unit_key(unit: str) -> str:
    """The unit as charts compare it: "People", " people " and "people" are one unit."""
    return " ".join((unit or "").split()).casefold()


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least ``value`` (> 0):
    a round top for the value axis (36,956 -> 50,000; 42 -> 50; 0.3 -> 0.5)."""
    value = Decimal(value)
    if value <= 0:
        return Decimal(1)
    power = Decimal(10) ** (value.adjusted())
    for step in (1, Decimal("2"), Decimal("2.5"), 5, 10):
        if value <= step * power:
            return (step * power).normalize()
    return (10 * power).normalize()  # pragma: no cover (10 * power always suffices)


@dataclass(frozen=True)
class Scale:
    """A value axis: from ``low`` (zero, or below for negative values) to ``high``."""

    low: Decimal
    high: Decimal

    def y(self, value: Decimal) -> float:
        share = float((self.high - Decimal(value)) / (self.high - self.low))
        return round(TOP + PLOT_HEIGHT * share, 1)

    @property
    def ticks(self) -> list[Decimal]:
        ticks = [self.low, (self.low + self.high) / 2, self.high]
        if self.low < 0 < self.high:
            ticks.insert(1, Decimal(0))
        return sorted(set(tick.normalize() for tick in ticks))


def _values(indicator) -> list[Decimal]:
    values = [observation.value for observation in indicator.observations.all()]
    if indicator.comparison_value is not None:
        values.append(indicator.comparison_value)
    return values


def is_charted(indicator) -> bool:
    """Drawn as a chart: at least two observations. One is shown as a number."""
    return len(indicator.observations.all()) >= 2


def unit_scales(indicators) -> dict[str, Scale]:
    """One value axis per unit: the charts of ``indicators`` that share a unit share it
    (their observations and comparison values all fit), and charts of different units
    never do. Indicators shown as a number are not charts and take no part."""
    extremes: dict[str, tuple[Decimal, Decimal]] = {}
    for indicator in indicators:
        if not is_charted(indicator):
            continue
        values = _values(indicator)
        key = unit_key(indicator.unit)
        low, high = extremes.get(key, (Decimal(0), Decimal(0)))
        extremes[key] = (min(low, *values), max(high, *values))
    scales = {}
    for key, (low, high) in extremes.items():
        top = nice_ceiling(high) if high > 0 else Decimal(0)
        bottom = -nice_ceiling(-low) if low < 0 else Decimal(0)
        if top == bottom:
            top = Decimal(1)
        scales[key] = Scale(low=bottom, high=top)
    return scales


def series_chart(indicator, scale: Scale) -> dict | None:
    """The geometry of ``indicator``'s chart on ``scale``, or None when it is not drawn as
    a chart (fewer than two observations)."""
    observations = list(indicator.observations.all())
    if len(observations) < 2:
        return None
    name = languages.translated(indicator, "name")
    unit = languages.translated(indicator, "unit")
    first, last = observations[0].observed_on, observations[-1].observed_on
    span = (last - first).days

    def x(day) -> float:
        if not span:
            return round(LEFT + PLOT_WIDTH / 2, 1)
        return round(LEFT + PLOT_WIDTH * (day - first).days / span, 1)

    highest = max(range(len(observations)), key=lambda i: observations[i].value)
    labelled = (
        set(range(len(observations)))
        if len(observations) <= LABEL_EVERY_POINT_UP_TO
        else {0, len(observations) - 1, highest}
    )
    points = []
    for index, observation in enumerate(observations):
        date = format_vague_date(observation.observed_on, observation.observed_precision)
        point = {
            "x": x(observation.observed_on),
            "y": scale.y(observation.value),
            "date": date,
            "text": number(observation.value),
            "labelled": index in labelled,
        }
        point["label_y"] = round(point["y"] - 8, 1)
        points.append(point)
    comparison = None
    if indicator.comparison_value is not None:
        y = scale.y(indicator.comparison_value)
        comparison = {
            "y": y,
            "label_y": round(y - 5, 1),
            "text": f"{languages.translated(indicator, 'comparison_label') or _('Comparison')}: "
            f"{number(indicator.comparison_value)}",
        }
    return {
        "id": f"indicator-{indicator.slug}",
        "title": _("%(name)s, in %(unit)s: %(figures)s")
        % {
            "name": name,
            "unit": unit,
            "figures": pgettext("between figures", "; ").join(
                _("%(date)s: %(value)s") % {"date": point["date"], "value": point["text"]}
                for point in points
            ),
        },
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": TOP + PLOT_HEIGHT,
        "unit": unit,
        "ticks": [
            {"y": scale.y(tick), "label_y": round(scale.y(tick) + 4, 1), "text": number(tick)}
            for tick in scale.ticks
        ],
        "zero_y": scale.y(Decimal(0)),
        "points": points,
        "line": " ".join(f"{point['x']},{point['y']}" for point in points),
        "first_date": points[0]["date"],
        "last_date": points[-1]["date"],
        "date_y": TOP + PLOT_HEIGHT + 24,
        "comparison": comparison,
    }


@register.simple_tag
def indicator_charts(indicators) -> list[dict]:
    """Each indicator with its chart (None when shown as a number), the charts of one
    unit on one scale: ``{% indicator_charts indicators as charted %}``."""
    indicators = list(indicators)
    scales = unit_scales(indicators)
    return [
        {
            "indicator": indicator,
            "chart": series_chart(indicator, scales[unit_key(indicator.unit)])
            if is_charted(indicator)
            else None,
            "observations": list(indicator.observations.all()),
            "latest": getattr(indicator, "latest", None),
        }
        for indicator in indicators
    ]
