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


def _actor_menu_reads(client) -> tuple[str, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        html = client.get("/commitments/").content.decode()
    reads = sum('FROM "commitments_actor"' in q["sql"] for q in queries.captured_queries)
    return html, reads


def test_the_menus_are_built_once_per_public_version_and_follow_every_write(
    client, make_commitment, make_actor, settings
):
    settings.PUBLIC_CACHE = False  # every request renders: the menu's own memo is tested
    make_commitment(actor=make_actor(name="Early Actor", slug="early-actor"))
    html, reads = _actor_menu_reads(client)
    assert '<option value="early-actor">Early Actor</option>' in html and reads == 1

    html, reads = _actor_menu_reads(client)  # nothing public changed: the menu is reused
    assert '<option value="early-actor">Early Actor</option>' in html and reads == 0

    make_commitment(actor=make_actor(name="Late Actor", slug="late-actor"))
    html, reads = _actor_menu_reads(client)  # a public write: built again, with the newcomer
    assert '<option value="late-actor">Late Actor</option>' in html and reads == 1
