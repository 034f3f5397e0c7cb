"""``{% load charts %}``: server-rendered bar charts (``_bar_chart.html`` draws them).

Owns the SVG geometry: where each bar, label and value sits. Every bar carries its label
and value as text, so no meaning rests on colour. Must not query: the tags chart what the
view already fetched (status counts, an indicator with its observations prefetched).
Dates and numbers are formatted by ``tracker``.
"""

from __future__ import annotations

from django import template

from .tracker import number

register = template.Library()

LABEL_WIDTH = 150
BAR_AREA = 220
VALUE_WIDTH = 80
ROW_HEIGHT = 30
BAR_HEIGHT = 20


def bar_chart(chart_id: str, title: str, rows: list[tuple], caption: str = "") -> dict:
    """``rows``: (label, value, text, css class). Returns the geometry the SVG needs."""
    largest = max([value for _label, value, _text, _css in rows] + [0])
    out = []
    for index, (label, value, text, css) in enumerate(rows):
        bar = round(BAR_AREA * float(value) / float(largest), 1) if largest else 0
        y = 6 + index * ROW_HEIGHT
        out.append(
            {
                "label": label,
                "text": text,
                "css": css,
                "bar": bar,
                "y": y,
                "text_y": y + BAR_HEIGHT - 5,
                "value_x": LABEL_WIDTH + 10 + bar + 6,
            }
        )
    return {
        "id": chart_id,
        "title": title,
        "caption": caption,
        "rows": out,
        "width": LABEL_WIDTH + 10 + BAR_AREA + VALUE_WIDTH,
        "height": 12 + len(rows) * ROW_HEIGHT,
        "label_x": LABEL_WIDTH,
        "bar_x": LABEL_WIDTH + 10,
        "bar_height": BAR_HEIGHT,
    }


@register.simple_tag
def status_chart(counts) -> dict:
    return bar_chart(
        "status-chart",
        "Published commitments by status",
        [(row["label"], row["count"], str(row["count"]), f"bar--{row['value']}") for row in counts],
    )


@register.simple_tag
def indicator_chart(indicator) -> dict:
    rows = []
    if indicator.comparison_value is not None:
        rows.append(
            (
                indicator.comparison_label or "Comparison",
                indicator.comparison_value,
                number(indicator.comparison_value),
                "bar--comparison",
            )
        )
    for observation in indicator.observations.all():
        rows.append(
            (
                observation.vague("observed_on"),
                observation.value,
                number(observation.value),
                "bar--observation",
            )
        )
    return bar_chart(f"indicator-{indicator.slug}", f"{indicator.name} ({indicator.unit})", rows)
