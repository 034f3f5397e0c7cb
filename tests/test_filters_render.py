"""The list's menus are written without the widget templates: the same markup as Django's
own Select (up to whitespace), escaped, with the chosen option selected."""

from __future__ import annotations

import re

from django import forms

from commitments.filters import QuickSelect

CHOICES = [("", "Anyone"), ('a"&<b>', "Name <img src=x onerror=alert(1)>"), ("x", "X")]


def _squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


def test_quick_select_writes_what_djangos_select_writes():
    for value in ("", "x", 'a"&<b>', "unknown"):
        attrs = {"id": "id_actor", "data-x": '"quoted"'}
        expected = forms.Select(choices=CHOICES).render("actor", value, attrs)
        written = QuickSelect(choices=CHOICES).render("actor", value, attrs)
        assert _squeeze(written) == _squeeze(expected), value


def test_quick_select_escapes_labels_and_values():
    html = QuickSelect(choices=CHOICES).render("actor", "x", {"id": "id_actor"})
    assert "<img" not in html and "&lt;img src=x" in html
    assert 'value="a&quot;&amp;&lt;b&gt;"' in html
    assert '<option value="x" selected>X</option>' in html
